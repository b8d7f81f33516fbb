"""Loading a routing table from JSON with problems that name the rule and field, and its fingerprint."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import (
    ValidationError,
)

from ntpd112.routing.tables import RoutingTable, RoutingTableError, TableIssue

_ITEM_SECTIONS = ("rules", "targets", "agencies", "categories")
_UNION_TAGS = frozenset({"hunt_group", "external"})


def _field_path(parts: Sequence[int | str]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _raw_item_id(raw: object, section: str, index: int) -> str:
    if isinstance(raw, Mapping):
        items = raw.get(section)
        if isinstance(items, list) and 0 <= index < len(items):
            item = items[index]
            if isinstance(item, Mapping) and isinstance(item.get("id"), str) and item["id"]:
                return str(item["id"])
    return f"#{index}"


def _issues_from_validation_error(exc: ValidationError, raw: object) -> list[TableIssue]:
    issues: list[TableIssue] = []
    for error in exc.errors():
        inner = (error.get("ctx") or {}).get("error")
        if isinstance(inner, RoutingTableError):
            issues.extend(inner.issues)
            continue
        message = str(inner) if isinstance(inner, Exception) else error["msg"]
        parts = [p for p in error["loc"] if p not in _UNION_TAGS]
        if len(parts) >= 2 and parts[0] in _ITEM_SECTIONS and isinstance(parts[1], int):
            section = str(parts[0])
            issues.append(TableIssue(section, _raw_item_id(raw, section, parts[1]), _field_path(parts[2:]), message))
        else:
            issues.append(TableIssue("table", None, _field_path(parts), message))
    return issues


def load_table(data: str | bytes | Mapping[str, Any]) -> RoutingTable:
    """Parse and validate a routing table (JSON text or an already decoded mapping).

    Raises :class:`RoutingTableError` listing every issue, each naming the rule (or target, agency, ...) and
    the field. A table is accepted whole or refused whole.
    """
    raw: object
    if isinstance(data, str | bytes):
        try:
            raw = json.loads(data)
        except ValueError as exc:
            raise RoutingTableError([TableIssue("table", None, "", f"invalid JSON: {exc}")]) from None
    else:
        raw = data
    if not isinstance(raw, Mapping):
        raise RoutingTableError([TableIssue("table", None, "", "a routing table must be a JSON object")])
    try:
        return RoutingTable.model_validate(raw)
    except ValidationError as exc:
        raise RoutingTableError(_issues_from_validation_error(exc, raw)) from None


def fingerprint(table: RoutingTable) -> str:
    """SHA-256 of the table's canonical JSON: identifies exactly what a route decision was made with."""
    return hashlib.sha256(table.model_dump_json().encode()).hexdigest()
