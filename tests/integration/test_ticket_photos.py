"""Photos on agency tickets through the real service and PostgreSQL: an agency user adds one from the phone, the
file lands outside the database under its checksum, the row and the ticket's event in PostgreSQL, the audit trail
has the upload; the room and the agency see it, another agency does not; every hostile upload is refused with a
clear 4xx and leaves no row, no file and no temporary file."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import structlog
from PIL import Image
from sqlalchemy import func, select
from structlog.testing import LogCapture

from ntpd112.app import Service
from ntpd112.store import attachments
from ntpd112.store.models import AuditEntry, TicketAttachment, TicketEvent
from tests.images import image_bytes, png_declaring
from tests.integration.conftest import agency_token, classified_call, user_token, wait_until
from tests.integration.test_tickets_api import Headers, bearer, hand_over, send

BOUNDARY = "ntpd112-test-boundary"


@pytest.fixture
def service(shared_service: Service) -> Service:
    return shared_service


@pytest.fixture(autouse=True)
def empty_store(service: Service) -> None:
    """The module's service keeps its photo store across tests while the tables are emptied: empty it too."""
    directory = service.settings.ticket_attachments_dir
    for entry in directory.iterdir():
        if entry.name != ".incoming":
            shutil.rmtree(entry)


@pytest.fixture
async def people(service: Service) -> dict[str, Headers]:
    return {
        "operator": bearer(await user_token(service, "ani", "operator")),
        "damkar": bearer(await agency_token(service, "damkar1", "damkar")),
        "psc119": bearer(await agency_token(service, "psc1", "psc119")),
    }


def photo(fmt: str = "JPEG", color: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    return image_bytes(fmt, (320, 240), color)


def multipart(
    content: bytes, filename: bytes = b"foto.jpg", name: bytes = b"photo", extra: bytes = b"", raw_name: bytes = b""
) -> bytes:
    """A multipart/form-data body written byte by byte: the file name goes out exactly as given (`raw_name`: the
    disposition's file name parameter as written, e.g. RFC 5987 filename*)."""
    file_parameter = raw_name or b'filename="' + filename + b'"'
    head = b'Content-Disposition: form-data; name="' + name + b'"; ' + file_parameter + b"\r\n"
    part = b"--" + BOUNDARY.encode() + b"\r\n" + head + b"Content-Type: image/jpeg\r\n\r\n" + content + b"\r\n"
    return part + extra + b"--" + BOUNDARY.encode() + b"--\r\n"


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


async def upload(
    http: aiohttp.ClientSession, ticket_id: str, headers: Headers, body: Any, content_type: str = MULTIPART
) -> tuple[int, Any]:
    async with http.post(
        f"/api/tickets/{ticket_id}/photos", data=body, headers=headers | {"Content-Type": content_type}
    ) as response:
        return response.status, await response.json()


def stored_files(service: Service) -> list[Path]:
    return sorted(p for p in service.settings.ticket_attachments_dir.rglob("*") if p.is_file())


async def stored(service: Service) -> tuple[int, int, list[Path]]:
    """Photo rows, photo events, and every file in the store (temporary ones included)."""
    async with service.database.session() as session:
        rows = await session.scalar(select(func.count()).select_from(TicketAttachment))
        events = await session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "photo"))
    return rows or 0, events or 0, stored_files(service)


async def test_an_agency_user_adds_a_photo_that_the_room_sees_and_another_agency_does_not(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    content = photo()
    status, added = await upload(http, ticket["id"], people["damkar"], multipart(content, "gudang é api.jpg".encode()))
    assert status == 201, added
    sha = added["sha256"]
    assert len(sha) == 64 and added["media_type"] == "image/jpeg" and (added["width"], added["height"]) == (320, 240)
    assert added["label"] == "gudang é api.jpg" and added["size_bytes"] == len(content)
    assert added["uploaded_by"] == "damkar1" and added["ticket_id"] == ticket["id"]

    # The file is outside the database, under its checksum, byte for byte; no temporary file is left.
    directory = service.settings.ticket_attachments_dir
    assert stored_files(service) == [directory / sha[:2] / sha]
    assert (directory / sha[:2] / sha).read_bytes() == content
    assert (directory / sha[:2] / sha).stat().st_mode & 0o077 == 0  # owner only
    async with service.database.session() as session:
        event = (await session.scalars(select(TicketEvent).where(TicketEvent.kind == "photo"))).one()
        audit = (await session.scalars(select(AuditEntry.action).where(AuditEntry.username == "damkar1"))).all()
    assert (event.by, event.actor, event.text) == ("damkar1", "agency", "gudang é api.jpg")
    assert "POST /api/tickets/{ticket_id}/photos" in audit

    # The room's view of the ticket lists it; the photo is served as what it is.
    status, detail = await send(http, "GET", f"/api/tickets/{ticket['id']}", people["operator"])
    assert status == 200 and [p["id"] for p in detail["photos"]] == [added["id"]]
    assert any(e["kind"] == "photo" for e in detail["events"])
    status, listed = await send(http, "GET", f"/api/tickets/{ticket['id']}/photos", people["damkar"])
    assert status == 200 and listed == detail["photos"]
    for who in ("operator", "damkar"):
        async with http.get(f"/api/tickets/{ticket['id']}/photos/{added['id']}", headers=people[who]) as response:
            assert response.status == 200 and await response.read() == content
            assert response.headers["Content-Type"] == "image/jpeg"
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert response.headers["Content-Disposition"] == (
                "inline; filename=\"gudang _ api.jpg\"; filename*=UTF-8''gudang%20%C3%A9%20api.jpg"
            )

    # Another agency: the photo, the ticket and adding to it are "no such ticket".
    photo_url = f"/api/tickets/{ticket['id']}/photos/{added['id']}"
    status, refused = await send(http, "GET", f"/api/tickets/{ticket['id']}/photos", people["psc119"])
    assert (status, refused["error"]["id"]) == (404, "ticket_not_found")
    assert (await send(http, "GET", photo_url, people["psc119"]))[1]["error"]["id"] == "ticket_not_found"
    status, refused = await upload(http, ticket["id"], people["psc119"], multipart(photo(color=(1, 2, 3))))
    assert (status, refused["error"]["id"]) == (404, "ticket_not_found")
    wrong = f"/api/tickets/{ticket['id']}/photos/{uuid.uuid4()}"
    assert (await send(http, "GET", wrong, people["damkar"]))[1]["error"]["id"] == "photo_not_found"
    async with http.get(photo_url) as response:
        assert response.status == 401
    assert (await stored(service))[:2] == (1, 1)


async def test_a_full_size_phone_photo_is_streamed_in(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    """Megabytes, far past the 256 KiB of a JSON body: the upload is streamed, not read by the body limit."""
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    noise = Image.frombytes("RGB", (2000, 1500), os.urandom(2000 * 1500 * 3))
    out = io.BytesIO()
    noise.save(out, format="JPEG", quality=95)
    content = out.getvalue()
    assert 2 * 1024 * 1024 < len(content) < service.settings.ticket_max_photo_bytes
    status, added = await upload(http, ticket["id"], people["operator"], multipart(content, b"IMG_0001.JPG"))
    assert status == 201, added
    assert (added["size_bytes"], added["width"], added["height"]) == (len(content), 2000, 1500)
    assert added["sha256"] == hashlib.sha256(content).hexdigest()
    async with http.get(f"/api/tickets/{ticket['id']}/photos/{added['id']}", headers=people["damkar"]) as response:
        assert response.status == 200 and await response.read() == content


async def test_a_file_changed_on_disk_answers_410_photo_damaged_and_is_logged(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    status, added = await upload(http, ticket["id"], people["damkar"], multipart(photo("PNG"), b"a.png"))
    assert status == 201 and added["media_type"] == "image/png", added
    path = service.settings.ticket_attachments_dir / added["sha256"][:2] / added["sha256"]
    path.write_bytes(path.read_bytes()[:-1] + b"\0")
    # The service's loggers are cached at first use: the store's own is swapped for one that records.
    logs = LogCapture()
    monkeypatch.setattr(attachments, "log", structlog.wrap_logger(structlog.PrintLogger(), processors=[logs]))
    status, answer = await send(http, "GET", f"/api/tickets/{ticket['id']}/photos/{added['id']}", people["damkar"])
    assert (status, answer["error"]["id"]) == (410, "photo_damaged")
    [damaged] = [line for line in logs.entries if line["event"] == "ticket photo file does not match its checksum"]
    assert (damaged["log_level"], damaged["ticket"], damaged["photo"]) == ("error", ticket["id"], added["id"])
    path.unlink()
    status, answer = await send(http, "GET", f"/api/tickets/{ticket['id']}/photos/{added['id']}", people["damkar"])
    assert (status, answer["error"]["id"]) == (404, "photo_file_missing")


HTML = b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect width="9" height="9"/></svg>'
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
SECOND_PART = b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="note"\r\n\r\nhalo\r\n'
HOSTILE: list[tuple[str, bytes, str, int, str]] = [
    ("html renamed .jpg", multipart(HTML, b"foto.jpg"), MULTIPART, 415, "unsupported_photo_type"),
    ("svg renamed .jpg", multipart(SVG, b"foto.jpg"), MULTIPART, 415, "unsupported_photo_type"),
    ("pdf renamed .jpg", multipart(PDF, b"foto.jpg"), MULTIPART, 415, "unsupported_photo_type"),
    ("jpeg magic, html after", multipart(b"\xff\xd8\xff\xe0" + HTML, b"foto.jpg"), MULTIPART, 422, "invalid_photo"),
    ("empty", multipart(b"", b"foto.jpg"), MULTIPART, 400, "empty_photo"),
    ("bomb header", multipart(png_declaring(60_000, 60_000), b"b.png"), MULTIPART, 422, "photo_dimensions"),
    ("dotdot", multipart(photo(), b"../../../etc/cron.d/x.jpg"), MULTIPART, 400, "invalid_filename"),
    ("absolute", multipart(photo(), b"/var/lib/ntpd112/x.jpg"), MULTIPART, 400, "invalid_filename"),
    ("backslash", multipart(photo(), b"..\\..\\x.jpg"), MULTIPART, 400, "invalid_filename"),
    # A raw NUL in a part's header is refused by aiohttp's part parser; one percent-encoded gets to our check.
    ("nul", multipart(photo(), b"x.jpg\x00.png"), MULTIPART, 400, "invalid_multipart"),
    ("encoded nul", multipart(photo(), raw_name=b"filename*=UTF-8''x.jpg%00.png"), MULTIPART, 400, "invalid_filename"),
    (
        "encoded dotdot",
        multipart(photo(), raw_name=b"filename*=UTF-8''..%2F..%2Fx.jpg"),
        MULTIPART,
        400,
        "invalid_filename",
    ),
    ("long", multipart(photo(), b"x" * 300 + b".jpg"), MULTIPART, 400, "invalid_filename"),
    ("wrong part", multipart(photo(), name=b"file"), MULTIPART, 400, "invalid_multipart"),
    ("second part", multipart(photo(), extra=SECOND_PART), MULTIPART, 400, "invalid_multipart"),
    ("no boundary", multipart(photo()), "multipart/form-data", 400, "invalid_multipart"),
    ("json", b'{"photo": "x"}', "application/json", 415, "unsupported_media_type"),
    ("truncated body", multipart(photo())[:-40], MULTIPART, 400, "invalid_multipart"),
]


@pytest.mark.parametrize(
    ("body", "content_type", "status", "error_id"), [h[1:] for h in HOSTILE], ids=[h[0] for h in HOSTILE]
)
async def test_a_hostile_upload_is_refused_and_stores_nothing(
    service: Service,
    http: aiohttp.ClientSession,
    people: dict[str, Headers],
    body: bytes,
    content_type: str,
    status: int,
    error_id: str,
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    answer = await upload(http, ticket["id"], people["damkar"], body, content_type)
    assert (answer[0], answer[1]["error"]["id"]) == (status, error_id), answer
    assert await stored(service) == (0, 0, [])


async def chunked(total: int) -> AsyncIterator[bytes]:
    """A body with no Content-Length: the service learns its size only by reading it."""
    yield b"--" + BOUNDARY.encode() + b'\r\nContent-Disposition: form-data; name="photo"; filename="big.jpg"\r\n\r\n'
    yield photo()
    sent = 0
    while sent < total:
        yield b"\0" * 65536
        sent += 65536
    yield b"\r\n--" + BOUNDARY.encode() + b"--\r\n"


async def test_oversize_uploads_are_refused_without_reading_them_whole(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    limit = service.settings.ticket_max_photo_bytes
    # Declared too large: refused from the headers alone.
    declared = multipart(photo() + b"\0" * (limit + 1))
    status, answer = await upload(http, ticket["id"], people["damkar"], declared)
    assert (status, answer["error"]["id"]) == (413, "photo_too_large")
    # Streamed without a length, past the limit: refused once the limit is passed; the rest is never read (the
    # service closes the connection, so the client may see its send fail instead of the answer).
    try:
        status, answer = await upload(http, ticket["id"], people["damkar"], chunked(limit * 3))
        assert (status, answer["error"]["id"]) == (413, "photo_too_large")
    except aiohttp.ClientError:
        pass
    assert await stored(service) == (0, 0, [])


async def test_an_upload_that_stalls_is_cut_off_and_leaves_no_temporary_file(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers], monkeypatch: pytest.MonkeyPatch
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    monkeypatch.setattr(service.photos, "upload_timeout", 1.0)
    body = multipart(photo())
    head = (
        f"POST /api/tickets/{ticket['id']}/photos HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: {people['damkar']['Authorization']}\r\nContent-Type: {MULTIPART}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    reader, writer = await asyncio.open_connection("127.0.0.1", service.settings.http_port)
    try:
        writer.write(head + body[: len(body) // 2])  # half the photo, then nothing
        await writer.drain()
        await wait_until(lambda: any(service.settings.ticket_attachments_dir.joinpath(".incoming").iterdir()))
        answer = await asyncio.wait_for(reader.read(65536), 10)
    finally:
        writer.close()
    assert answer.startswith(b"HTTP/1.1 408 ") and b'"request_timeout"' in answer, answer[:300]
    assert await stored(service) == (0, 0, [])


async def test_the_photo_limit_and_a_final_ticket_refuse_more(
    service: Service, http: aiohttp.ClientSession, people: dict[str, Headers]
) -> None:
    ticket = (await hand_over(http, people, await classified_call(service)))["damkar"]
    most = service.settings.ticket_max_photos
    for index in range(most):
        status, added = await upload(http, ticket["id"], people["damkar"], multipart(photo("PNG", (index, 9, 9))))
        assert status == 201, added
    before = await stored(service)
    assert before[:2] == (most, most)
    status, answer = await upload(http, ticket["id"], people["damkar"], multipart(photo("PNG", (250, 9, 9))))
    assert (status, answer["error"]["id"]) == (409, "too_many_photos")
    assert await stored(service) == before

    other = (await hand_over(http, people, await classified_call(service)))["damkar"]
    cancel = {"to": "cancelled", "reason": "laporan ganda"}
    assert (await send(http, "POST", f"/api/tickets/{other['id']}/transitions", people["operator"], cancel))[0] == 200
    status, answer = await upload(http, other["id"], people["operator"], multipart(photo("PNG", (250, 9, 9))))
    assert (status, answer["error"]["id"]) == (409, "ticket_final")
    status, answer = await upload(http, str(uuid.uuid4()), people["operator"], multipart(photo()))
    assert (status, answer["error"]["id"]) == (404, "ticket_not_found")
    async with http.post(f"/api/tickets/{other['id']}/photos", data=multipart(photo())) as response:
        assert response.status == 401  # no session
    assert await stored(service) == before
