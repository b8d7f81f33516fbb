"""Rows handed to PostgreSQL as one JSON array (`jsonb_populate_recordset`, `jsonb_to_recordset`): a batch of any size
is then one statement with the same text, prepared once per connection (docs/BENCHMARKS.md, issue 12)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def rows_json(rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as a JSON array: datetimes in ISO 8601 (with their offset), UUIDs and anything else as text (as the
    journal's spool keeps them). NaN and infinity, which JSON cannot carry, become null: PostgreSQL would refuse the
    whole batch for one value that a float8 column used to take."""
    return json.dumps([{name: _finite(value) for name, value in row.items()} for row in rows], default=_as_text)


def _as_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value
