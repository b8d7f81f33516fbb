"""Schemathesis's half of tests/integration/test_hostile_api.py, in a module of its own so that worker processes can
import it: hypothesis's generation costs more CPU than the service's answers, and in a process of its own each
worker's generation runs on one core while the service (in the test's process) answers on the other."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import hypothesis
import requests
import schemathesis

EXAMPLES_PER_OPERATION = 8
HEALTH_PATHS = ("/health", "/api/health")  # 503 there means "down", not a crash: only when a component is down


@dataclass
class FuzzResult:
    """What one worker did with its share of the operations."""

    operations: list[str]
    reached: set[tuple[str, str]]  # (operation, role) pairs that reached the service
    failures: list[str]


def fuzz(
    document: dict[str, Any], base_url: str, headers_by_role: dict[str, dict[str, str]], share: int, shares: int
) -> FuzzResult:
    """Fuzz every `shares`-th operation of the document from the `share`-th on, each in both generation modes.

    Each generated case is sent once per role. Derandomized, hypothesis generated the very same cases for each role
    when it ran once per role (the seed comes from the test function, the same for all): generating them once sends
    the same requests and saves four fifths of the generation, which cost more than the requests."""
    schema = schemathesis.openapi.from_dict(document)
    failures: list[str] = []
    session = requests.Session()
    session.trust_env = False  # no proxy or netrc look-up per request: the service is on loopback

    def fuzz_one(operation: Any, mode: schemathesis.GenerationMode) -> None:
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def call(case: schemathesis.Case) -> None:
            for role, headers in headers_by_role.items():
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
                if response.status_code >= 500 and not (response.status_code == 503 and operation.path in HEALTH_PATHS):
                    failures.append(
                        f"{role} {mode.value}: {case.method} {case.formatted_path} {case.query}"
                        f" -> {response.status_code} {response.content[:200]!r}"
                    )
                ran.add((operation.label, role))

        try:
            call()
        except hypothesis.errors.Unsatisfiable:
            # Negative mode on an operation with nothing to get wrong (no parameters, no body): nothing to send.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label

    ran: set[tuple[str, str]] = set()
    operations = [result.ok() for result in schema.get_all_operations()][share::shares]
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            fuzz_one(operation, mode)
    return FuzzResult([operation.label for operation in operations], ran, failures)
