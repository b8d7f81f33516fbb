"""The callers of one run, written as SIPp's CSV injection file (sipp-scenarios/load-caller.xml documents the
columns). Generated per run and deterministic for a seed; never committed."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from ntpd112.devtools.loadtest.profiles import Profile

_NAMES = ("Budi", "Siti", "Agus", "Dewi", "Rudi", "Sri", "Andi", "Wati", "Joko", "Rina", "Eko", "Yuni")


@dataclass(frozen=True)
class Caller:
    number: str
    name: str
    cell: str  # empty: a fixed line, no P-Access-Network-Info


@dataclass(frozen=True)
class PlannedCall:
    tag: str
    kind: str
    caller: Caller
    hold_ms: int
    sends_audio: bool = False

    def csv_line(self) -> str:
        # The tag rides in the display name: the operator's phone and the call record both see it.
        fields = (self.caller.number, f"{self.caller.name} {self.tag}", self.tag, self.caller.cell, self.hold_ms)
        return ";".join(map(str, (*fields, int(self.sends_audio))))


def _caller(rng: random.Random, mobile_share: float) -> Caller:
    name = rng.choice(_NAMES)
    if rng.random() < mobile_share:
        # Telkomsel: MCC 510, MNC 10, a 4-hex-digit TAC and a 7-hex-digit ECI (3GPP TS 24.229 utran-cell-id-3gpp).
        cell = f"51010{rng.randrange(0x10000):04X}{rng.randrange(0x10000000):07X}"
        return Caller(f"0812{rng.randrange(10**8):08d}", name, cell)
    return Caller(f"021{rng.randrange(10**7):07d}", name, "")


def plan_calls(
    profile: Profile, prefix: str, seed: int = 112, media_timeout_seconds: float | None = None
) -> list[PlannedCall]:
    """`profile.calls` calls tagged `prefix-00000`...; caller kinds by their shares, numbers reused when the
    profile has fewer numbers than calls (a prank flood). Callers who hold at least `media_timeout_seconds` (the
    trunks' media timeout) send audio, or the timeout would end their calls as those of dead phones; the others
    stay silent and spare the machine the packets."""
    rng = random.Random(f"{seed}-{prefix}")  # noqa: S311  test data, reproducible per seed: not a secret
    kinds = list(profile.callers.items())
    weights = [c.share for _, c in kinds]
    pool = [_caller(rng, profile.mobile_share) for _ in range(profile.numbers)] if profile.numbers else None
    planned = []
    for n in range(profile.calls):
        kind, caller_class = rng.choices(kinds, weights)[0]
        caller = rng.choice(pool) if pool else _caller(rng, profile.mobile_share)
        hold_s = caller_class.hang_up_after_seconds
        sends_audio = media_timeout_seconds is not None and hold_s >= media_timeout_seconds
        planned.append(PlannedCall(f"{prefix}-{n:05d}", kind, caller, round(hold_s * 1000), sends_audio))
    return planned


def write_injection_file(path: Path, planned: list[PlannedCall]) -> None:
    path.write_text("SEQUENTIAL\n" + "".join(call.csv_line() + "\n" for call in planned), encoding="utf-8")


def numbers_to_tags(planned: list[PlannedCall]) -> dict[str, str]:
    """Each caller's number, raw (national, as the trunk sends it) and E.164 (+62), to its call's tag."""
    numbers = {}
    for call in planned:
        numbers[call.caller.number] = call.tag
        numbers["+62" + call.caller.number.removeprefix("0")] = call.tag
    return numbers
