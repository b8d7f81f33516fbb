"""Taking a call over for dispatch (AMI): caller and operator leave app_queue's bridge for our Stasis app.

When the operator asks for dispatch, caller and operator are bridged by app_queue, outside Stasis. One AMI
``Redirect`` with ``ExtraChannel`` moves both at once into context ``ntpd112-dispatch``, which hands each to our Stasis
app (dialplan/extensions_ntpd112.conf). Asterisk's dual redirect keeps the second channel alive while the bridge comes
apart, so neither leg drops.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from ntpd112.dispatch.models import DispatchError
from ntpd112.pbx.ami import AmiClient, AmiError, refusal
from ntpd112.pbx.ami_actions import AmiAction, DialplanLocation, Getvar, Redirect, Reply, Setvar
from ntpd112.pbx.ari import AriClient, AriError
from ntpd112.pbx.names import (
    DISPATCH_CALLER_ROLE,
    DISPATCH_CALLER_VARIABLE,
    DISPATCH_CONTEXT,
    DISPATCH_OPERATOR_ROLE,
)

T = TypeVar("T")


@dataclass(frozen=True)
class CallerWithOperator:
    caller_name: str  # channel names, as AMI wants them
    operator_name: str
    operator: str  # the operator's channel id


async def find_operator(ari: AriClient, ami: AmiClient, caller: str) -> CallerWithOperator:
    """The operator's channel bridged with the caller's. Raises DispatchError when the caller talks with nobody."""
    channel = await _ari_or_error(ari.get_channel(caller))
    if channel is None:
        raise DispatchError(409, "call_not_live", "the call has ended")
    peer = await _getvar(ami, channel.name, "BRIDGEPEER")
    if not peer:
        raise DispatchError(409, "not_with_operator", "the caller is not talking with an operator")
    channels = await _ari_or_error(ari.list_channels())
    operator = next((c.id for c in channels if c.name == peer), None)
    if operator is None:
        raise DispatchError(409, "not_with_operator", "the operator's channel is gone")
    return CallerWithOperator(channel.name, peer, operator)


async def redirect_into_dispatch(ami: AmiClient, caller: str, call: CallerWithOperator) -> None:
    """Both channels leave app_queue's bridge for our Stasis app; their StasisStarts follow."""
    await _ami_required(ami, Setvar(DISPATCH_CALLER_VARIABLE, caller, channel=call.operator_name))
    await _ami_required(
        ami,
        Redirect(
            call.caller_name,
            DialplanLocation(DISPATCH_CONTEXT, DISPATCH_CALLER_ROLE),
            extra=(call.operator_name, DialplanLocation(DISPATCH_CONTEXT, DISPATCH_OPERATOR_ROLE)),
        ),
    )


async def _getvar(ami: AmiClient, channel: str, variable: str) -> str:
    try:
        return await ami.send(Getvar(channel, variable)) or ""
    except AmiError as error:
        raise refusal(error, DispatchError) from None


async def _ami_required(ami: AmiClient, action: AmiAction[Reply]) -> None:
    try:
        await ami.require(action)
    except AmiError as error:
        raise refusal(error, DispatchError) from None


async def _ari_or_error(action: Awaitable[T]) -> T:
    try:
        return await action
    except AriError as error:
        raise DispatchError(503, "asterisk_unavailable", str(error)) from None
