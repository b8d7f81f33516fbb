"""The one pattern for the names this project gives PJSIP objects: operators' and agency desks' phones (one name
space in AstDB), supervisors' endpoints and trunks in the room and trunk files.

It lives in the lowest layer because the room configuration (domain) names endpoints too and may not import pbx.
Section headers, dial strings and caller ids are built from these names: nothing in them can break out of those.
The routing table refers to endpoints with its own, wider pattern (`routing.agencies.ENDPOINT_PATTERN`: any
endpoint Asterisk may know, including ones configured outside the service); every SipName also matches it.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

SIP_NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,39}$"
SipName = Annotated[str, StringConstraints(pattern=SIP_NAME_PATTERN)]


def endpoint_of(channel: str | None) -> str | None:
    """`PJSIP/trunk-xl-0000002d` -> `trunk-xl` (a PJSIP channel's name is its endpoint plus a sequence suffix)."""
    if not channel or not channel.startswith("PJSIP/"):
        return None
    name, _, _ = channel.removeprefix("PJSIP/").rpartition("-")
    return name or None
