"""What intake reads from a 112 call's channel: the INVITE's headers and Asterisk's GEOLOC_PROFILE fields.

The shipped dialplan copies them into channel variables before Stasis() and ari.conf lists those in `channelvars`,
so the StasisStart event (and every channel ARI lists) carries them: no round trip. A channel without them (an
Asterisk whose dialplan or ari.conf was not rendered again after an upgrade, a call that entered before) is read over
ARI, one GET per value, all at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from ntpd112.intake.call_location import GEOLOC_FIELDS
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.ari_models import Channel
from ntpd112.pbx.names import INTAKE_GEOLOC_VARIABLES, INTAKE_HEADER_VARIABLES, INTAKE_HEADERS_LENGTH_VARIABLE

# SIP headers read at intake. Values are kept raw on the timeline; parsing happens in intake/.
INTAKE_HEADERS = tuple(INTAKE_HEADER_VARIABLES)
MAX_RAW_HEADER = 8192
# Where the values came from, on the `offered` event: the StasisStart's channel variables, or GETs over ARI.
ReadingSource = Literal["channel_variables", "ari"]


@dataclass(frozen=True)
class ChannelReadings:
    """What intake read from the channel: SIP headers, GEOLOC_PROFILE fields, and whether a header was too long
    for Asterisk to hand over."""

    headers: dict[str, str]
    geoloc: dict[str, str]
    oversized_header: bool
    source: ReadingSource

    @classmethod
    def of(cls, values: Mapping[str, str | None], *, oversized_header: bool, source: ReadingSource) -> ChannelReadings:
        """From the values by header name and GEOLOC_PROFILE field; an empty value is no value."""
        kept = {name: value[:MAX_RAW_HEADER] for name, value in values.items() if value}
        return cls(
            headers={name: kept[name] for name in INTAKE_HEADERS if name in kept},
            geoloc={name: kept[name] for name in GEOLOC_FIELDS if name in kept},
            oversized_header=oversized_header,
            source=source,
        )


def readings_from_variables(channelvars: Mapping[str, str]) -> ChannelReadings | None:
    """From the channel variables the dialplan set; None when it did not set them (the length is always a number
    once it has)."""
    length = channelvars.get(INTAKE_HEADERS_LENGTH_VARIABLE, "")
    if not length.isdigit():
        return None
    sources = INTAKE_HEADER_VARIABLES | INTAKE_GEOLOC_VARIABLES
    values = {name: channelvars.get(variable) for name, variable in sources.items()}
    return ChannelReadings.of(values, oversized_header=int(length) == 0, source="channel_variables")


async def read_over_ari(ari: AriClient, uniqueid: str) -> ChannelReadings:
    """Every value with its own GET, all at once (one ARI round trip of latency)."""

    async def read(variable: str) -> str | None:
        try:
            return await ari.get_variable(uniqueid, variable)
        except AriError:
            return None

    variables = [f"PJSIP_HEADER(read,{name})" for name in INTAKE_HEADERS]
    variables += [f"GEOLOC_PROFILE({name})" for name in GEOLOC_FIELDS]
    # Asterisk quirk: PJSIP_HEADER(read) of a header longer than the function's read buffer (4 KB) fails exactly
    # like a missing header ("Not enough buffer space in pjsip_hdr_print_on"). PJSIP_HEADERS() prints every header
    # into the same buffer, so it fails only then (an INVITE always has headers): the oversized header stays
    # unreadable, but its existence is on record.
    variables.append("PJSIP_HEADERS()")
    *values, header_names = await asyncio.gather(*(read(variable) for variable in variables))
    names = (*INTAKE_HEADERS, *GEOLOC_FIELDS)
    return ChannelReadings.of(
        dict(zip(names, values, strict=True)), oversized_header=header_names is None, source="ari"
    )


async def read_channel(ari: AriClient, channel: Channel) -> ChannelReadings:
    return readings_from_variables(channel.channelvars) or await read_over_ari(ari, channel.id)
