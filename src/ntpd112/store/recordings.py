"""Where a call's recording is on disk: Asterisk's MixMonitor writes it under its monitor spool, and the call row
names the file relative to that directory (dialplan/extensions_ntpd112.conf).

The path comes only from the database row, and even so it is not trusted: it must be a plain relative path that
resolves, symlinks followed, to a regular file inside the configured directory. Anything else (`..`, an absolute
path, a symlink out, a directory, a device) is "no recording" and nothing is opened.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from sqlalchemy import select

from ntpd112.errors import RefusedError
from ntpd112.store.db import Database
from ntpd112.store.models import Call


def recording_not_found(call_id: uuid.UUID) -> RefusedError:
    return RefusedError(404, "recording_not_found", "this call has no recording", {"id": str(call_id)})


@dataclass(frozen=True)
class RecordingFile:
    path: Path
    size: int


def file_inside(directory: Path, relative: str) -> Path | None:
    """The regular file `relative` names inside `directory`, or None when it names anything else."""
    if not relative or "\x00" in relative or "\\" in relative:
        return None
    candidate = PurePosixPath(relative)
    if candidate.is_absolute() or ".." in candidate.parts:
        return None
    try:
        base = directory.resolve(strict=True)
        resolved = (base / candidate).resolve(strict=True)
        if resolved.is_relative_to(base) and resolved.is_file():
            return resolved
    except (OSError, RuntimeError):  # missing, unreadable, a symlink loop
        pass
    return None


class Recordings:
    def __init__(self, database: Database, directory: Path | None) -> None:
        self._database = database
        # None: the service has no access to Asterisk's recordings (a remote Asterisk without a shared spool).
        self._directory = directory

    async def file_of(self, call_id: uuid.UUID) -> RecordingFile:
        """The recording of an ended call. Refused: an unknown call (404 call_not_found), a call still in progress
        (409 recording_in_progress: MixMonitor writes the file until hangup and finishes its header then), and no
        usable file (404 recording_not_found)."""
        async with self._database.session() as session:
            row = (await session.execute(select(Call.recording_path, Call.ended_at).where(Call.id == call_id))).first()
        if row is None:
            raise RefusedError(404, "call_not_found", "no call with this id", {"id": str(call_id)})
        relative, ended_at = row
        if self._directory is None or not relative:
            raise recording_not_found(call_id)
        if ended_at is None:
            raise RefusedError(
                409, "recording_in_progress", "the call has not ended: its recording is still being written"
            )
        path = file_inside(self._directory, relative)
        try:
            if path is not None:
                return RecordingFile(path, path.stat().st_size)
        except OSError:  # removed since it was found
            pass
        raise recording_not_found(call_id)
