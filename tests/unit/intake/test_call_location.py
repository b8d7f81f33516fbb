"""The INVITE's location inputs combined (pure): which become a cell or a device fix, which become problems."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntpd112.intake.call_location import read_call_location
from ntpd112.store.journal import AmlClaimRecord, CallRecord, FixRecord, Record, _from_json, _to_json
from ntpd112.store.locations import fix_columns

CIRCLE = 'shape="Circle",crs="2d",pos="-6.2885 106.718",radius="150"'
LTE = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4"


def test_cell_and_device_fix_are_read_together() -> None:
    location = read_call_location(
        {"P-Access-Network-Info": LTE, "Geolocation": "<cid:x@y>"},
        {"location_info": CIRCLE, "format": "GML", "method": "GPS"},
    )
    assert location.cell is not None and (location.cell.radio, location.cell.cell_id) == ("lte", 0x0B2C3D4)
    assert location.device_fix is not None and location.device_fix.radius_m == 150.0
    assert location.device_fix.method == "GPS"
    assert location.problems == ()


def test_network_provided_cell_wins_over_the_handsets() -> None:
    handset = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D4"
    network = "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=5101000A10B2C3D5; network-provided"
    location = read_call_location({"P-Access-Network-Info": f"{handset}, {network}"}, {})
    assert location.cell is not None and location.cell.cell_id == 0x0B2C3D5


@pytest.mark.parametrize(
    ("headers", "geoloc", "field", "code"),
    [
        (
            {"P-Access-Network-Info": "3GPP-E-UTRAN-FDD; utran-cell-id-3gpp=12"},
            {},
            "P-Access-Network-Info",
            "bad_cell_id_length",
        ),
        ({"Geolocation": "<cid:x@y>"}, {}, "Geolocation", "location_discarded"),
        (
            {},
            {"location_info": 'shape="Circle",pos="95 10",radius="5"', "format": "GML"},
            "GEOLOC_PROFILE",
            "bad_latitude",
        ),
        ({}, {"location_info": 'country="ID"', "format": "civicAddress"}, "GEOLOC_PROFILE", "unsupported_format"),
    ],
)
def test_unusable_inputs_become_problems_with_the_raw_value(
    headers: dict[str, str], geoloc: dict[str, str], field: str, code: str
) -> None:
    [problem] = read_call_location(headers, geoloc).problems
    assert (problem.field, problem.code) == (field, code)
    assert problem.value in {*headers.values(), *geoloc.values()}


def test_access_without_a_cell_is_no_problem() -> None:
    assert read_call_location({"P-Access-Network-Info": "IEEE-802.11; i-wlan-node-id=ffffff"}, {}).problems == ()


@given(
    st.dictionaries(st.sampled_from(["P-Access-Network-Info", "Geolocation"]), st.text(max_size=300)),
    st.dictionaries(st.sampled_from(["location_info", "format", "method"]), st.text(max_size=300)),
)
def test_any_input_is_read_or_reported_never_raised(headers: dict[str, str], geoloc: dict[str, str]) -> None:
    read_call_location(headers, geoloc)


def test_new_journal_kinds_survive_the_spool_and_old_lines_still_read() -> None:
    location = read_call_location({"P-Access-Network-Info": LTE}, {"location_info": CIRCLE, "format": "GML"})
    now = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
    columns = fix_columns(location.device_fix, source="pidf", channel="sip", received_at=now, raw=CIRCLE)
    records: list[Record] = [
        FixRecord(uuid.uuid4(), uuid.uuid4(), columns),
        FixRecord(
            uuid.uuid4(),
            uuid.uuid4(),
            fix_columns(None, source="cell", channel="sip", received_at=now, raw=LTE, cell=location.cell),
        ),
        AmlClaimRecord(uuid.uuid4(), "+6281234567890", now),
    ]
    assert [_from_json(_to_json(r)) for r in records] == records
    call_id = uuid.uuid4()
    old_line = json.dumps({"kind": "call", "call_id": str(call_id), "uniqueid": "1.1", "fields": {"trunk": "xl"}})
    assert _from_json(old_line) == CallRecord(call_id, "1.1", {"trunk": "xl"})
