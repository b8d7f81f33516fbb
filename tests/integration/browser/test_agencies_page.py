"""The admins' agencies (OPD) screen in a real browser: an admin opens it from the header, adds an OPD with its desk,
number, head, people on duty, the duty number rung for its tickets, a category it handles and a time limit of its
own; it is published as routing table version 2 and listed; a refused edit (a number a rule still dials, a duty
number that is no number) names its field and publishes nothing; a contacts CSV uploaded from the page is
published as the next version. A supervisor is not offered the screen."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from ntpd112.access.passwords import hash_password
from ntpd112.access.roles import Role
from ntpd112.app import Service
from tests.integration.browser.conftest import OPERATOR_PASSWORD, SCREENSHOTS, Watched, sign_in
from tests.integration.conftest import user_token

pytestmark = pytest.mark.integration


async def signed_in(console: Watched, service: Service, username: str, role: Role) -> None:
    await user_token(service, username, role)  # creates the user with the role
    await service.accounts.users.set_password(username, hash_password(OPERATOR_PASSWORD), must_change=False)
    await console.page.goto(console.url("/login"))
    await sign_in(console, username, OPERATOR_PASSWORD)


async def test_an_admin_adds_an_opd_and_imports_contacts(console: Watched, service: Service) -> None:
    page = console.page
    await signed_in(console, service, "dina", "admin")
    await page.get_by_role("link", name="Dinas (OPD)").click()
    await expect(page).to_have_url(console.url("/admin/agencies"))
    await expect(page.get_by_role("heading", name="Dinas dan instansi (OPD)")).to_be_visible()
    await expect(page.get_by_test_id("routing-version")).to_have_text("Tabel rute versi 1")
    await expect(page.locator("[data-agency='damkar']")).to_contain_text("Dinas Pemadam Kebakaran")

    await page.get_by_test_id("agency-add").click()
    await page.get_by_test_id("agency-id").fill("pupr")
    await page.get_by_test_id("agency-name").fill("Dinas PUPR")
    await page.get_by_test_id("agency-kind").select_option("transport")
    await page.get_by_test_id("agency-desks").fill("pupr-desk1, pupr-desk2")
    await page.get_by_test_id("agency-numbers").fill("0215550001")
    await page.get_by_test_id("agency-head-name").fill("Ir. Bambang, Kepala Dinas PUPR")
    await page.get_by_test_id("agency-head-phone").fill("+6281100000010")
    await page.get_by_test_id("agency-duty").fill("Piket PUPR, 081100000011")
    await page.get_by_test_id("agency-duty-number").fill("0215550002")
    await page.locator("[data-category='road']").check()
    await page.get_by_role("button", name="Tambah batas waktu").click()
    await page.get_by_test_id("limit-category-0").select_option("road")
    await page.get_by_label("Diterima dalam").fill("15")
    await page.get_by_label("Selesai dalam (kosong: akhir hari kerja)").fill("120")
    await page.evaluate("window.scrollTo(0, 0)")  # filling the last field scrolled the header away
    await page.screenshot(path=str(SCREENSHOTS / "admin-agencies-form.png"))
    await page.get_by_test_id("agency-save").click()

    await expect(page.get_by_test_id("agencies-notice")).to_have_text("Tersimpan sebagai tabel rute versi 2.")
    row = page.locator("[data-agency='pupr']")
    await expect(row).to_contain_text("Dinas PUPR")
    await expect(row).to_contain_text("pupr-desk1, pupr-desk2, 0215550001")
    await expect(row).to_contain_text("Jalan dan kemacetan")
    await expect(row).to_contain_text("Piket PUPR (081100000011)")
    await expect(row.get_by_test_id("duty-number")).to_have_text("Telepon tiket: 0215550002")
    await expect(page.get_by_test_id("routing-version")).to_have_text("Tabel rute versi 2")
    table = service.routing.current
    assert (table.info.version, table.info.author) == (2, "dina")
    pupr = table.table.agency("pupr")
    assert pupr is not None and pupr.limits["road"].acknowledge_minutes == 15
    assert pupr.duty_number == "0215550002"
    await row.scroll_into_view_if_needed()
    await page.screenshot(path=str(SCREENSHOTS / "admin-agencies.png"), full_page=True)

    # A number that a rule still dials cannot go: the refusal names the rule and the field; nothing is published.
    await page.get_by_test_id("agency-edit-damkar").click()
    await page.get_by_test_id("agency-numbers").fill("")
    await page.get_by_test_id("agency-save").click()
    problems = page.get_by_test_id("agencies-problems")
    await expect(problems).to_contain_text("rules[fire].chain[1].target: unknown target 'damkar-113'")
    await page.get_by_role("button", name="Batal").click()
    assert service.routing.current.info.version == 2

    # The duty number ends up in a dial string: digits only, refused by the service otherwise, its field marked.
    await page.get_by_test_id("agency-edit-pupr").click()
    await expect(page.get_by_test_id("agency-duty-number")).to_have_value("0215550002")
    await page.get_by_test_id("agency-duty-number").fill("021-555&2")
    await page.get_by_test_id("agency-save").click()
    await expect(problems).to_contain_text("agencies[pupr].duty_number: String should match pattern")
    await expect(page.locator("label.bad", has=page.get_by_test_id("agency-duty-number"))).to_have_count(1)
    await page.get_by_role("button", name="Batal").click()
    assert service.routing.current.info.version == 2
    assert service.routing.current.table.agency("pupr").duty_number == "0215550002"  # type: ignore[union-attr]

    await page.get_by_test_id("contacts-file").set_input_files(
        files=[
            {
                "name": "kontak.csv",
                "mimeType": "text/csv",
                "buffer": b"type;agency;kecamatan;name;phone\r\n"
                b"head;damkar;;Kepala Dinas Damkar;+6281100000001\r\n"
                b"camat;;Pagedangan;Camat Pagedangan;081100000002\r\n",
            }
        ]
    )
    await page.get_by_test_id("contacts-import").click()
    await expect(page.get_by_test_id("agencies-notice")).to_have_text(
        "Diimpor sebagai versi 3: 1 kepala OPD, 0 piket, 1 camat."
    )
    await expect(page.get_by_label("Kecamatan")).to_have_value("Pagedangan")
    await expect(page.locator("[data-agency='damkar']")).to_contain_text("Kepala Dinas Damkar (+6281100000001)")


async def test_a_supervisor_is_not_offered_the_agencies_screen(console: Watched, service: Service) -> None:
    page = console.page
    await signed_in(console, service, "sinta", "supervisor")
    await expect(page.get_by_role("link", name="Laporan")).to_be_visible()
    await expect(page.get_by_role("link", name="Dinas (OPD)")).to_have_count(0)
    await page.goto(console.url("/admin/agencies"))
    await expect(page).to_have_url(console.url("/operator"))  # the screen refuses; the API would answer 403
