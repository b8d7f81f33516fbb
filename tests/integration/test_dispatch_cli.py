"""`ntpd112 routes ...` and `ntpd112 incidents ...` as an admin runs them, against the test database, while the
service runs: what the command line writes reaches the running service by NOTIFY."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ntpd112.app import Service
from ntpd112.clock import utcnow
from ntpd112.routing.defaults import default_table
from ntpd112.routing.validation import load_table
from tests.integration.cli import Run
from tests.integration.cli import ntpd112 as run_in_process
from tests.integration.conftest import wait_until


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Commands against a running service against a running service and empty tables: no test here needs a fresh service.
    return shared_service


NTPD112 = str(Path(sys.executable).with_name("ntpd112"))


async def ntpd112(service: Service, *args: str, stdin: str = "") -> Run:
    return await run_in_process(service.settings.database_url.get_secret_value(), *args, stdin=stdin)


def medical_to_rsud() -> dict[str, Any]:
    raw = default_table().model_dump(mode="json")
    [medical] = [rule for rule in raw["rules"] if rule["id"] == "medical"]
    medical["chain"] = [{"target": "rsud-desk"}]
    return raw


async def test_routes_from_the_command_line_reach_the_running_service(service: Service, tmp_path: Path) -> None:
    broken = medical_to_rsud()
    broken["rules"][0]["chain"] = []
    refused = await ntpd112(service, "routes", "set", "-", stdin=json.dumps(broken))
    assert refused.code == 1
    assert "invalid routing table; nothing changed" in refused.err
    assert "rules[medical].chain: empty chain" in refused.err

    stored = await ntpd112(
        service, "routes", "set", "-", "--comment", "RSUD first", stdin=json.dumps(medical_to_rsud())
    )
    assert stored.code == 0, stored.err
    assert "routing table version 2 stored" in stored.out and "rule 'medical': chain" in stored.out
    await wait_until(lambda: service.routing.current.info.version == 2, timeout=5)

    listing = await ntpd112(service, "routes", "list")
    assert [line.split()[0] for line in listing.out.splitlines()[1:]] == ["2", "1"]
    assert "RSUD first" in listing.out

    explained = await ntpd112(service, "routes", "explain", "--category", "medical", "--at", "2026-11-23T10:00")
    assert "decision: route by rule 'medical'" in explained.out and "1. rsud-desk" in explained.out

    changes = await ntpd112(service, "routes", "diff", "1", "2")
    assert changes.out.splitlines() == [
        "version: 1 -> 2",
        "rule 'medical': chain psc119-desk > psc119-119 > rsud-desk -> rsud-desk",
    ]

    restored = await ntpd112(service, "routes", "restore", "1")
    assert restored.code == 0 and "version 3 stored" in restored.out
    await wait_until(lambda: service.routing.current.info.version == 3, timeout=5)

    exported = tmp_path / "v3.json"
    assert (await ntpd112(service, "routes", "export", "--version", "3", str(exported))).code == 0
    assert load_table(exported.read_text(encoding="utf-8")).rules == default_table().rules
    shown = await ntpd112(service, "routes", "show")
    assert shown.out.startswith("version 3") and "restored from version 1" in shown.out

    missing = await ntpd112(service, "routes", "show", "42")
    assert missing.code == 1 and "no routing table version 42" in missing.err


async def test_incidents_from_the_command_line(service: Service) -> None:
    call_id = service.journal.record_call(f"cli-{uuid.uuid4()}", trunk="xl", offered_at=utcnow())
    await service.journal.flushed()

    result = await ntpd112(
        service, "incidents", "set", str(call_id), "--category", "traffic_accident", "--address", "Tol Jagorawi km 38"
    )
    assert result.code == 0, result.err
    result = await ntpd112(service, "incidents", "set", str(call_id), "--category", "traffic_accident", "--lat", "1")
    assert result.code == 1 and "lat and lon" in result.err
    shown = await ntpd112(service, "incidents", "show", str(call_id), "--json")
    incident = json.loads(shown.out)
    assert incident["category"] == "traffic_accident" and incident["severity"] == "high"
    assert incident["address"] == "Tol Jagorawi km 38" and incident["created_by"].startswith("cli:")

    unknown = await ntpd112(service, "incidents", "set", str(uuid.uuid4()), "--category", "fire")
    assert unknown.code == 1 and "no call with id" in unknown.err
    wrong = await ntpd112(service, "incidents", "set", str(call_id), "--category", "volcano")
    assert wrong.code == 1 and "'volcano' is not in the routing table in force" in wrong.err


async def test_the_installed_command_and_python_m_run_as_processes(service: Service) -> None:
    """The other command-line tests run the click group in-process: here the installed entry point and
    `python -m ntpd112` start as an admin starts them, and say what the in-process run says."""
    env = os.environ | {"NTPD112_DATABASE_URL": service.settings.database_url.get_secret_value()}
    expected = await ntpd112(service, "routes", "show")
    assert expected.code == 0 and expected.out.startswith("version 1"), expected
    for command in ([NTPD112], [sys.executable, "-m", "ntpd112"]):
        process = await asyncio.create_subprocess_exec(
            *command, "routes", "show", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=30)
        assert process.returncode == 0, err.decode()
        assert out.decode() == expected.out
