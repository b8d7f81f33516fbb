"""Pure parts of dispatch's service layer: the incident a request may set, the fail-safe include file, the
listener's connection string and `ntpd112 routes validate` (which needs no database)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import ValidationError

from ntpd112.cli import main
from ntpd112.dispatch.incidents import IncidentChange
from ntpd112.dispatch.routing_service import ROUTES_INCLUDE_FILE, asyncpg_dsn, write_dialplan_include
from ntpd112.pbx.routes_dialplan import render_dialplan
from ntpd112.routing.defaults import default_table


def test_incident_change_keeps_track_of_what_was_given() -> None:
    change = IncidentChange.model_validate({"category": "fire", "address": None, "lat": -6.4, "lon": 106.8})
    assert change.model_dump(exclude_unset=True) == {"category": "fire", "address": None, "lat": -6.4, "lon": 106.8}


@pytest.mark.parametrize(
    "body",
    [
        {"category": "fire", "lat": -6.4},  # a position needs both coordinates
        {"category": "fire", "lat": -6.4, "lon": None},
        {"category": "fire", "lat": 91, "lon": 0},
        {"category": "fire", "status": "acknowledged"},  # set by dispatch, not by hand
        {"category": "fire", "severity": "apocalyptic"},
        {"category": "Fire"},
        {"category": "fire", "description": "bell\x07"},
        {"category": "fire", "address": "x" * 2001},
        {"category": "fire", "unknown": 1},
        {"severity": "high"},
    ],
)
def test_incident_change_refuses_bad_input(body: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        IncidentChange.model_validate(body)


def test_incident_free_text_keeps_newlines_and_trims() -> None:
    change = IncidentChange.model_validate({"category": "fire", "description": "  lantai 2\n\tgudang  "})
    assert change.description == "lantai 2\n\tgudang"


def test_dialplan_include_is_written_whole_and_replaced_atomically(tmp_path: Path) -> None:
    (tmp_path / ROUTES_INCLUDE_FILE).write_text("; stale", encoding="utf-8")
    path = write_dialplan_include(tmp_path, default_table())
    assert path == tmp_path / ROUTES_INCLUDE_FILE
    assert path.read_text(encoding="utf-8") == render_dialplan(default_table())
    assert path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [ROUTES_INCLUDE_FILE]  # no partial file left behind


def test_listener_dsn_is_the_database_url_for_plain_asyncpg() -> None:
    dsn = asyncpg_dsn("postgresql+asyncpg://ntpd112:p%40ss@db.example:5433/ntpd112")
    assert dsn == "postgresql://ntpd112:p%40ss@db.example:5433/ntpd112"


def test_routes_validate_lists_every_problem_with_rule_and_field(tmp_path: Path) -> None:
    raw = default_table().model_dump(mode="json")
    rules = {rule["id"]: rule for rule in raw["rules"]}
    rules["fire"]["chain"] = [{"target": "nowhere"}]
    rules["crime"]["categories"] = ["prank"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(raw), encoding="utf-8")
    result = CliRunner().invoke(main, ["routes", "validate", str(bad)])
    assert result.exit_code == 1
    assert "rules[fire].chain[0].target: unknown target 'nowhere'" in result.output
    assert "rules[crime].categories[0]: 'prank' is a call outcome" in result.output

    result = CliRunner().invoke(main, ["routes", "validate", "-"], input=json.dumps(default_table().model_dump()))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("valid: 14 rules")
