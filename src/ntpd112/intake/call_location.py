"""What the INVITE says about where the caller is: the serving cell and the handset's own fix (pure).

Inputs are what intake reads over ARI: the raw P-Access-Network-Info and Geolocation headers, and Asterisk's
rendering of the PIDF-LO body, ``GEOLOC_PROFILE(location_info|format|method)``.

Asterisk quirk: the PIDF-LO body itself cannot be read over ARI. res_pjsip_geolocation parses it (libxml2) and
exposes the result through GEOLOC_PROFILE; when it cannot (broken XML, entity expansion, a by-reference http:
location, a civic address only), GEOLOC_PROFILE reads back empty while the Geolocation header is still there.
That case is reported as ``location_discarded`` with the header as the raw value.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict

from ntpd112.intake.errors import IntakeParseError
from ntpd112.intake.geoloc import LocationFix, parse_geoloc_profile
from ntpd112.intake.pani import CellId, cell_from_pani

PANI_HEADER = "P-Access-Network-Info"
GEOLOCATION_HEADER = "Geolocation"
GEOLOC_FIELDS = ("location_info", "format", "method")
# Access types without a 3GPP cell (Wi-Fi calling, DSL): no cell is no problem.
_NOT_A_PROBLEM = frozenset({"no_cell_id"})


class LocationProblem(BaseModel):
    """A location input that could not be used; `value` is the raw input."""

    model_config = ConfigDict(frozen=True)

    field: str
    code: str
    problem: str
    value: str


class CallLocation(BaseModel):
    model_config = ConfigDict(frozen=True)

    cell: CellId | None = None
    device_fix: LocationFix | None = None
    problems: tuple[LocationProblem, ...] = ()


def read_call_location(headers: Mapping[str, str], geoloc: Mapping[str, str]) -> CallLocation:
    """Never raises: every unusable input becomes a `LocationProblem`."""
    problems: list[LocationProblem] = []
    cell: CellId | None = None
    pani = headers.get(PANI_HEADER)
    if pani:
        try:
            # The P-CSCF's network-provided value cannot be spoofed by the handset: prefer it.
            cell = cell_from_pani(pani, prefer_network_provided=True)
        except IntakeParseError as error:
            if error.code not in _NOT_A_PROBLEM:
                problems.append(LocationProblem(field=PANI_HEADER, code=error.code, problem=error.message, value=pani))
    device_fix: LocationFix | None = None
    location_info = geoloc.get("location_info")
    if location_info:
        profile_format = geoloc.get("format", "")
        if profile_format.upper() != "GML":
            problems.append(
                LocationProblem(
                    field="GEOLOC_PROFILE",
                    code="unsupported_format",
                    problem=f"format {profile_format[:40]!r} carries no coordinates",
                    value=location_info,
                )
            )
        else:
            try:
                device_fix = parse_geoloc_profile(location_info, method=geoloc.get("method") or None)
            except IntakeParseError as error:
                problems.append(
                    LocationProblem(field="GEOLOC_PROFILE", code=error.code, problem=error.message, value=location_info)
                )
    elif headers.get(GEOLOCATION_HEADER):
        problems.append(
            LocationProblem(
                field=GEOLOCATION_HEADER,
                code="location_discarded",
                problem="Asterisk found no usable location for the Geolocation header",
                value=headers[GEOLOCATION_HEADER],
            )
        )
    return CallLocation(cell=cell, device_fix=device_fix, problems=tuple(problems))
