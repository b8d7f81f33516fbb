"""Telling the trunks' media timeout from the caller's own hang-up by the first hangup request (pure)."""

from __future__ import annotations

import pytest

from ntpd112.calls.handler import released_for_no_media
from ntpd112.pbx.ari_models import ChannelHangupRequest


def _request(cause: int | None, soft: bool | None) -> ChannelHangupRequest:
    # As Asterisk 22 sends them (captured from the local Asterisk); `soft` is absent for a far-end hang-up.
    event = {"type": "ChannelHangupRequest", "channel": {"id": "1.1", "name": "PJSIP/trunk-telkomsel-0000000b"}}
    return ChannelHangupRequest.model_validate(
        event | ({"cause": cause} if cause is not None else {}) | ({"soft": soft} if soft is not None else {})
    )


@pytest.mark.parametrize(
    ("cause", "soft", "released"),
    [
        (1, True, True),  # rtp_timeout during a failed overflow Dial: the cause is the Dial's leftover
        (0, True, True),  # rtp_timeout before any application set a cause
        (3, False, False),  # the caller's BYE
        (16, None, False),  # the caller's BYE, no `soft` sent
        (16, True, False),  # the service hung the caller up itself (ARI, reason normal)
    ],
)
def test_only_a_soft_hangup_the_service_did_not_ask_for_is_a_media_timeout(
    cause: int, soft: bool | None, released: bool
) -> None:
    assert released_for_no_media(_request(cause, soft)) is released
