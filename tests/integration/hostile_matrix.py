"""The hostile matrix's sending half (tests/integration/test_hostile_api.py), in a module of its own so that worker
processes can import it: the raw client then runs beside the service, not in its process.

Each probe comes from a loopback address of its own (127.1.x.y): the wrong credentials of one probe never count
towards another's per-address attempt limit, as they would from one address (the 21st wrong bearer token a minute
would turn every later probe into 429 too_many_attempts, testing nothing else)."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field

from tests.integration.raw_http import RawAnswer, raw_request
from tests.integration.schema_fuzz import HEALTH_PATHS

ERROR_ID = re.compile(r"^[a-z][a-z0-9_]{1,60}$")


@dataclass(frozen=True)
class Probe:
    kind: str
    method: str
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""


@dataclass(frozen=True)
class RouteProbes:
    path: str  # the route's path template
    protected: bool  # needs a signed-in user or a token
    probes: list[Probe]
    first_address: int  # the number of the first probe's source address (probe_address)


@dataclass
class MatrixResult:
    sent: int = 0
    problems: list[str] = field(default_factory=list)


def probe_address(number: int) -> str:
    return f"127.1.{number // 250}.{number % 250 + 1}"


def problem(path: str, probe: Probe, answer: RawAnswer) -> str | None:
    label = f"{probe.kind}: {probe.method} {probe.target[:120]!r} -> {answer.status}"
    if answer.status >= 500:
        if answer.status == 503 and path in HEALTH_PATHS:
            return None
        return label + f" {answer.body[:300]!r}"
    if answer.status >= 400:
        try:
            error_id = answer.json()["error"]["id"]
        except (ValueError, KeyError, TypeError):
            return label + f" is not a JSON refusal: {answer.body[:200]!r}"
        if not ERROR_ID.match(error_id):
            return label + f" has no stable error id: {error_id!r}"
    if answer.headers.get("x-content-type-options") != "nosniff":
        return label + " lacks the security headers"
    return None


def wrong_status(route: RouteProbes, probe: Probe, status: int) -> str | None:
    """The refusals a probe's kind must meet, whatever else it does."""
    if route.protected and probe.kind in ("missing credentials", "non-utf8 credentials") and status not in (400, 401):
        return f"{probe.kind}: {route.path} -> {status}, not 400 or 401"
    if route.protected and probe.kind.startswith("revoked") and status != 401:
        return f"{probe.kind}: {route.path} -> {status}, not 401"
    if probe.kind == "wrong role" and status != 403:
        return f"wrong role: {route.path} -> {status}, not 403"
    return None


def send_probes(routes: list[RouteProbes], port: int) -> MatrixResult:
    return asyncio.run(_send_probes(routes, port))


async def _send_probes(routes: list[RouteProbes], port: int) -> MatrixResult:
    result = MatrixResult()
    for route in routes:
        for number, probe in enumerate(route.probes, route.first_address):
            # Replay: every hostile request twice; the second answer must be no worse than the first.
            for _ in range(2):
                source = probe_address(number)
                answer = await raw_request(port, probe.method, probe.target, probe.headers, probe.body, source=source)
                result.sent += 1
                if (found := problem(route.path, probe, answer)) is not None:
                    result.problems.append(found)
            if (found := wrong_status(route, probe, answer.status)) is not None:
                result.problems.append(found)
    return result
