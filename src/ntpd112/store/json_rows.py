"""Rows handed to PostgreSQL as one JSON array (`jsonb_populate_recordset`, `jsonb_to_recordset`): a batch of any size
is then one statement with the same text, prepared once per connection (docs/BENCHMARKS.md, issue 12)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

# Keys that are not text (an int in an event's data) become text, as the standard library's encoder made them.
_OPTIONS = orjson.OPT_NON_STR_KEYS


def rows_json(rows: Iterable[dict[str, Any]]) -> str:
    """The rows as a JSON array: datetimes in ISO 8601 (with their offset), UUIDs as text, anything else unknown as
    its text (as the journal's spool keeps them). NaN and infinity, which JSON cannot carry, become null (orjson
    does that at any depth): PostgreSQL would refuse the whole batch for one value that a float8 column used to
    take. orjson rather than the standard library: encoding the journal's rows was 4 % of the service's busy time
    (docs/BENCHMARKS.md, issue 12)."""
    return json_text(list(rows))


def json_text(value: Any) -> str:
    """`value` as compact JSON text, with the conventions of `rows_json`."""
    return orjson.dumps(value, default=str, option=_OPTIONS).decode()
