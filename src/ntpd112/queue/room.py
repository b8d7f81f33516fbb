"""The room configuration (asterisk/room.toml): the operators' queue, overflow, priorities, the agency trunk.

Pure: parsing, validation and rendering into Asterisk configuration. The queue must work from the dialplan alone,
so everything the fail-safe path needs is rendered into Asterisk's own files, not kept only in the service.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ntpd112.paths import ASTERISK_DIR

DEFAULT_ROOM_FILE = ASTERISK_DIR / "room.toml"
QUEUE_NAME = "ntpd112-operators"
HOLD_MUSIC_CLASS = "ntpd112-hold"
_ENDPOINT = r"^[a-z][a-z0-9_-]{0,39}$"


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


class PrioritySettings(_Section):
    base: int = Field(10, ge=1, le=1000)
    with_location: int = Field(15, ge=1, le=1000)
    repeat_caller: int = Field(15, ge=1, le=1000)
    prankster: int = Field(1, ge=0, le=1000)


class SupervisorSettings(_Section):
    endpoints: tuple[Annotated[str, Field(pattern=_ENDPOINT)], ...] = Field(min_length=1)
    ring_seconds: int = Field(30, ge=5, le=300)


class BackupSettings(_Section):
    number: str = Field(pattern=r"^\+?[0-9]{3,15}$")
    ring_seconds: int = Field(45, ge=5, le=300)


class AgencyTrunkSettings(_Section):
    name: str = Field(pattern=_ENDPOINT)
    contact: str = Field(pattern=r"^sips?:[A-Za-z0-9.:\[\]_-]+$")


class RoomConfig(_Section):
    queue: QueueSettings = QueueSettings()
    priority: PrioritySettings = PrioritySettings()
    supervisors: SupervisorSettings
    backup: BackupSettings
    agency_trunk: AgencyTrunkSettings


def parse_room(text: str) -> RoomConfig:
    try:
        return RoomConfig.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise RoomConfigError(f"room configuration is not valid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "room"
        raise RoomConfigError(f"room configuration: {where}: {first['msg']}") from None


def load_room(path: Path = DEFAULT_ROOM_FILE) -> RoomConfig:
    return parse_room(path.read_text(encoding="utf-8"))


def render_queues(room: RoomConfig) -> str:
    queue = room.queue
    return "\n".join(
        [
            "; Rendered by ntpd112 from room.toml. Do not edit: edit room.toml.",
            f"[{QUEUE_NAME}]",
            f"strategy={queue.strategy}",
            f"timeout={queue.ring_seconds}",
            "retry=1",
            f"wrapuptime={queue.wrapup_seconds}",
            f"musicclass={HOLD_MUSIC_CLASS}",
            # Nobody to ring (no operator logged in, all paused or unreachable): do not wait, ring the fallback now.
            "joinempty=paused,unavailable,invalid",
            "leavewhenempty=paused,unavailable,invalid",
            "periodic-announce=ntpd112/please-hold",
            f"periodic-announce-frequency={queue.hold_message_every_seconds}",
            "announce-position=no",
            "announce-holdtime=no",
            # Operator state comes from the device (PJSIP endpoint), so a busy softphone is not rung twice.
            "ringinuse=no",
            "autofill=yes",
            "eventwhencalled=yes",
            "eventmemberstatus=no",
            "reportholdtime=no",
            "setinterfacevar=yes",
            "setqueuevar=yes",
            "setqueueentryvar=yes",
            "",
        ]
    )


def render_dialplan_globals(room: RoomConfig) -> str:
    supervisors = "&".join(f"PJSIP/{endpoint}" for endpoint in room.supervisors.endpoints)
    return "\n".join(
        [
            "; Rendered by ntpd112 from room.toml. Do not edit: edit room.toml.",
            "[globals]",
            f"NTPD112_QUEUE={QUEUE_NAME}",
            f"NTPD112_OVERFLOW_AFTER={room.queue.overflow_after_seconds}",
            f"NTPD112_INTAKE_DEADLINE={room.queue.intake_deadline_seconds}",
            f"NTPD112_PRIORITY_BASE={room.priority.base}",
            f"NTPD112_SUPERVISORS={supervisors}",
            f"NTPD112_SUPERVISORS_RING={room.supervisors.ring_seconds}",
            f"NTPD112_BACKUP_NUMBER={room.backup.number}",
            f"NTPD112_BACKUP_RING={room.backup.ring_seconds}",
            f"NTPD112_AGENCY_TRUNK={room.agency_trunk.name}",
            "",
        ]
    )


def render_agency_trunk(room: RoomConfig) -> str:
    trunk = room.agency_trunk
    return "\n".join(
        [
            "; The outbound trunk for agency numbers and the backup number. It accepts no calls in.",
            f"[{trunk.name}](ntpd112-outbound-trunk)",
            f"aors={trunk.name}",
            "",
            f"[{trunk.name}](ntpd112-trunk-aor)",
            f"contact={trunk.contact}",
            "",
        ]
    )


def render_music_on_hold() -> str:
    # The caller hears the greeting, then the hold message, while operators are rung: no delay before ringing.
    return f"[{HOLD_MUSIC_CLASS}]\nmode=files\ndirectory=/usr/share/asterisk/sounds/ntpd112/hold\nsort=alpha\n"
