"""Schemathesis's half of tests/integration/test_hostile_api.py, in a module of its own so that other processes can
import it.

Hypothesis's generation costs more CPU than the service's answers, and it does not depend on them (no shrinking
phase: a 5xx is recorded, not raised). So the requests are planned in a background process at the lowest CPU
priority from the moment the session's tests are collected, while the tests before this one mostly wait on
Asterisk; the test then sends them from two worker processes while the service answers in its own.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import pickle
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import hypothesis
import requests
import schemathesis

EXAMPLES_PER_OPERATION = 8
HEALTH_PATHS = ("/health", "/api/health")  # 503 there means "down", not a crash: only when a component is down
ROLES = ("anonymous", "operator", "supervisor", "admin", "agency")
# Planned without a service: the base URL and each role's token are put in when the requests are sent.
_BASE = "http://service.invalid"
_TOKEN_OF = "Bearer role-token:"
# Requests without a token of the test's users (anonymous ones, and hypothesis's own Authorization values) come from
# a second loopback address: the wrong tokens among them reach the per-address attempt limit there within a minute,
# and the users' requests from 127.0.0.1 must go on reaching the routes, not 429 too_many_attempts.
STRANGER_ADDRESS = "127.0.0.2"


@dataclass(frozen=True)
class PlannedRequest:
    operation: str  # the operation's label, e.g. "GET /api/calls"
    path: str  # the operation's path template, e.g. /api/calls/{call_id}
    role: str
    mode: str  # hypothesis's generation mode: positive or negative
    kwargs: dict[str, Any]  # requests.request's keyword arguments


@dataclass(frozen=True)
class Plan:
    document: dict[str, Any]  # the OpenAPI document the requests were planned from
    operations: list[str]  # the labels of all its operations
    requests: list[PlannedRequest]


@dataclass
class FuzzResult:
    """What one worker's requests did."""

    reached: set[tuple[str, str]]  # (operation, role) pairs that reached the service
    failures: list[str]


def plan(document: dict[str, Any]) -> list[PlannedRequest]:
    """Every operation of the document in both generation modes, each generated case once per role.

    Derandomized, hypothesis generated the very same cases for each role when it ran once per role (the seed comes
    from the test function, the same for all): generating them once plans the same requests for a fifth of the
    work."""
    schema = schemathesis.openapi.from_dict(document)
    planned: list[PlannedRequest] = []
    role_headers = {role: {} if role == "anonymous" else {"Authorization": _TOKEN_OF + role} for role in ROLES}

    def plan_one(operation: Any, mode: schemathesis.GenerationMode) -> None:
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def generate(case: schemathesis.Case) -> None:
            for role, headers in role_headers.items():
                kwargs = case.as_transport_kwargs(base_url=_BASE, headers=headers)
                planned.append(PlannedRequest(operation.label, operation.path, role, mode.value, kwargs))

        try:
            generate()
        except hypothesis.errors.Unsatisfiable:
            # Negative mode on an operation with nothing to get wrong (no parameters, no body): nothing to send.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label

    for result in schema.get_all_operations():
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            plan_one(result.ok(), mode)
    return planned


def _plan_into(path: Path) -> None:
    os.nice(19)  # only the CPU the other tests leave idle
    from ntpd112.web.app import api_document

    document = api_document()
    operations = [result.ok().label for result in schemathesis.openapi.from_dict(document).get_all_operations()]
    path.write_bytes(pickle.dumps(Plan(document, operations, plan(document))))


class Planning:
    """`plan(api_document())` in a background process, started once per session, with the document's operations:
    schemathesis's OpenAPI machinery is imported there, not in the test's process where the service runs."""

    def __init__(self) -> None:
        self._path = Path(tempfile.mkdtemp(prefix="ntpd112-fuzz-")) / "planned.pickle"
        # Daemonic: a session that ends before the fuzz test (deselected, -x) does not wait for the planning.
        self._process = multiprocessing.get_context("spawn").Process(target=_plan_into, args=(self._path,), daemon=True)
        self._process.start()

    def result(self, timeout: float) -> Plan:
        self._process.join(timeout)
        assert self._process.exitcode == 0, f"planning the fuzz requests failed or overran: {self._process.exitcode}"
        planned: Plan = pickle.loads(self._path.read_bytes())  # noqa: S301 (our own child wrote it)
        return planned


_planning: Planning | None = None


def start_planning() -> None:
    global _planning
    if _planning is None:
        _planning = Planning()


def planned_requests(timeout: float = 300) -> Plan:
    start_planning()
    assert _planning is not None
    return _planning.result(timeout)


class _Connection:
    """One kept-alive HTTP/1.1 connection, from `address` when given. http.client, not a requests session: the two
    senders' own CPU (requests' adapters, urllib3's pool, cookie jars) was what bounded the test, not the service."""

    def __init__(self, base_url: str, address: str | None = None) -> None:
        url = urlsplit(base_url)
        self._host, self._port = url.hostname or "127.0.0.1", url.port
        self._source = (address, 0) if address is not None else None
        self._connection: http.client.HTTPConnection | None = None

    def send(self, prepared: requests.PreparedRequest) -> tuple[int, bytes]:
        reused = self._connection is not None
        try:
            return self._send(prepared)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
            # The service closed the kept-alive connection between two requests (as urllib3 would notice before
            # reusing it): once more on a new one.
            if self._connection is not None:
                self._connection.close()
            self._connection = None
            return self._send(prepared)

    def _send(self, prepared: requests.PreparedRequest) -> tuple[int, bytes]:
        if self._connection is None:
            self._connection = http.client.HTTPConnection(
                self._host, self._port, timeout=30, source_address=self._source
            )
        body = prepared.body.encode() if isinstance(prepared.body, str) else prepared.body
        self._connection.request(prepared.method or "GET", prepared.path_url, body, dict(prepared.headers))
        response = self._connection.getresponse()
        content = response.read()
        if response.will_close:  # the service said Connection: close (or HTTP/1.0): the next request needs a new one
            self._connection.close()
            self._connection = None
        return response.status, content


def send(planned: list[PlannedRequest], base_url: str, tokens: dict[str, str]) -> FuzzResult:
    """Send the planned requests with the service's address and the roles' tokens; a 5xx is a failure."""
    users, strangers = _Connection(base_url), _Connection(base_url, STRANGER_ADDRESS)
    result = FuzzResult(set(), [])
    for request in planned:
        kwargs = dict(request.kwargs, url=base_url + request.kwargs["url"].removeprefix(_BASE))
        headers = dict(kwargs["headers"])
        authorization = headers.get("Authorization", "")
        connection = strangers
        if authorization.startswith(_TOKEN_OF):
            headers["Authorization"] = f"Bearer {tokens[authorization.removeprefix(_TOKEN_OF)]}"
            connection = users
        # What requests would send: its Request prepares the body (JSON, form, multipart) and the query string.
        status, content = connection.send(requests.Request(**(kwargs | {"headers": headers})).prepare())
        if status >= 500 and not (status == 503 and request.path in HEALTH_PATHS):
            result.failures.append(
                f"{request.role} {request.mode}: {request.kwargs['method']} {kwargs['url']}"
                f" -> {status} {content[:200]!r}"
            )
        result.reached.add((request.operation, request.role))
    return result
