"""Routing tables over REST against the real PostgreSQL, the real service and the local Asterisk: versions, hot
reload by NOTIFY on every running service, refusal of invalid tables, restore, diff, roles, the fail-safe include."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text

from ntpd112.app import Service
from ntpd112.backoff import Backoff
from ntpd112.config import load_local_asterisk_settings
from ntpd112.devtools.local_asterisk import LocalAsterisk
from ntpd112.dispatch.routing_service import ROUTES_INCLUDE_FILE, RoutingService
from ntpd112.routing.defaults import default_table
from ntpd112.routing.validation import load_table
from ntpd112.store.db import Database
from ntpd112.store.routing_versions import RoutingVersionRepository
from tests.integration.conftest import user_token, wait_until


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Routing tables against a running service and empty tables, each test starting from the seeded version 1
    # (conftest.shared_service): no test here needs a fresh service.
    return shared_service


# A Monday 10:00 in Jakarta: office hours, so every default rule is active.
MONDAY_MORNING = "2026-11-23T10:00:00+07:00"


async def auth(service: Service, role: str) -> dict[str, str]:
    token = await user_token(service, f"{role}-token", role)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {token}"}


def medical_goes_to_rsud() -> dict[str, Any]:
    """The default table with the medical rule changed to ring the RSUD desk only."""
    raw = default_table().model_dump(mode="json")
    [medical] = [rule for rule in raw["rules"] if rule["id"] == "medical"]
    medical["chain"] = [{"target": "rsud-desk", "timeout": 25}]
    return raw


def first_target(explanation: dict[str, Any]) -> str:
    return str(explanation["decision"]["chain"][0]["target"]["id"])


async def explain_medical(http: aiohttp.ClientSession, headers: dict[str, str]) -> dict[str, Any]:
    params = {"category": "medical", "at": MONDAY_MORNING}
    async with http.get("/api/routes/explain", params=params, headers=headers) as response:
        assert response.status == 200, await response.text()
        body: dict[str, Any] = await response.json()
        return body


async def test_service_seeds_the_default_table_as_version_1(service: Service, http: aiohttp.ClientSession) -> None:
    admin = await auth(service, "admin")
    async with http.get("/api/routes", headers=admin) as response:
        assert response.status == 200
        [version] = await response.json()
    assert version["version"] == 1 and version["author"] == "ntpd112" and version["restored_from_version"] is None
    async with http.get("/api/routes/current", headers=admin) as response:
        current = await response.json()
    assert current["info"]["version"] == 1
    assert load_table(current["table"]).rules == default_table().rules
    health = await service.health()
    assert health["routing"]["ok"] is True and health["routing"]["version"] == 1


async def test_new_table_becomes_version_2_and_every_running_service_switches_without_restart(
    service: Service, http: aiohttp.ClientSession
) -> None:
    operator, admin = await auth(service, "operator"), await auth(service, "admin")
    # A second node: its own database pool and listening connection, nothing shared with `service` but PostgreSQL.
    database = Database(service.settings.database_url.get_secret_value())
    await database.start()
    other_node = RoutingService(
        RoutingVersionRepository(database),
        service.settings.database_url.get_secret_value(),
        service.ami,
        None,
        lambda: Backoff(0.2, 1.0),
    )
    await other_node.start()
    try:
        assert first_target(await explain_medical(http, operator)) == "psc119-desk"
        assert other_node.current.info.version == 1

        async with http.put("/api/routes", json=medical_goes_to_rsud(), params={"comment": "RSUD"}, headers=admin) as r:
            assert r.status == 201, await r.text()
            published = await r.json()
        assert published["info"]["version"] == 2 and published["info"]["comment"] == "RSUD"
        assert any(change.startswith("rule 'medical': chain") for change in published["changes"])

        body = await explain_medical(http, operator)
        assert first_target(body) == "rsud-desk" and body["decision"]["table_version"] == 2
        assert "rsud-desk" in body["text"]
        # The other node never wrote anything: only the NOTIFY told it.
        await wait_until(lambda: other_node.current.info.version == 2, timeout=5)
        assert other_node.current.table.rule("medical").chain[0].target == "rsud-desk"  # type: ignore[union-attr]
    finally:
        await other_node.stop()
        await database.stop()


async def test_a_version_written_elsewhere_reaches_the_service_by_notify(service: Service) -> None:
    writer = RoutingVersionRepository(service.database)  # as `ntpd112 routes set` does, without the service
    await writer.append(load_table(medical_goes_to_rsud()), "cli:test", "from the command line")
    await wait_until(lambda: service.routing.current.info.version == 2, timeout=5)
    assert service.routing.current.info.author == "cli:test"


async def test_listener_reconnects_after_losing_its_connection_and_catches_up(service: Service) -> None:
    connects = service.routing.listener_connects
    async with service.database.engine.begin() as connection:
        killed = await connection.scalar(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE application_name = 'ntpd112-routes-listener' AND datname = current_database()"
            )
        )
    assert killed == 1
    # Written while the listener is (probably) away: its NOTIFY may be lost, the reload after reconnecting is not.
    await RoutingVersionRepository(service.database).append(load_table(medical_goes_to_rsud()), "cli:test")
    await wait_until(lambda: service.routing.listener_connects > connects and service.routing.listening, timeout=10)
    await wait_until(lambda: service.routing.current.info.version == 2, timeout=5)


def broken_tables() -> list[tuple[dict[str, Any], set[tuple[str, str]]]]:
    """Tables that must be refused, with the (rule, field) problems each must name. Each also carries a valid
    change (medical -> RSUD) that must not be applied either. Field errors (a bad time) are reported before
    cross-references are checked, so those get a table of their own."""
    unknown_target, bad_time = medical_goes_to_rsud(), medical_goes_to_rsud()
    rules = {rule["id"]: rule for rule in unknown_target["rules"]}
    rules["fire"]["chain"] = [{"target": "no-such-desk"}]
    rules["crime"]["then"] = "no-such-rule"
    [road] = [rule for rule in bad_time["rules"] if rule["id"] == "road"]
    road["windows"][0]["start"] = "25:00"
    return [
        (unknown_target, {("fire", "chain[0].target"), ("crime", "then")}),
        (bad_time, {("road", "windows[0].start")}),
    ]


async def test_invalid_table_is_refused_whole_naming_rule_and_field(
    service: Service, http: aiohttp.ClientSession
) -> None:
    admin = await auth(service, "admin")
    for raw, expected in broken_tables():
        for method, path in (("PUT", "/api/routes"), ("POST", "/api/routes/validate")):
            async with http.request(method, path, json=raw, headers=admin) as response:
                assert response.status == 422
                error = (await response.json())["error"]
            assert error["id"] == "invalid_routing_table"
            assert {(d["rule"], d["field"]) for d in error["details"]} == expected
    not_json = admin | {"Content-Type": "application/json"}
    async with http.put("/api/routes", data=b"{not json", headers=not_json) as response:
        assert response.status == 422
        assert (await response.json())["error"]["id"] == "invalid_routing_table"
    async with http.get("/api/routes", headers=admin) as response:
        assert [v["version"] for v in await response.json()] == [1]
    assert service.routing.current.info.version == 1


async def test_validate_reports_what_would_change_without_storing(
    service: Service, http: aiohttp.ClientSession
) -> None:
    admin = await auth(service, "admin")
    async with http.post("/api/routes/validate", json=medical_goes_to_rsud(), headers=admin) as response:
        assert response.status == 200
        body = await response.json()
    assert body["valid"] is True
    assert body["changes"] == ["rule 'medical': chain psc119-desk > psc119-119 > rsud-desk -> rsud-desk 25s"]
    assert service.routing.current.info.version == 1


async def test_restore_appends_the_old_content_and_diff_shows_the_changes(
    service: Service, http: aiohttp.ClientSession
) -> None:
    admin, operator = await auth(service, "admin"), await auth(service, "operator")
    async with http.put("/api/routes", json=medical_goes_to_rsud(), headers=admin) as response:
        assert response.status == 201
    async with http.post("/api/routes/1/restore", params={"comment": "back"}, headers=admin) as response:
        assert response.status == 201, await response.text()
        restored = await response.json()
    assert restored["info"]["version"] == 3 and restored["info"]["restored_from_version"] == 1
    assert restored["info"]["comment"] == "back"
    assert "rule 'medical': chain rsud-desk 25s -> psc119-desk > psc119-119 > rsud-desk" in restored["changes"]
    assert first_target(await explain_medical(http, operator)) == "psc119-desk"

    async with http.get("/api/routes/diff", params={"from": 1, "to": 3}, headers=admin) as response:
        assert (await response.json())["changes"] == ["version: 1 -> 3"]
    async with http.get("/api/routes/diff", params={"from": 2, "to": 3}, headers=admin) as response:
        changes = (await response.json())["changes"]
    assert changes == ["version: 2 -> 3", "rule 'medical': chain rsud-desk 25s -> psc119-desk > psc119-119 > rsud-desk"]
    async with http.get("/api/routes/2", headers=admin) as response:
        version_2 = await response.json()
    assert version_2["table"]["version"] == 2 and version_2["info"]["author"] == "admin-token"

    async with http.post("/api/routes/99/restore", headers=admin) as response:
        assert response.status == 404
        assert (await response.json())["error"]["id"] == "routing_version_not_found"
    async with http.get("/api/routes", headers=admin) as response:
        assert [v["version"] for v in await response.json()] == [3, 2, 1]


@pytest.mark.parametrize("role", ["operator", "supervisor"])
async def test_only_admins_read_and_change_routing_tables(
    service: Service, http: aiohttp.ClientSession, role: str
) -> None:
    headers = await auth(service, role)
    table = medical_goes_to_rsud()
    for method, path, body in [
        ("GET", "/api/routes", None),
        ("GET", "/api/routes/current", None),
        ("GET", "/api/routes/1", None),
        ("GET", "/api/routes/diff?from=1&to=1", None),
        ("PUT", "/api/routes", table),
        ("POST", "/api/routes/validate", table),
        ("POST", "/api/routes/1/restore", None),
    ]:
        async with http.request(method, path, json=body, headers=headers) as response:
            assert response.status == 403, (method, path)
            assert (await response.json())["error"]["id"] == "forbidden"
    assert service.routing.current.info.version == 1
    # What operators need while on a call stays open to them.
    assert first_target(await explain_medical(http, headers)) == "psc119-desk"
    async with http.get("/api/agencies", headers=headers) as response:
        assert response.status == 200


async def test_explain_covers_after_hours_and_bad_queries(service: Service, http: aiohttp.ClientSession) -> None:
    operator = await auth(service, "operator")
    params = {"category": "water", "area": "Cibinong", "at": "2026-11-23T20:00:00"}  # naive: Jakarta time
    async with http.get("/api/routes/explain", params=params, headers=operator) as response:
        body = await response.json()
    assert body["decision"]["kind"] == "after_hours" and body["decision"]["ticket_agency"] == "pdam"
    assert "ticket: pdam" in body["text"]
    async with http.get("/api/routes/explain", params={"at": "yesterday"}, headers=operator) as response:
        assert response.status == 400
        assert (await response.json())["error"]["id"] == "invalid_request"


async def test_agencies_are_listed_from_the_table_in_force(service: Service, http: aiohttp.ClientSession) -> None:
    operator = await auth(service, "operator")
    async with http.get("/api/agencies", headers=operator) as response:
        agencies = {entry["agency"]["id"]: entry for entry in await response.json()}
    assert set(agencies) == {agency.id for agency in default_table().agencies}
    psc = {target["id"] for target in agencies["psc119"]["targets"]}
    assert psc == {"psc119-desk", "psc119-119"}
    assert {t["number"] for t in agencies["polres"]["targets"] if t["kind"] == "external"} == {"110"}


async def test_failsafe_routes_are_written_and_loaded_by_asterisk_on_every_change(
    service: Service, http: aiohttp.ClientSession, local_asterisk: LocalAsterisk
) -> None:
    include = local_asterisk.root / "etc/asterisk" / ROUTES_INCLUDE_FILE
    await wait_until(lambda: service.routing.dialplan_version == 1, timeout=10)
    assert "generated from routing table version 1" in include.read_text(encoding="utf-8")
    loaded = local_asterisk.cli("dialplan show ntpd112-routes")
    assert "'cat-medical'" in loaded and "Dial(PJSIP/psc119-desk1&PJSIP/psc119-desk2,30)" in loaded
    assert "'default'" in loaded

    admin = await auth(service, "admin")
    async with http.put("/api/routes", json=medical_goes_to_rsud(), headers=admin) as response:
        assert response.status == 201
    await wait_until(lambda: service.routing.dialplan_version == 2, timeout=10)
    assert "generated from routing table version 2" in include.read_text(encoding="utf-8")
    loaded = local_asterisk.cli("dialplan show ntpd112-routes")
    medical = loaded.split("'cat-medical'")[1].split("'cat-")[0]
    assert "Dial(PJSIP/rsud-desk1&PJSIP/rsud-desk2,25)" in medical
    assert "psc119" not in medical


def test_the_local_asterisk_config_always_carries_a_routes_include(tmp_path: Path) -> None:
    """`install_config` writes the default routes when none are there, so `#include` never points at nothing."""
    root = tmp_path
    (root / "etc/asterisk").mkdir(parents=True)
    local = LocalAsterisk(load_local_asterisk_settings().model_copy(update={"asterisk_root": root}))
    assert local.install_config() is True
    include = (root / "etc/asterisk" / ROUTES_INCLUDE_FILE).read_text(encoding="utf-8")
    assert "[ntpd112-routes]" in include and "exten => cat-medical,1," in include
    assert f"#include {ROUTES_INCLUDE_FILE}" in (root / "etc/asterisk/extensions.conf").read_text(encoding="utf-8")
