"""Why Asterisk released a 112 caller's channel, read from its hangup requests (pure).

Asterisk's quirk decides it: a *soft* ChannelHangupRequest's `cause` is not a Q.850 cause but the AST_SOFTHANGUP_*
reason flags given to ast_softhangup() (include/asterisk/channel.h); a request that is not soft carries the Q.850
cause (e.g. 16 for the caller's BYE). Taking a soft request's flags for a cause recorded a media-timeout release as
cause 1 and an Asterisk shutdown as cause 4.
"""

from __future__ import annotations

from dataclasses import dataclass

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


# -- why a channel the service did not follow was released, from its CDR ---------------------------------------
# The dialplan marks the caller's CDR userfield `ntpd112-release=?` when the call arrives, and its hangup handler
# (ntpd112-release) appends `ntpd112-release=CAUSE/SOURCE` (marks are separated by spaces) when the channel is
# released: CAUSE is HANGUPCAUSE and SOURCE says who hung up (CHANNEL(hangupsource)): `caller` (the caller's own
# network: a BYE), `other` (another channel, e.g. the operator's) or `none` (nobody: Asterisk itself released it,
# the media timeout or a shutdown).
RELEASE_MARK = "ntpd112-release="
RELEASE_SOURCES = ("caller", "other", "none")
# What res_pjsip_sdp_rtp sets before its media-timeout hangup (AST_CAUSE_REQUESTED_CHAN_UNAVAIL).
CAUSE_MEDIA_TIMEOUT = 44


@dataclass(frozen=True)
class CdrRelease:
    """What a caller's CDR says of its release; `source` None: the hangup handler never ran."""

    cause: int | None = None
    source: str | None = None

    @property
    def handler_ran(self) -> bool:
        return self.source is not None


def cdr_release(userfield: str | None) -> CdrRelease | None:
    """The last release mark of a CDR userfield; None when it has none (written before the dialplan marked it)."""
    marks = [part[len(RELEASE_MARK) :] for part in (userfield or "").split() if part.startswith(RELEASE_MARK)]
    if not marks:
        return None
    cause, _, source = marks[-1].partition("/")
    if source not in RELEASE_SOURCES:
        return CdrRelease()  # only the arrival mark (or a torn one): the handler did not run
    return CdrRelease(int(cause) if cause.isdigit() else None, source)


def cut_off_reason(release: CdrRelease | None, *, operator_answered: bool, operator_hung_up: bool) -> str | None:
    """The callback reason for a caller whose end the service did not see, or None when the call ended normally
    (the caller hung up, or the operator ended a call they had answered). When in doubt, the caller is called back:
    a release nobody asked for is a caller cut off."""
    if release is None or release.source == "caller" or operator_hung_up:
        return None
    if not release.handler_ran:
        # The channel went without running its hangup handler: Asterisk died under the call (a crash, a kill).
        # A `core stop now` does run it (cause 0, no hangup source, observed on 22.10): that reads as cut_off.
        return "asterisk_restart"
    if release.source == "other" and operator_answered:
        return None  # the operator's (or supervisor's) side ended the call they had answered
    return "no_media" if release.cause == CAUSE_MEDIA_TIMEOUT else "cut_off"
