"""Walking a dispatch chain on a live call (pure: no I/O).

A chain (from :func:`ntpd112.routing.matching.match`) is a list of targets. Each target becomes one or more
*attempts*; an attempt rings one or more legs at once and ends answered, busy, unanswered or failed:

* a ``ringall`` hunt group is one attempt ringing every desk; the first desk to answer wins;
* a ``linear`` hunt group is one attempt per desk, in order, each with the full timeout (as the fail-safe
  dialplan does it);
* an external number is one attempt on ``PJSIP/<number>@<trunk>``.

:class:`ChainWalk` hands out attempts in order until one is answered or the chain is exhausted, and keeps the
outcome of every attempt for the call's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from ntpd112.routing.agencies import ExternalNumber, RingStrategy
from ntpd112.routing.matching import RouteStep

# Q.850 causes of a leg that ended before answering.
CAUSE_NO_ANSWER = frozenset({18, 19})
CAUSE_BUSY = frozenset({17})


class Outcome(StrEnum):
    ANSWERED = "answered"
    BUSY = "busy"
    NO_ANSWER = "no_answer"
    FAILED = "failed"  # unreachable, rejected, congestion, no such endpoint...
    CANCELLED = "cancelled"  # the dispatch was stopped (caller hung up, operator cancelled)


@dataclass(frozen=True)
class Attempt:
    number: int  # 1-based across the whole chain
    step: int  # 0-based index of the chain step it comes from
    target_id: str
    agency: str
    devices: tuple[str, ...]  # Asterisk dial strings, rung at once
    timeout: int  # seconds


def devices_of(step: RouteStep) -> list[tuple[str, ...]]:
    """The dial strings of a chain step, grouped into what is rung together."""
    target = step.target
    if isinstance(target, ExternalNumber):
        return [(f"PJSIP/{target.number}@{target.trunk}",)]
    endpoints = [f"PJSIP/{endpoint}" for endpoint in target.endpoints]
    if target.strategy is RingStrategy.RINGALL:
        return [tuple(endpoints)]
    return [(endpoint,) for endpoint in endpoints]


def plan_attempts(steps: Sequence[RouteStep]) -> list[Attempt]:
    attempts: list[Attempt] = []
    for index, step in enumerate(steps):
        for devices in devices_of(step):
            attempts.append(
                Attempt(
                    number=len(attempts) + 1,
                    step=index,
                    target_id=step.target.id,
                    agency=step.target.agency,
                    devices=devices,
                    timeout=step.timeout,
                )
            )
    return attempts


def unanswered_outcome(causes: Sequence[int], *, timed_out: bool) -> Outcome:
    """How an attempt ended when none of its legs answered, from the legs' hangup causes.

    Our own ring timer firing is a no answer whatever the causes say (we hung the legs up ourselves). Busy only
    when every leg was busy: one desk busy and another unreachable is a failure worth a look.
    """
    if timed_out or any(cause in CAUSE_NO_ANSWER for cause in causes):
        return Outcome.NO_ANSWER
    if causes and all(cause in CAUSE_BUSY for cause in causes):
        return Outcome.BUSY
    return Outcome.FAILED


@dataclass
class ChainWalk:
    """Which attempt comes next. Answered: done. Busy, no answer or failure: the next attempt."""

    attempts: list[Attempt]
    outcomes: list[tuple[Attempt, Outcome]] = field(default_factory=list)
    _next: int = 0

    @classmethod
    def of(cls, steps: Sequence[RouteStep]) -> ChainWalk:
        return cls(plan_attempts(steps))

    @property
    def answered(self) -> Attempt | None:
        return next((a for a, outcome in self.outcomes if outcome is Outcome.ANSWERED), None)

    @property
    def finished(self) -> bool:
        if self.outcomes and self.outcomes[-1][1] in (Outcome.ANSWERED, Outcome.CANCELLED):
            return True
        return self._next >= len(self.attempts) and len(self.outcomes) == self._next

    @property
    def current(self) -> Attempt | None:
        """The attempt handed out and not yet ended."""
        if self._next > len(self.outcomes):
            return self.attempts[self._next - 1]
        return None

    def next_attempt(self) -> Attempt | None:
        """The next attempt to ring, or None when the chain is finished (answered, cancelled or exhausted)."""
        if self.current is not None:
            raise RuntimeError("the current attempt has not ended")
        if self.finished:
            return None
        attempt = self.attempts[self._next]
        self._next += 1
        return attempt

    def record(self, attempt: Attempt, outcome: Outcome) -> None:
        if attempt is not self.current:
            raise RuntimeError(f"attempt {attempt.number} is not the one ringing")
        self.outcomes.append((attempt, outcome))
