"""Telling the trunks' media timeout from the caller's own hang-up by the first hangup request (pure)."""

from __future__ import annotations

import pytest

from ntpd112.calls.release import dropped_by_shutdown, q850_cause, released_for_no_media
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
        (1, True, True),  # rtp_timeout: AST_SOFTHANGUP_DEV
        (3, True, True),  # rtp_timeout while an application runs: DEV with the async-goto bit
        (32, True, False),  # a hangup asked over ARI or AMI: AST_SOFTHANGUP_EXPLICIT (a resumed call hung up)
        (16, True, False),  # the follow-up request of the service's own ARI hangup (reason normal)
        (0, True, False),  # no reason flag
        (3, False, False),  # the caller's BYE
        (16, None, False),  # the caller's BYE, no `soft` sent
    ],
)
def test_only_a_device_soft_hangup_is_a_media_timeout(cause: int, soft: bool | None, released: bool) -> None:
    assert released_for_no_media(_request(cause, soft)) is released


@pytest.mark.parametrize(
    ("cause", "soft", "q850", "dropped"),
    [
        (4, True, None, True),  # `core stop now`: AST_SOFTHANGUP_SHUTDOWN, the PBX dropped the caller
        (1, True, None, False),  # the media timeout: reason flags, no Q.850 cause (was recorded as cause 1)
        (32, True, None, False),  # a hangup over ARI or AMI
        (16, True, 16, False),  # the closing soft request after a BYE or a release: Normal Clearing
        (3, False, 3, False),  # a BYE's first request: the channel's stale cause (the closing 16 comes after it)
        (16, None, 16, False),  # a far-end hang-up, no `soft` sent: a Q.850 cause
        (0, False, None, False),
    ],
)
def test_a_soft_request_carries_reason_flags_and_a_shutdown_drops_the_caller(
    cause: int, soft: bool | None, q850: int | None, dropped: bool
) -> None:
    request = _request(cause, soft)
    assert q850_cause(request) == q850
    assert dropped_by_shutdown(request) is dropped
