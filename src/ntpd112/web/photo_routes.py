"""REST for the photos of a ticket: an agency user (of the ticket's agency) or the room adds one from the phone's
camera; whoever may see the ticket sees its photos.

The upload is `multipart/form-data` with one part named `photo`, streamed to the store (store/attachments.py):
never read whole into memory, stopped at the size limit. Everything that can be refused without the photo (the
ticket, the reader, the limit of photos) is refused before any byte of it is read; a refusal closes the connection
instead of reading the rest of a body nobody wants. The upload is in the audit trail (web/auth.py), the photo in
the ticket's events.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import uuid
from collections.abc import AsyncIterator

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict

from ntpd112.errors import RefusedError
from ntpd112.store.attachments import PhotoView, TicketPhotos
from ntpd112.store.tickets import Who
from ntpd112.web.common import DEPS, ApiError, Identity
from ntpd112.web.endpoints import CLOSE_CONNECTION, MULTIPART_MEDIA_TYPE, RouteTable, require_media_type

routes = RouteTable()
PART_NAME = "photo"
CHUNK_BYTES = 64 * 1024
# Room for the multipart framing (boundaries, part headers) around the photo itself.
FRAMING_BYTES = 16 * 1024
# What aiohttp's multipart parser raises on a malformed body (a part header with a NUL: InvalidHeader).
_MALFORMED = (ValueError, AssertionError, LookupError, RuntimeError, HttpProcessingError)
_PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")
_UPLOAD_SCHEMA = {
    "type": "object",
    "properties": {
        PART_NAME: {
            "type": "string",
            "format": "binary",
            "description": "A JPEG, PNG or WebP photo (told from its content); the file name is kept as a label",
        }
    },
    "required": [PART_NAME],
    "additionalProperties": False,
}


class TicketPhotoPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: uuid.UUID


class PhotoPath(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ticket_id: uuid.UUID
    photo_id: uuid.UUID


def _who(identity: Identity) -> Who:
    return Who(identity.username, identity.roles, identity.agency)


def _invalid_multipart(message: str) -> ApiError:
    return ApiError(400, "invalid_multipart", message)


async def _photo_part(request: web.Request) -> tuple[MultipartReader, BodyPartReader]:
    try:
        reader = await request.multipart()
        part = await reader.next()
    except _MALFORMED:
        raise _invalid_multipart("the body is not a valid multipart/form-data body") from None
    if not isinstance(part, BodyPartReader) or part.name != PART_NAME:
        raise _invalid_multipart(f"send one part named {PART_NAME!r} holding the photo")
    return reader, part


async def _chunks(reader: MultipartReader, part: BodyPartReader) -> AsyncIterator[bytes]:
    """The photo part's bytes as they arrive; once it ends, the body must end too (no second part)."""
    try:
        while chunk := await part.read_chunk(CHUNK_BYTES):
            yield chunk
        if await reader.next() is not None:
            raise _invalid_multipart(f"send only the {PART_NAME!r} part")
    except _MALFORMED:
        raise _invalid_multipart("the body is not a valid multipart/form-data body") from None


async def _upload(request: web.Request, photos: TicketPhotos, ticket_id: uuid.UUID, who: Who) -> PhotoView:
    require_media_type(request, MULTIPART_MEDIA_TYPE)
    if (request.content_length or 0) > photos.max_bytes + FRAMING_BYTES:
        raise RefusedError(413, "photo_too_large", f"a photo is at most {photos.max_bytes} bytes")
    await photos.may_add(ticket_id, who)
    try:
        async with asyncio.timeout(photos.upload_timeout):
            reader, part = await _photo_part(request)
            return await photos.add(ticket_id, who, part.filename, _chunks(reader, part))
    except TimeoutError:
        raise ApiError(408, "request_timeout", f"the photo did not arrive within {photos.upload_timeout:g} s") from None


@routes.post(
    "/api/tickets/{ticket_id}/photos",
    access="signed_in",
    summary="Add a photo to a ticket (multipart/form-data, part `photo`: JPEG, PNG or WebP)",
    status=201,
    upload_schema=_UPLOAD_SCHEMA,
    refusals={
        400: ("invalid_filename", "empty_photo"),
        404: ("ticket_not_found",),
        409: ("ticket_final", "too_many_photos"),
        413: ("photo_too_large",),
        415: ("unsupported_photo_type",),
        422: ("invalid_photo", "photo_dimensions"),
    },
    description="The type is told from the file's content, never its name or Content-Type. Agency users add "
    "photos to their own agency's tickets, the room to any; not to a closed, rejected or cancelled ticket.",
)
async def add_photo(request: web.Request, path: TicketPhotoPath, identity: Identity) -> PhotoView:
    try:
        return await _upload(request, request.app[DEPS].photos, path.ticket_id, _who(identity))
    except RefusedError:
        # The rest of the body (up to megabytes) is not read: the connection closes after the refusal.
        request[CLOSE_CONNECTION] = True
        raise


@routes.get(
    "/api/tickets/{ticket_id}/photos",
    access="signed_in",
    summary="A ticket's photos, oldest first (the room's console shows them beside the call's tickets)",
    refusals={404: ("ticket_not_found",)},
)
async def list_photos(request: web.Request, path: TicketPhotoPath, identity: Identity) -> list[PhotoView]:
    return await request.app[DEPS].photos.list(path.ticket_id, _who(identity))


def content_disposition(label: str) -> str:
    """inline, with the label as the name a browser saves it under: an ASCII fallback and the UTF-8 name (RFC 6266);
    the label has no control characters or separators (tickets/photos.py), quotes are replaced."""
    fallback = "".join(char if char.isascii() and char not in '"\\' else "_" for char in label) or "foto"
    return f"inline; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(label, safe='')}"


@routes.get(
    "/api/tickets/{ticket_id}/photos/{photo_id}",
    access="signed_in",
    summary="One photo of a ticket, its checksum verified",
    produces="image/jpeg",
    description=f"Served with its own type ({', '.join(_PHOTO_TYPES)}), Content-Disposition inline with its label, "
    "and X-Content-Type-Options nosniff.",
    refusals={404: ("ticket_not_found", "photo_not_found", "photo_file_missing"), 410: ("photo_damaged",)},
)
async def get_photo(request: web.Request, path: PhotoPath, identity: Identity) -> web.Response:
    photo = await request.app[DEPS].photos.read(path.ticket_id, path.photo_id, _who(identity))
    headers = {
        "Content-Disposition": content_disposition(photo.view.label),
        "X-Content-Type-Options": "nosniff",
        # Personal data: kept in the browser's memory for the page, never on disk or in a shared cache.
        "Cache-Control": "private, no-store",
    }
    return web.Response(body=photo.content, content_type=photo.view.media_type, headers=headers)
