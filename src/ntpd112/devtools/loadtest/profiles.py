"""Load profiles: what a run offers (rate, count, caller behaviour) and what answers it (operators' phones).
Built-in profiles cover a normal day, a disaster surge, a prank flood, a ramp to the highest clean rate and a
thousand calls in progress; a JSON or TOML file gives your own (the same fields)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

# Load operators' phones sit on 127.0.0.60-99: .11-.15 are trunks, .19 the baseline trunk, .20 the agency trunk,
# .3x/.41 the tests' phones, .5x the agency desks.
FIRST_OPERATOR_ADDRESS = 60
MAX_OPERATORS = 40


# The faults the harness injects under load (devtools/loadtest/faults.py does it; docs/RELIABILITY.md says what each
# one means for the room).
Fault = Literal[
    "service-kill", "service-term", "postgresql-restart", "asterisk-restart", "ari-cut", "ami-cut", "caller-vanish"
]
FAULTS: tuple[Fault, ...] = get_args(Fault)


class ProfileError(ValueError):
    pass


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CallerClass(_Model):
    """A kind of caller: its share of the calls and when it hangs up after the answer (if the room has not ended
    the call first). Long: stays until the operator is done. Short: an impatient, silent or prank caller."""

    share: float = Field(gt=0, le=1)
    hang_up_after_seconds: float = Field(gt=0, le=3600)


class Ramp(_Model):
    """A ramp's rates: listed (`steps`), or from `start_rate` to `max_rate` by `step_rate`. Each path goes up step by
    step until its first lost or failed call."""

    steps: tuple[float, ...] = ()
    start_rate: float | None = Field(None, gt=0, le=200)
    step_rate: float | None = Field(None, gt=0, le=100)
    max_rate: float | None = Field(None, gt=0, le=200)

    @model_validator(mode="after")
    def _one_form(self) -> Ramp:
        linear = (self.start_rate, self.step_rate, self.max_rate)
        if self.steps:
            if any(value is not None for value in linear):
                raise ValueError("give either steps or start_rate, step_rate and max_rate")
            if any(not 0 < rate <= 200 for rate in self.steps) or list(self.steps) != sorted(set(self.steps)):
                raise ValueError("steps must rise, each above 0 and at most 200 calls/s")
        elif self.start_rate is None or self.step_rate is None or self.max_rate is None:
            raise ValueError("give steps, or start_rate, step_rate and max_rate")
        elif self.max_rate < self.start_rate:
            raise ValueError("max_rate is below start_rate")
        return self

    def rates(self) -> list[float]:
        if self.start_rate is None or self.step_rate is None or self.max_rate is None:
            return list(self.steps)
        count = int((self.max_rate - self.start_rate) / self.step_rate + 1e-9) + 1
        return [round(self.start_rate + n * self.step_rate, 3) for n in range(count)]


class Profile(_Model):
    name: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")
    description: str = ""
    rate: float = Field(gt=0, le=200, description="new calls per second")
    calls: int = Field(ge=1, le=5000, description="calls per run (per step of a ramp)")
    operators: int = Field(ge=1, le=MAX_OPERATORS)
    ring_ms: int = Field(500, ge=0, le=60_000, description="an operator's phone rings this long before answering")
    talk_seconds: float = Field(10, gt=0, le=3600, description="an operator hangs up after this long")
    callers: dict[str, CallerClass] = Field(min_length=1)
    numbers: int | None = Field(None, ge=1, description="distinct caller numbers; None: one per call")
    mobile_share: float = Field(0.8, ge=0, le=1, description="callers on a mobile network, sending a cell id")
    baseline: bool = Field(True, description="also run the same load against Asterisk alone")
    drop_calls: int = Field(0, ge=0, description="fault injection: Asterisk hangs up this many waiting callers")
    ramp: Ramp | None = None
    fault: Fault | None = Field(None, description="fault injection under the load (service path only)")
    fault_at_seconds: float = Field(5, ge=0, le=3600, description="the fault, this long after the first call")
    fault_down_seconds: float = Field(3, ge=0, le=600, description="what the fault took away stays away this long")

    @model_validator(mode="after")
    def _fault_alone(self) -> Profile:
        if self.fault is not None and (self.baseline or self.ramp is not None):
            raise ValueError("a fault run has no baseline and no ramp (baseline = false, no ramp)")
        return self

    @property
    def paths(self) -> list[Literal["baseline", "service"]]:
        return ["baseline", "service"] if self.baseline else ["service"]

    def rates(self) -> list[float]:
        return self.ramp.rates() if self.ramp else [self.rate]

    @property
    def longest_call_seconds(self) -> float:
        return max(c.hang_up_after_seconds for c in self.callers.values())


def _patient(seconds: float, share: float = 1.0) -> CallerClass:
    return CallerClass(share=share, hang_up_after_seconds=seconds)


# The room and the callers of the ramp, and of `sustained`, which holds one of its steps.
_RAMP_ROOM: dict[str, Any] = {"operators": 20, "ring_ms": 200, "talk_seconds": 2, "callers": {"short": _patient(4)}}

BUILTIN: dict[str, Profile] = {
    p.name: p
    for p in [
        Profile(
            name="steady",
            description="a busy regency's normal day, compressed: 0.5 calls/s for 5 minutes, 16 operators",
            rate=0.5,
            calls=150,
            operators=16,
            ring_ms=1000,
            talk_seconds=20,
            callers={"patient": _patient(120, 0.8), "impatient": _patient(30, 0.1), "silent": _patient(4, 0.1)},
        ),
        Profile(
            name="steady-short",
            description="steady for one minute",
            rate=0.5,
            calls=30,
            operators=16,
            ring_ms=1000,
            talk_seconds=20,
            callers={"patient": _patient(120, 0.8), "impatient": _patient(30, 0.1), "silent": _patient(4, 0.1)},
        ),
        Profile(
            name="surge",
            description="a disaster: 10 calls/s for 40 s into 10 operators, hundreds waiting",
            rate=10,
            calls=400,
            operators=10,
            talk_seconds=6,
            callers={"patient": _patient(90, 0.8), "impatient": _patient(20, 0.2)},
        ),
        Profile(
            name="prank-flood",
            description="many short calls from 10 numbers: 5 calls/s for 60 s",
            rate=5,
            calls=300,
            operators=10,
            talk_seconds=3,
            numbers=10,
            callers={"prank": _patient(3, 0.7), "impatient": _patient(10, 0.3)},
        ),
        Profile(
            name="ramp",
            description=(
                "200 short calls per step, 5 to 100 calls/s and on to 200, each path until its first lost or failed "
                "call: the ceilings of Asterisk alone and of the service"
            ),
            rate=5,
            calls=200,
            **_RAMP_ROOM,
            ramp=Ramp(steps=(5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200)),
        ),
        Profile(
            name="sustained",
            description="the ramp's 40 calls/s step held for 30 s (1,200 calls): the service's CPU is judged here",
            rate=40,
            calls=1200,
            **_RAMP_ROOM,
        ),
        Profile(
            name="thousand",
            description="1,000 calls in progress: 20 calls/s for 50 s, every caller stays 100 s, 4 operators",
            rate=20,
            calls=1000,
            operators=4,
            talk_seconds=300,
            callers={"patient": _patient(100)},
            baseline=False,
        ),
        Profile(
            name="chaos",
            description=(
                "the fault harness's load: 2 calls/s for 40 s into 8 operators, callers hold 20 s; give --fault"
            ),
            rate=2,
            calls=80,
            operators=8,
            ring_ms=500,
            talk_seconds=8,
            callers={"patient": _patient(20, 0.8), "impatient": _patient(6, 0.2)},
            baseline=False,
            fault_at_seconds=12,
            fault_down_seconds=5,
        ),
        Profile(
            name="smoke",
            description="the harness's own check: 6 calls at 2 calls/s, 2 operators",
            rate=2,
            calls=6,
            operators=2,
            ring_ms=200,
            talk_seconds=2,
            callers={"patient": _patient(5)},
        ),
    ]
}


def load_profile(name_or_file: str) -> Profile:
    """A built-in profile by name, or a profile from a .json or .toml file."""
    if name_or_file in BUILTIN:
        return BUILTIN[name_or_file]
    path = Path(name_or_file)
    if not path.is_file():
        raise ProfileError(f"no built-in profile or file {name_or_file!r} (built-in: {', '.join(BUILTIN)})")
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
        return Profile.model_validate(data)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ProfileError(f"{path}: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        raise ProfileError(f"{path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from None
