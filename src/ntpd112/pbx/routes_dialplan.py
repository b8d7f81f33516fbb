"""The fail-safe routes as an Asterisk dialplan include: Asterisk alone routes while the service is down."""

from __future__ import annotations

import re

from ntpd112.pbx.names import ROUTES_CONTEXT
from ntpd112.routing.agencies import (
    DIAL_NUMBER_PATTERN,
    ENDPOINT_PATTERN,
    ExternalNumber,
    RingStrategy,
)
from ntpd112.routing.categories import CATEGORY_ID_PATTERN
from ntpd112.routing.matching import RouteStep, failsafe_routes, resolve_chain
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import fingerprint


class DialplanRenderError(ValueError):
    """A value that would reach the dialplan is not safe (only possible when validation was bypassed)."""


_SAFE_TOKEN = {
    "category": re.compile(CATEGORY_ID_PATTERN[1:-1]),
    "rule": re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?"),
    "endpoint": re.compile(ENDPOINT_PATTERN[1:-1]),
    "number": re.compile(DIAL_NUMBER_PATTERN[1:-1]),
}


def _safe(kind: str, value: object) -> str:
    # Defence in depth: the models already refuse these values, but a table built with model_construct() or
    # mutated after validation must still never put dialplan syntax into the file Asterisk executes.
    if not isinstance(value, str) or _SAFE_TOKEN[kind].fullmatch(value) is None:
        raise DialplanRenderError(f"unsafe {kind} for the dialplan: {value!r}")
    return value


def _safe_int(kind: str, value: object, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise DialplanRenderError(f"unsafe {kind} for the dialplan: {value!r}")
    return value


def _dial_lines(step: RouteStep) -> list[str]:
    target = step.target
    timeout = _safe_int("timeout", step.timeout, 3600)
    if isinstance(target, ExternalNumber):
        devices = [f"PJSIP/{_safe('number', target.number)}@{_safe('endpoint', target.trunk)}"]
    elif target.strategy is RingStrategy.RINGALL:
        devices = ["&".join(f"PJSIP/{_safe('endpoint', e)}" for e in target.endpoints)]
    else:
        devices = [f"PJSIP/{_safe('endpoint', e)}" for e in target.endpoints]
    lines = []
    for device in devices:
        lines.append(f" same => n,Dial({device},{timeout})")
        lines.append(' same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)')
    return lines


def render_dialplan(table: RoutingTable) -> str:
    """Render the fail-safe routes as an Asterisk dialplan include, context ``ntpd112-routes``.

    Format (one extension per dispatchable category, plus ``default``)::

        [ntpd112-routes]
        exten => cat-medical,1,NoOp(ntpd112 fail-safe: category medical, rule medical)
         same => n,Dial(PJSIP/psc119-desk1&PJSIP/psc119-desk2,30)     ; hunt group, ringall
         same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
         same => n,Dial(PJSIP/119@agency-trunk,30)                   ; external number via trunk
         same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)
         same => n,Gosub(ntpd112-routes,default,1)                   ; chain exhausted
         same => n,Return(${GOSUB_RETVAL})
         same => n(done),Return(${DIALSTATUS})

    A ``linear`` hunt group gives one ``Dial`` per endpoint, each with the full timeout. Call it as a
    subroutine, ``Gosub(ntpd112-routes,cat-<category>,1)``: it returns (``GOSUB_RETVAL`` = last DIALSTATUS)
    only when nobody answered, so the including dialplan decides what comes next (for example back to the
    queue). When a target answers, ``Dial`` without the ``g`` option ends the caller's dialplan when the
    bridge ends; the ``GotoIf`` after each ``Dial`` only guards against that changing. Time windows and areas
    are ignored (see :func:`failsafe_routes`): emergencies route 24 hours, non-emergency categories go to
    ``default``.

    Every interpolated value (category and rule ids, endpoint and trunk names, numbers, timeouts, version) is
    re-checked against a strict pattern here, so nothing can inject dialplan syntax;
    :class:`DialplanRenderError` otherwise. Extension names use ``-`` only in the fixed ``cat-`` prefix:
    Asterisk ignores dashes when matching extensions, and category ids contain none, so no two categories can
    collide.
    """
    version = _safe_int("version", table.version, 2**63)
    lines = [
        f"; ntpd112 fail-safe routes, generated from routing table version {version}"
        f" (sha256 {fingerprint(table)[:16]}).",
        "; Do not edit: ntpd112 rewrites this file whenever the routing table changes.",
        "; Use: Gosub(ntpd112-routes,cat-<category>,1); returns only when nobody answered.",
        "; Time windows and areas are ignored: emergencies route 24 hours, other categories go to 'default'.",
        "",
        f"[{ROUTES_CONTEXT}]",
    ]
    for route in failsafe_routes(table):
        category = _safe("category", route.category)
        if route.rule_id is None:
            why = "emergency, no area-wide rule" if route.emergency else "not an emergency"
            lines.append(f"exten => cat-{category},1,NoOp(ntpd112 fail-safe: category {category}, {why})")
            lines.append(f" same => n,Gosub({ROUTES_CONTEXT},default,1)")
            lines.append(" same => n,Return(${GOSUB_RETVAL})")
        else:
            rule_id = _safe("rule", route.rule_id)
            lines.append(f"exten => cat-{category},1,NoOp(ntpd112 fail-safe: category {category}, rule {rule_id})")
            for step in route.steps:
                lines += _dial_lines(step)
            lines.append(f" same => n,Gosub({ROUTES_CONTEXT},default,1)")
            lines.append(" same => n,Return(${GOSUB_RETVAL})")
            lines.append(" same => n(done),Return(${DIALSTATUS})")
        lines.append("")
    lines.append("exten => default,1,NoOp(ntpd112 fail-safe: default chain)")
    for step in resolve_chain(table, table.default_chain, None):
        lines += _dial_lines(step)
    lines.append(" same => n(done),Return(${DIALSTATUS})")
    return "\n".join(lines) + "\n"
