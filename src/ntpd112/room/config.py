"""The room configuration (asterisk/room.toml): the operators' queue, overflow, priorities, the agency trunk,
how the reports count (time zone, phantom-abandon threshold).

Parsing and validation; pbx.asterisk_config renders it into Asterisk's own files, because the queue must work from
the dialplan alone (the fail-safe path), not only in the service.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from ntpd112.paths import ASTERISK_DIR
from ntpd112.sip_names import SipName

DEFAULT_ROOM_FILE = ASTERISK_DIR / "room.toml"


class RoomConfigError(ValueError):
    pass


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QueueSettings(_Section):
    strategy: Literal["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "linear", "wrandom"] = (
        "leastrecent"
    )
    ring_seconds: int = Field(15, ge=5, le=120)
    wrapup_seconds: int = Field(10, ge=0, le=600)
    overflow_after_seconds: int = Field(60, ge=10, le=3600)
    hold_message_every_seconds: int = Field(20, ge=5, le=300)
    # Seconds the service may hold a new call for intake before the dialplan takes it over (service hung or dead).
    intake_deadline_seconds: int = Field(5, ge=2, le=60)
    # How long a phone a supervisor pulled a waiting call to rings before the caller goes back to the queue.
    pull_ring_seconds: int = Field(20, ge=5, le=120)


class PrioritySettings(_Section):
    base: int = Field(10, ge=1, le=1000)
    with_location: int = Field(15, ge=1, le=1000)
    repeat_caller: int = Field(15, ge=1, le=1000)
    prankster: int = Field(1, ge=0, le=1000)


class SupervisorSettings(_Section):
    endpoints: tuple[SipName, ...] = Field(min_length=1)
    ring_seconds: int = Field(30, ge=5, le=300)


class BackupSettings(_Section):
    number: str = Field(pattern=r"^\+?[0-9]{3,15}$")
    ring_seconds: int = Field(45, ge=5, le=300)


class AgencyTrunkSettings(_Section):
    name: SipName
    contact: str = Field(pattern=r"^sips?:[A-Za-z0-9.:\[\]_-]+$")


class CallerSettings(_Section):
    # Seconds without a single audio packet (RTP) from a trunk caller before Asterisk ends the call: the phone died
    # or lost coverage without a BYE, and would otherwise wait in the queue loop forever. A silent caller's phone
    # still sends packets (silence or comfort noise), so silence alone never ends a call. Asterisk counts whole
    # seconds: 2 is the least that cannot cut a phone sending packets every 20 ms.
    media_timeout_seconds: int = Field(30, ge=2, le=600)


# Indonesia's three zones: WIB, WITA, WIT. A room reads its reports in its own.
RoomTimezone = Literal["Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"]


def _room_path(value: Path, info: ValidationInfo) -> Path:
    """A path of the room file: relative ones from the file's own directory (parse_room's `base_dir`)."""
    return value if value.is_absolute() else Path((info.context or {}).get("base_dir", ASTERISK_DIR)) / value


class ReportSettings(_Section):
    timezone: RoomTimezone = "Asia/Jakarta"
    # A caller who leaves the queue sooner than this after the call was offered is a phantom abandon (a misdial
    # or a pocket call), counted apart and left out of the service level (see reports/rules.py).
    phantom_abandon_seconds: float = Field(5.0, ge=0, le=60)
    # Printed at the head of the reports.
    pemda_name: str = Field("", max_length=120, pattern=r"^[^\x00-\x1f\x7f]*$")
    # The Pemda's logo on the PDF report: a PNG or JPEG file, relative to the room file's directory.
    logo: Path | None = None
    # Where the service writes last month's report (PDF, JSON, the national recap) on the 1st; none: not written.
    # Relative to the room file's directory; created when missing.
    monthly_dir: Path | None = None

    @field_validator("logo")
    @classmethod
    def _logo_is_an_image(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _room_path(value, info)
        problem = logo_problem(path)
        if problem is not None:
            raise ValueError(f"{path}: {problem}")
        return path.resolve()

    @field_validator("monthly_dir")
    @classmethod
    def _monthly_dir_is_a_directory(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        if value is None:
            return None
        path = _room_path(value, info)
        if path.exists() and not path.is_dir():
            raise ValueError(f"{path}: not a directory")
        return path.resolve()


MAX_LOGO_BYTES = 2_000_000
_IMAGE_SIGNATURES = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")  # PNG, JPEG


def logo_problem(path: Path) -> str | None:
    """Why `path` cannot be the report's logo (None: it can): checked when the room file is read, so a bad logo
    stops the service at start, not the monthly report weeks later."""
    if not path.is_file():
        return "no such file"
    if path.stat().st_size > MAX_LOGO_BYTES:
        return f"larger than {MAX_LOGO_BYTES:,} bytes"
    with path.open("rb") as image:
        head = image.read(8)
    if not head.startswith(_IMAGE_SIGNATURES):
        return "not a PNG or JPEG image"
    return None


class RoomConfig(_Section):
    queue: QueueSettings = QueueSettings()
    priority: PrioritySettings = PrioritySettings()
    supervisors: SupervisorSettings
    backup: BackupSettings
    agency_trunk: AgencyTrunkSettings
    callers: CallerSettings = CallerSettings()
    reports: ReportSettings = ReportSettings()


def parse_room(text: str, base_dir: Path = ASTERISK_DIR) -> RoomConfig:
    """`base_dir`: where relative paths in the file (the logo) are read from."""
    try:
        return RoomConfig.model_validate(tomllib.loads(text), context={"base_dir": base_dir})
    except tomllib.TOMLDecodeError as error:
        raise RoomConfigError(f"room configuration is not valid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "room"
        raise RoomConfigError(f"room configuration: {where}: {first['msg']}") from None


def load_room(path: Path = DEFAULT_ROOM_FILE) -> RoomConfig:
    return parse_room(path.read_text(encoding="utf-8"), path.parent)
