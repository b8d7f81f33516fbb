"""What dispatch does to channels it lets go of, and how it rings an agency (ARI).

Letting go (hanging up, destroying a bridge, stopping the music, handing the caller back to the queue) is best
effort: it fails only when the channel or bridge is gone already, and the ChannelDestroyed on its way says so.
"""

from __future__ import annotations

import contextlib

from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.names import (
    DISPATCH_AGENCY_ROLE,
    DISPATCH_STASIS_ARG,
    ENTRY_EXTENSION,
    HOLD_MUSIC_CLASS,
    QUEUE_CONTEXT,
)

AGENCY_CALLER_ID = '"NTPD 112" <112>'
# Our own ring timer decides "no answer"; Asterisk's originate timeout is only a backstop, so it is longer.
ORIGINATE_TIMEOUT_MARGIN = 5


class Telephony:
    def __init__(self, ari: AriClient) -> None:
        self._ari = ari

    async def ring(self, leg: str, device: str, *, caller: str, timeout: int) -> None:
        """Originate `leg` on `device`; once answered it enters our app as the agency of `caller`'s dispatch.
        Raises AriError when the leg cannot even start (no such endpoint, no contact, trunk down)."""
        await self._ari.originate(
            leg,
            device,
            f"{DISPATCH_STASIS_ARG},{DISPATCH_AGENCY_ROLE},{caller}",
            timeout=timeout + ORIGINATE_TIMEOUT_MARGIN,
            caller_id=AGENCY_CALLER_ID,
            originator=caller,
        )

    async def hang_up(self, channel: str, reason: str = "normal") -> None:
        with contextlib.suppress(AriError):
            await self._ari.hangup(channel, reason)

    async def destroy_bridge(self, bridge: str) -> None:
        with contextlib.suppress(AriError):
            await self._ari.destroy_bridge(bridge)

    async def set_hold_music(self, bridge: str, *, on: bool) -> None:
        with contextlib.suppress(AriError):
            if on:
                await self._ari.start_bridge_moh(bridge, HOLD_MUSIC_CLASS)
            else:
                await self._ari.stop_bridge_moh(bridge)

    async def back_to_queue(self, caller: str) -> None:
        """The caller leaves our app for the operators' queue."""
        with contextlib.suppress(AriError):
            await self._ari.continue_in_dialplan(caller, QUEUE_CONTEXT, ENTRY_EXTENSION)

    async def leave_bridge(self, bridge: str, channel: str) -> None:
        with contextlib.suppress(AriError):
            await self._ari.remove_from_bridge(bridge, channel)
