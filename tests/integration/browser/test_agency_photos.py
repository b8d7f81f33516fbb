"""Photos from the agency's phone screen in a real browser at 390x844: the agency user opens their ticket, adds a
photo with "Tambah foto" (the file input that opens the rear camera), sees its thumbnail (served by the service,
decoded by Chromium); a page renamed .jpg is refused with a message in Indonesian and nothing is stored."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageDraw
from playwright.async_api import expect
from sqlalchemy import func, select

from ntpd112.access.passwords import hash_password
from ntpd112.app import Service
from ntpd112.store.models import TicketAttachment
from tests.integration.browser.conftest import OPERATOR_PASSWORD, Watched, sign_in
from tests.integration.browser.test_agency_tickets import PHONE, hand_over
from tests.integration.conftest import agency_user, classified_call

pytestmark = pytest.mark.integration


def scene_photo() -> bytes:
    """A phone-camera-sized JPEG that looks like something: sky, smoke, a burning shed."""
    image = Image.new("RGB", (1600, 1200), (135, 170, 205))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 800, 1600, 1200), fill=(90, 110, 70))
    draw.ellipse((500, 150, 1300, 700), fill=(110, 110, 115))
    draw.rectangle((550, 560, 1050, 900), fill=(120, 70, 40))
    draw.polygon([(600, 560), (800, 300), (1000, 560)], fill=(240, 120, 20))
    draw.polygon([(680, 560), (800, 400), (920, 560)], fill=(255, 200, 40))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def photo_rows(service: Service) -> int:
    async with service.database.session() as session:
        return int(await session.scalar(select(func.count()).select_from(TicketAttachment)) or 0)


async def open_fire_ticket_on_the_phone(console: Watched, service: Service) -> None:
    """damkar1 signs in on a phone-sized screen and opens a fire ticket just handed over to damkar."""
    await agency_user(service, "damkar1", "damkar", hash_password(OPERATOR_PASSWORD))
    [ticket] = await hand_over(service, await classified_call(service, "fire"), ["damkar"])
    page = console.page
    await page.set_viewport_size(PHONE)
    await page.goto(console.url("/"))
    await sign_in(console, "damkar1", OPERATOR_PASSWORD)
    await page.locator(f'[data-ticket="{ticket["number"]}"]').click()
    await expect(page.get_by_role("heading", name="Kebakaran")).to_be_visible()


async def test_an_agency_user_adds_a_photo_from_the_phone(console: Watched, service: Service) -> None:
    await open_fire_ticket_on_the_phone(console, service)
    page = console.page

    photos = page.get_by_test_id("ticket-photos")
    await expect(photos).to_contain_text("Belum ada foto.")
    file_input = page.get_by_test_id("photo-input")
    # The phone offers its rear camera for this input; only photo types are offered.
    await expect(file_input).to_have_attribute("capture", "environment")
    await expect(file_input).to_have_attribute("accept", "image/jpeg,image/png,image/webp")
    await expect(photos.get_by_text("Tambah foto")).to_be_visible()

    content = scene_photo()
    await file_input.set_input_files({"name": "IMG_20261204_1015.jpg", "mimeType": "image/jpeg", "buffer": content})
    thumbnails = page.get_by_test_id("ticket-photo")
    await expect(thumbnails).to_have_count(1)
    image = thumbnails.first.locator("img")
    await expect(image).to_have_attribute("alt", "Foto tiket: IMG_20261204_1015.jpg")
    # Chromium fetched and decoded it: the service served the photo itself, with its type.
    await page.wait_for_function("img => img.complete && img.naturalWidth === 1600", arg=await image.element_handle())
    await expect(page.locator(".history")).to_contain_text("Foto ditambahkan")
    await expect(thumbnails.first).to_contain_text("damkar1")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing overflows
    await photos.scroll_into_view_if_needed()
    await console.screenshot("agency-ticket-photo")

    # A web page renamed .jpg (sent as image/jpeg by the browser): refused, said in Indonesian, nothing stored.
    page_as_photo = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
    await file_input.set_input_files({"name": "foto.jpg", "mimeType": "image/jpeg", "buffer": page_as_photo})
    await expect(photos.get_by_role("alert")).to_have_text("Hanya foto JPEG, PNG atau WebP yang diterima.")
    await expect(thumbnails).to_have_count(1)
    assert await photo_rows(service) == 1


async def test_a_photo_damaged_on_disk_reads_foto_rusak_not_a_broken_image(console: Watched, service: Service) -> None:
    await open_fire_ticket_on_the_phone(console, service)
    page = console.page
    await page.get_by_test_id("photo-input").set_input_files(
        {"name": "IMG_1.jpg", "mimeType": "image/jpeg", "buffer": scene_photo()}
    )
    await expect(page.get_by_test_id("ticket-photo").locator("img")).to_have_count(1)

    async with service.database.session() as session:
        sha256 = await session.scalar(select(TicketAttachment.sha256))
    assert sha256 is not None
    stored = service.settings.ticket_attachments_dir / sha256[:2] / sha256
    stored.write_bytes(stored.read_bytes()[:-64] + bytes(64))  # a damaged sector at the end of the file
    await page.reload()
    await page.locator("[data-ticket]").click()
    thumbnail = page.get_by_test_id("ticket-photo")
    await expect(thumbnail.get_by_test_id("photo-unloaded")).to_have_text("foto rusak")
    await expect(thumbnail.locator("img")).to_have_count(0)
    await page.get_by_test_id("ticket-photos").scroll_into_view_if_needed()
    await console.screenshot("agency-ticket-photo-damaged")
