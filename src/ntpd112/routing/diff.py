"""What changed between two routing tables, in words for the change log."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from pydantic import (
    BaseModel,
)

from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.windows import TimeWindow


def _fmt(field: str, value: object) -> str:
    if value is None:
        return "none"
    if field in ("chain", "default_chain") and isinstance(value, list):
        return " > ".join(
            str(step["target"]) + (f" {step['timeout']}s" if step.get("timeout") is not None else "")
            for step in value
            if isinstance(step, dict)
        )
    if field == "windows" and isinstance(value, list):
        return "; ".join(TimeWindow.model_validate(w).describe() for w in value) or "always"
    if isinstance(value, list) and all(isinstance(v, str | int) for v in value):
        return ", ".join(str(v) for v in value) or "(none)"
    if isinstance(value, bool | int):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _summary(item: BaseModel) -> str:
    data = item.model_dump(mode="json")
    # Unset optional settings (no webhook, no limits of its own) say nothing about an item added.
    shown = [f"{key} {_fmt(key, value)}" for key, value in data.items() if key != "id" and value not in (None, [], {})]
    return "; ".join(shown)


def _diff_section(kind: str, old: Sequence[BaseModel], new: Sequence[BaseModel]) -> list[str]:
    def by_id(items: Sequence[BaseModel]) -> dict[str, dict[str, Any]]:
        return {str(getattr(item, "id", "")): item.model_dump(mode="json") for item in items}

    old_map, new_map = by_id(old), by_id(new)
    changes = [f"{kind} removed: {item_id!r}" for item_id in old_map if item_id not in new_map]
    for item in new:
        item_id = str(getattr(item, "id", ""))
        if item_id not in old_map:
            changes.append(f"{kind} added: {item_id!r} ({_summary(item)})")
            continue
        before, after = old_map[item_id], new_map[item_id]
        for field in dict.fromkeys([*before, *after]):
            if before.get(field) != after.get(field):
                was, now = _fmt(field, before.get(field)), _fmt(field, after.get(field))
                changes.append(f"{kind} {item_id!r}: {field} {was} -> {now}")
    return changes


def diff(old: RoutingTable, new: RoutingTable) -> list[str]:
    """Human-readable list of what changed from ``old`` to ``new`` (empty when they are equal)."""
    changes: list[str] = []
    if old.version != new.version:
        changes.append(f"version: {old.version} -> {new.version}")
    if old.timezone != new.timezone:
        changes.append(f"timezone: {old.timezone} -> {new.timezone}")
    added = sorted(set(new.holidays) - set(old.holidays))
    removed = sorted(set(old.holidays) - set(new.holidays))
    if added:
        changes.append("holidays added: " + ", ".join(d.isoformat() for d in added))
    if removed:
        changes.append("holidays removed: " + ", ".join(d.isoformat() for d in removed))
    changes += _diff_section("category", old.categories, new.categories)
    changes += _diff_section("agency", old.agencies, new.agencies)
    changes += _diff_section("target", old.targets, new.targets)
    changes += _diff_section("rule", old.rules, new.rules)
    if old.office_hours != new.office_hours:
        changes.append(f"office_hours: {old.office_hours.describe()} -> {new.office_hours.describe()}")
    old_camats = {c.kecamatan: c.contact for c in old.camats}
    new_camats = {c.kecamatan: c.contact for c in new.camats}
    for kecamatan in dict.fromkeys([*old_camats, *new_camats]):
        was, now = old_camats.get(kecamatan), new_camats.get(kecamatan)
        if was != now:
            shown = [_fmt("contact", c.model_dump(mode="json") if c else None) for c in (was, now)]
            changes.append(f"camat of {kecamatan}: {shown[0]} -> {shown[1]}")
    new_ids = {r.id for r in new.rules}
    old_ids = {r.id for r in old.rules}
    old_order = [r.id for r in old.rules if r.id in new_ids]
    new_order = [r.id for r in new.rules if r.id in old_ids]
    if old_order != new_order:
        changes.append(f"rule order: {', '.join(old_order)} -> {', '.join(new_order)}")
    old_default = [s.model_dump(mode="json") for s in old.default_chain]
    new_default = [s.model_dump(mode="json") for s in new.default_chain]
    if old_default != new_default:
        changes.append(f"default_chain: {_fmt('default_chain', old_default)} -> {_fmt('default_chain', new_default)}")
    return changes
