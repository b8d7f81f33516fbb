"""Photos attached to tickets: the files in a directory of their own, the metadata in PostgreSQL.

An upload is streamed into a private temporary file under `<dir>/.incoming` (same file system, so moving it in place
is an atomic rename), hashed and counted as it arrives: past the size limit it stops at once, nothing more is read.
Only a complete photo that passed every check (tickets/photos.py) is moved to `<dir>/<sha[:2]>/<sha>` and gets its
row and its ticket event, in one transaction holding the ticket's row lock (so two uploads cannot both be the
limit's last). Whatever happens, the temporary file is removed; if the transaction fails after the move, the file
placed by this upload is removed too. Nothing of a refused upload stays: no row, no file, no temporary file.

Files are named by their SHA-256 (one copy of a photo sent twice), never by anything the client sent; the checksum
is verified again on every read, so a file changed on disk is refused rather than served.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ntpd112.clock import utcnow
from ntpd112.errors import RefusedError
from ntpd112.live import Hub
from ntpd112.logs import get_logger
from ntpd112.store.db import Database
from ntpd112.store.models import Ticket, TicketAttachment
from ntpd112.store.tickets import TicketError, Who, locked_ticket, publish_changed, ticket_event
from ntpd112.tickets.flow import FINAL_STATUSES, TicketStatus
from ntpd112.tickets.photos import ImageInfo, check_size, inspect_image, photo_label

log = get_logger(__name__)
INCOMING = ".incoming"


class PhotoView(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    ticket_id: uuid.UUID
    label: str  # the client's file name, for display only
    media_type: str
    size_bytes: int
    width: int
    height: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class PhotoFile:
    view: PhotoView
    content: bytes


def _ticket_not_found(ticket_id: uuid.UUID) -> TicketError:
    return TicketError(404, "ticket_not_found", "no such ticket (or not your agency's)", {"id": str(ticket_id)})


def _place(temporary: Path, final: Path) -> bool:
    """Move the checked upload to its final name; False when that photo is stored already (same checksum)."""
    final.parent.mkdir(mode=0o700, exist_ok=True)
    if final.exists():
        return False
    temporary.replace(final)
    return True


def _receive_into(file: BinaryIO, chunk: bytes) -> None:
    file.write(chunk)


def _finish(file: BinaryIO) -> ImageInfo:
    file.flush()
    os.fsync(file.fileno())
    file.seek(0)
    return inspect_image(file)


class TicketPhotos:
    def __init__(
        self,
        database: Database,
        directory: Path,
        hub: Hub | None,
        *,
        max_bytes: int,
        max_per_ticket: int,
        upload_timeout: float,
    ) -> None:
        self._database = database
        self._directory = directory
        self._incoming = directory / INCOMING
        self._hub = hub
        self.max_bytes = max_bytes
        self.max_per_ticket = max_per_ticket
        self.upload_timeout = upload_timeout

    def prepare(self) -> None:
        """Create the directory (owner-only) and drop temporary files a crash left behind."""
        self._incoming.mkdir(mode=0o700, parents=True, exist_ok=True)
        for leftover in self._incoming.iterdir():
            leftover.unlink(missing_ok=True)

    def _path(self, sha256: str) -> Path:
        return self._directory / sha256[:2] / sha256

    async def may_add(self, ticket_id: uuid.UUID, who: Who) -> None:
        """Refuses (before any byte of the photo is read) what `add` would refuse whatever the photo."""
        async with self._database.session() as session:
            ticket = await session.get(Ticket, ticket_id)
            if ticket is None or who.actor_for(ticket.agency) is None:
                raise _ticket_not_found(ticket_id)
            self._check_room(ticket, await _count(session, ticket_id))

    def _check_room(self, ticket: Ticket, count: int) -> None:
        if TicketStatus(ticket.status) in FINAL_STATUSES:
            raise TicketError(409, "ticket_final", f"the ticket is {ticket.status}: no photo may be added")
        if count >= self.max_per_ticket:
            raise TicketError(
                409,
                "too_many_photos",
                f"a ticket has at most {self.max_per_ticket} photos",
                {"max": self.max_per_ticket},
            )

    async def add(
        self, ticket_id: uuid.UUID, who: Who, filename: str | None, chunks: AsyncIterator[bytes]
    ) -> PhotoView:
        """Store the photo streamed in `chunks` (the caller has asked `may_add` before reading any of it). Refused
        (RefusedError; nothing stored): the name (400), the content (400 empty_photo, 413 photo_too_large,
        415 unsupported_photo_type, 422 invalid_photo or photo_dimensions), the ticket, checked again under its
        lock (404, 409 ticket_final or too_many_photos)."""
        label = photo_label(filename)
        descriptor, name = await asyncio.to_thread(tempfile.mkstemp, prefix="upload-", dir=self._incoming)
        temporary = Path(name)
        try:
            with os.fdopen(descriptor, "w+b") as file:
                digest, size = hashlib.sha256(), 0
                async for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        break  # stop reading: the rest of the body is never received
                    digest.update(chunk)
                    await asyncio.to_thread(_receive_into, file, chunk)
                check_size(size, self.max_bytes)
                info = await asyncio.to_thread(_finish, file)
            return await self._record(ticket_id, who, label, digest.hexdigest(), size, info, temporary)
        finally:
            # Not in a thread: no await here, so a cancelled upload (its timeout) still removes its file.
            temporary.unlink(missing_ok=True)  # noqa: ASYNC240 - one unlink; see above

    async def _record(
        self, ticket_id: uuid.UUID, who: Who, label: str, sha256: str, size: int, info: ImageInfo, temporary: Path
    ) -> PhotoView:
        final, placed = self._path(sha256), False
        try:
            async with self._database.session() as session, session.begin():
                ticket, actor = await locked_ticket(session, ticket_id, who)
                self._check_room(ticket, await _count(session, ticket_id))  # again, under the lock
                now = utcnow()
                row = TicketAttachment(
                    ticket_id=ticket_id,
                    sha256=sha256,
                    media_type=info.type.value,
                    size_bytes=size,
                    width=info.width,
                    height=info.height,
                    label=label,
                    uploaded_by=who.username[:80],
                    uploaded_at=now,
                )
                session.add(row)
                session.add(ticket_event(ticket, now, "photo", None, None, who.username, actor, label))
                ticket.updated_at = now
                await session.flush()
                view = PhotoView.model_validate(row)
                # A rename, done without an await: no cancellation can land between the move and `placed`.
                placed = _place(temporary, final)
        except BaseException:
            if placed:  # the commit failed: the file would belong to no row
                await asyncio.to_thread(final.unlink, missing_ok=True)
            raise
        publish_changed(self._hub, [(ticket_id, ticket.agency)])
        log.info("ticket photo added", ticket=str(ticket_id), photo=str(view.id), size=size, by=who.username)
        return view

    async def list(self, ticket_id: uuid.UUID, who: Who | None = None) -> list[PhotoView]:
        """The ticket's photos, oldest first. With `who`: 404 unless they may see the ticket (without: the caller
        has checked)."""
        statement = (
            select(TicketAttachment)
            .where(TicketAttachment.ticket_id == ticket_id)
            .order_by(TicketAttachment.uploaded_at, TicketAttachment.id)
        )
        async with self._database.session() as session:
            if who is not None:
                ticket = await session.get(Ticket, ticket_id)
                if ticket is None or who.actor_for(ticket.agency) is None:
                    raise _ticket_not_found(ticket_id)
            return [PhotoView.model_validate(row) for row in (await session.scalars(statement)).all()]

    async def read(self, ticket_id: uuid.UUID, photo_id: uuid.UUID, who: Who) -> PhotoFile:
        """The photo's bytes, checksum verified. 404 when the ticket is not the reader's or has no such photo."""
        async with self._database.session() as session:
            found = (
                await session.execute(
                    select(TicketAttachment, Ticket.agency)
                    .join(Ticket, Ticket.id == TicketAttachment.ticket_id)
                    .where(TicketAttachment.id == photo_id, TicketAttachment.ticket_id == ticket_id)
                )
            ).first()
            if found is None:
                ticket = await session.get(Ticket, ticket_id)
                if ticket is None or who.actor_for(ticket.agency) is None:
                    raise _ticket_not_found(ticket_id)
                raise RefusedError(404, "photo_not_found", "the ticket has no such photo", {"id": str(photo_id)})
        row, agency = found
        if who.actor_for(agency) is None:
            raise _ticket_not_found(ticket_id)
        view = PhotoView.model_validate(row)
        try:
            content, checksum = await asyncio.to_thread(_read_verified, self._path(row.sha256))
        except OSError:
            log.error(  # noqa: TRY400 - no trace: the file is simply not there
                "ticket photo file missing", ticket=str(ticket_id), photo=str(photo_id), sha256=row.sha256
            )
            raise RefusedError(404, "photo_file_missing", "the photo's file is missing from the store") from None
        if checksum != row.sha256:
            # Disk damage or a hand on the store: the photo is gone for good (410), never served changed.
            log.error(
                "ticket photo file does not match its checksum",
                ticket=str(ticket_id),
                photo=str(photo_id),
                sha256=row.sha256,
                actual_sha256=checksum,
            )
            raise RefusedError(
                410, "photo_damaged", "the photo's stored file is damaged (it no longer matches its checksum)"
            )
        return PhotoFile(view, content)


async def _count(session: AsyncSession, ticket_id: uuid.UUID) -> int:
    statement = select(func.count()).select_from(TicketAttachment).where(TicketAttachment.ticket_id == ticket_id)
    return int(await session.scalar(statement) or 0)


def _read_verified(path: Path) -> tuple[bytes, str]:
    content = path.read_bytes()
    return content, hashlib.sha256(content).hexdigest()
