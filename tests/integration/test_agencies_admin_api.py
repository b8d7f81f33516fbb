"""Admins manage agencies (OPD) through the real service and PostgreSQL: adding one publishes a new routing table
version with the admin as author (audited), the new agency can be handed a ticket, an edit on an old version is
refused with the current one, a refused edit or contacts file publishes nothing, and the CLI imports the same CSV."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.store.models import AuditEntry, RoutingTableVersion
from tests.integration.cli import ntpd112
from tests.integration.conftest import classified_call, user_token, wait_until

Headers = dict[str, str]
PUPR: dict[str, Any] = {
    "id": "pupr",
    "name": "Dinas PUPR",
    "kind": "transport",
    "desks": ["pupr-desk1"],
    "numbers": ["0215550001"],
    "head": {"name": "Kepala Dinas PUPR", "phone": "+6281100000010"},
    "duty": [{"name": "Piket PUPR", "phone": "081100000011"}],
    "limits": {"road": {"acknowledge_minutes": 15.0, "resolve_minutes": 120.0, "escalate_minutes": 30.0}},
    "categories": ["road"],
}
CSV_HEADER = "type,agency,kecamatan,name,phone\n"


@pytest.fixture
def service(shared_service: Service) -> Service:
    # Each test starts from the seeded version 1 (conftest.shared_service empties the tables).
    return shared_service


@pytest.fixture
async def admin(service: Service) -> Headers:
    return {"Authorization": f"Bearer {await user_token(service, 'dina', 'admin')}"}


async def send(http: aiohttp.ClientSession, method: str, url: str, headers: Headers, body: Any = None) -> Any:
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json() if response.content_type == "application/json" else None


async def versions(service: Service) -> int:
    async with service.database.session() as session:
        return await session.scalar(select(func.count()).select_from(RoutingTableVersion)) or 0


async def test_an_admin_adds_an_agency_and_it_can_be_handed_a_ticket(
    service: Service, http: aiohttp.ClientSession, admin: Headers
) -> None:
    status, directory = await send(http, "GET", "/api/admin/agencies", admin)
    assert status == 200 and directory["version"] == 1
    assert "pupr" not in {a["form"]["id"] for a in directory["agencies"]}
    damkar = next(a for a in directory["agencies"] if a["form"]["id"] == "damkar")
    assert damkar["form"]["numbers"] == ["113"] and damkar["routed_by"] == ["fire", "fallen-tree-day", "fallen-tree"]

    status, published = await send(http, "POST", "/api/admin/agencies", admin, {"base_version": 1, "agency": PUPR})
    assert status == 201, published
    assert published["info"]["version"] == 2 and published["info"]["author"] == "dina"
    assert any(c.startswith("agency added: 'pupr'") for c in published["changes"]), published["changes"]
    async with service.database.session() as session:
        audit = (await session.scalars(select(AuditEntry).where(AuditEntry.username == "dina"))).all()
    assert [(e.action, e.status, e.outcome) for e in audit] == [("POST /api/admin/agencies", 201, "ok")]

    # The service routes with it at once; the new agency is in the directory and can be handed a ticket.
    assert service.routing.current.info.version == 2
    status, directory = await send(http, "GET", "/api/admin/agencies", admin)
    pupr = next(a for a in directory["agencies"] if a["form"]["id"] == "pupr")
    assert pupr["form"] == PUPR | {"trunk": "agency-trunk", "webhook": None, "duty_number": None}
    operator = {"Authorization": f"Bearer {await user_token(service, 'ani', 'operator')}"}
    call_id = await classified_call(service, category="road")
    status, tickets = await send(http, "POST", f"/api/calls/{call_id}/tickets", operator, {"agencies": ["pupr"]})
    assert status == 201, tickets
    assert [(t["agency"], t["status"]) for t in tickets] == [("pupr", "sent")]

    # Changing it: the directory's version is the base; the rule follows the categories.
    edited = PUPR | {"name": "Dinas PUPR Kabupaten", "categories": ["road", "water"]}
    status, published = await send(
        http, "PUT", "/api/admin/agencies/pupr", admin, {"base_version": 2, "agency": edited}
    )
    assert status == 201, published
    assert service.routing.current.table.rule("opd-pupr").categories == ["road", "water"]  # type: ignore[union-attr]


async def test_an_edit_on_an_old_version_is_refused_with_the_current_one(
    service: Service, http: aiohttp.ClientSession, admin: Headers
) -> None:
    status, _ = await send(http, "POST", "/api/admin/agencies", admin, {"base_version": 1, "agency": PUPR})
    assert status == 201
    # A second admin who read version 1 saves their own change.
    other = PUPR | {"id": "disperkim", "name": "Disperkim", "desks": ["disperkim-desk1"], "numbers": []}
    status, refused = await send(http, "POST", "/api/admin/agencies", admin, {"base_version": 1, "agency": other})
    assert status == 409 and refused["error"]["id"] == "stale_routing_version"
    assert refused["error"]["details"] == {"based_on_version": 1, "current_version": 2}
    status, refused = await send(http, "POST", "/api/admin/agencies", admin, {"base_version": 2, "agency": PUPR})
    assert status == 409 and refused["error"]["id"] == "agency_exists"
    assert await versions(service) == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"numbers": []}, "rules[fire].chain[1].target: unknown target 'damkar-113'"),
        ({"webhook": {"url": "https://u:p@gw.example/x"}}, "agencies[damkar].webhook.url"),
        ({"desks": ["desk&x"]}, "agencies[damkar].desks.0"),
        ({"categories": ["prank"]}, "rules[opd-damkar].categories[0]"),
    ],
)
async def test_an_invalid_agency_is_refused_with_its_field_and_nothing_is_published(
    service: Service, http: aiohttp.ClientSession, admin: Headers, change: dict[str, Any], field: str
) -> None:
    _, directory = await send(http, "GET", "/api/admin/agencies", admin)
    damkar = next(a["form"] for a in directory["agencies"] if a["form"]["id"] == "damkar") | change
    status, refused = await send(
        http, "PUT", "/api/admin/agencies/damkar", admin, {"base_version": 1, "agency": damkar}
    )
    assert status == 422 and refused["error"]["id"] == "invalid_routing_table", refused
    assert any(d["text"].startswith(field) for d in refused["error"]["details"]), refused
    assert await versions(service) == 1


async def test_only_admins_manage_agencies(service: Service, http: aiohttp.ClientSession) -> None:
    supervisor = {"Authorization": f"Bearer {await user_token(service, 'sv', 'supervisor')}"}
    for method, url in (("GET", "/api/admin/agencies"), ("POST", "/api/admin/contacts/import")):
        status, refused = await send(http, method, url, supervisor, {"base_version": 1, "csv": CSV_HEADER})
        assert status == 403, refused
    assert await versions(service) == 1


async def test_contacts_from_csv_are_published_all_or_nothing(
    service: Service, http: aiohttp.ClientSession, admin: Headers
) -> None:
    bad = CSV_HEADER + "head,damkar,,Kepala Damkar,+6281100000001\nhead,no-such,,X,0811\ncamat,,Legok,=cmd|calc,0811\n"
    status, refused = await send(http, "POST", "/api/admin/contacts/import", admin, {"base_version": 1, "csv": bad})
    assert status == 422 and refused["error"]["id"] == "invalid_contacts_csv"
    assert [d["text"] for d in refused["error"]["details"]] == [
        "row 4 (name): starts like a spreadsheet formula (=, +, -, @): refused"
    ]
    unknown = CSV_HEADER + "head,no-such,,X,0811\n"
    status, refused = await send(http, "POST", "/api/admin/contacts/import", admin, {"base_version": 1, "csv": unknown})
    assert status == 422 and refused["error"]["details"][0]["row"] == 2
    for hostile, expected in (("a\x00b", 400), ("x" * 300_000, 413)):
        status, _ = await send(http, "POST", "/api/admin/contacts/import", admin, {"base_version": 1, "csv": hostile})
        assert status == expected
    assert await versions(service) == 1

    good = CSV_HEADER + "head,damkar,,Kepala Damkar,+6281100000001\ncamat,,Pagedangan,Camat Pagedangan,081100000002\n"
    status, published = await send(http, "POST", "/api/admin/contacts/import", admin, {"base_version": 1, "csv": good})
    assert status == 201, published
    assert (published["heads"], published["duty"], published["camats"]) == (1, 0, 1)
    table = service.routing.current.table
    assert table.agency("damkar").head.name == "Kepala Damkar"  # type: ignore[union-attr]
    assert table.camat("Pagedangan").contact.phone == "081100000002"  # type: ignore[union-attr]


async def test_the_cli_imports_the_same_csv_and_refuses_a_bad_one_whole(service: Service, tmp_path: Any) -> None:
    url = service.settings.database_url.get_secret_value()
    bad = tmp_path / "bad.csv"
    bad.write_bytes(CSV_HEADER.encode() + b"camat,,Legok,Camat \xff,0811\n")
    refused = await ntpd112(url, "routes", "import-contacts", str(bad))
    assert refused.code == 1 and "not UTF-8" in refused.err, refused
    good = tmp_path / "contacts.csv"
    good.write_text(CSV_HEADER + "camat,,Legok,Camat Legok,081100000003\n", encoding="utf-8")
    stored = await ntpd112(url, "routes", "import-contacts", str(good), "--author", "cli:test")
    assert stored.code == 0, stored
    assert "routing table version 2 stored by cli:test" in stored.out
    # The running service hears of it by NOTIFY.
    await wait_until(lambda: service.routing.current.table.camat("legok") is not None)
    assert await versions(service) == 2
