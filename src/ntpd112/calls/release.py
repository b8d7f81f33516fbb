"""Why Asterisk released a 112 caller's channel, read from its hangup requests (pure).

Asterisk's quirk decides it: a *soft* ChannelHangupRequest's `cause` is not a Q.850 cause but the AST_SOFTHANGUP_*
reason flags given to ast_softhangup() (include/asterisk/channel.h); a request that is not soft carries the Q.850
cause (e.g. 16 for the caller's BYE). Taking a soft request's flags for a cause recorded a media-timeout release as
cause 1 and an Asterisk shutdown as cause 4.
"""

from __future__ import annotations

from ntpd112.pbx.ari_models import ChannelHangupRequest

# AST_SOFTHANGUP_DEV: a hangup the channel driver asked for (here: no RTP). AST_SOFTHANGUP_SHUTDOWN: Asterisk is
# stopping (`core stop now`, a restart) and hangs up every channel.
SOFTHANGUP_DEV = 0x01
SOFTHANGUP_SHUTDOWN = 0x04


# Observed on Asterisk 22.10 (the service's debug log, "hangup requested"): a caller's BYE comes as a request that is
# not soft with the channel's stale HANGUPCAUSE (3 after the overflow's failed Dial), then a soft request with 16;
# the media timeout as soft 1 then soft 16; `core stop now` as soft 4. The closing soft 16 is the call's Q.850 cause
# (Normal Clearing), not the APPUNLOAD flag: only a soft cause with another flag bit set is reason flags.
_REASON_FLAG_BITS = ~0x10


def q850_cause(request: ChannelHangupRequest) -> int | None:
    """The request's Q.850 cause; None when none was given or a soft request's `cause` is reason flags."""
    if not request.cause or (request.soft and request.cause & _REASON_FLAG_BITS):
        return None
    return request.cause


def dropped_by_shutdown(request: ChannelHangupRequest) -> bool:
    """Whether Asterisk hung the caller up because it was shutting down: the caller did not end the call, the PBX
    dropped it, and the caller must be called back."""
    return bool(request.soft) and request.cause is not None and bool(request.cause & SOFTHANGUP_SHUTDOWN)


def released_for_no_media(first_request: ChannelHangupRequest) -> bool:
    """Whether the first hangup request of a 112 caller's channel is the trunks' media timeout (rtp_timeout).

    The media timeout is a device-side soft hangup (AST_SOFTHANGUP_DEV, bit 0: seen as 1, or 3 with the async-goto
    bit); a hangup asked over ARI or AMI is AST_SOFTHANGUP_EXPLICIT (32, seen when a resumed call was hung up over
    ARI), and the service's ARI hangup's follow-up request carries 16. The caller's BYE comes as a request that is
    not `soft`.
    """
    return bool(first_request.soft) and first_request.cause is not None and bool(first_request.cause & SOFTHANGUP_DEV)
