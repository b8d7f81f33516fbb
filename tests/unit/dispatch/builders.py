"""Small routing tables for the dispatch tests, built as raw JSON-like dicts so tests can break them."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.validation import load_table

JAKARTA = ZoneInfo("Asia/Jakarta")

# Monday 2026-11-23 .. Sunday 2026-11-29
_DAY = {"mon": 23, "tue": 24, "wed": 25, "thu": 26, "fri": 27, "sat": 28, "sun": 29}

BASE: dict[str, Any] = {
    "version": 1,
    "agencies": [
        {"id": "police", "name": "Polres", "kind": "police"},
        {"id": "fire", "name": "Damkar", "kind": "fire"},
        {"id": "hq", "name": "NTPD 112", "kind": "call_centre"},
        {"id": "pdam", "name": "PDAM", "kind": "water"},
    ],
    "targets": [
        {"kind": "hunt_group", "id": "police-desk", "agency": "police", "endpoints": ["pol1", "pol2"]},
        {
            "kind": "external",
            "id": "police-110",
            "agency": "police",
            "number": "110",
            "trunk": "agency-trunk",
        },
        {
            "kind": "hunt_group",
            "id": "fire-desk",
            "agency": "fire",
            "endpoints": ["fire1", "fire2"],
            "strategy": "linear",
            "timeout": 20,
        },
        {"kind": "hunt_group", "id": "hq", "agency": "hq", "endpoints": ["sup1"]},
        {"kind": "hunt_group", "id": "pdam-desk", "agency": "pdam", "endpoints": ["pdam1"]},
    ],
    "rules": [],
    "default_chain": [{"target": "hq"}],
}

OFFICE = {"days": ["mon", "tue", "wed", "thu", "fri"], "start": "08:00", "end": "16:00"}


def raw_table(*rules: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    raw = copy.deepcopy(BASE)
    raw["rules"] = [copy.deepcopy(r) for r in rules]
    raw.update(copy.deepcopy(overrides))
    return raw


def table(*rules: dict[str, Any], **overrides: Any) -> RoutingTable:
    return load_table(raw_table(*rules, **overrides))


def rule(
    rule_id: str, categories: Any = "*", chain: tuple[str, ...] = ("police-desk",), **extra: Any
) -> dict[str, Any]:
    return {"id": rule_id, "categories": categories, "chain": [{"target": t} for t in chain], **extra}


def at(day: str, hhmm: str) -> datetime:
    """A wall-clock time in Jakarta during the week of Monday 2026-11-23."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    return datetime(2026, 11, _DAY[day], hour, minute, tzinfo=JAKARTA)
