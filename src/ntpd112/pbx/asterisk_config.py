"""The Asterisk configuration ntpd112 ships, rendered from the project's files and settings (trunks.toml,
room.toml). Pure: no I/O here except reading the trunk table in `load_trunks` and the shipped files.

`render_include_files` gives the files an existing /etc/asterisk includes (pjsip, dialplan, AMI and ARI users);
the local Asterisk (devtools/local_asterisk.py) adds its own top-level files around them. A trunk's digest password
is never in a file of the repository: trunks.toml names the environment variable that holds it, and rendering reads
it from the environment it is given.
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ntpd112.intake.numbering import CallerNumbering
from ntpd112.paths import ASTERISK_DIR, DIALPLAN_DIR
from ntpd112.pbx.names import AMI_EVENTS, HOLD_MUSIC_CLASS, INTAKE_CHANNEL_VARIABLES, QUEUE_NAME
from ntpd112.pbx.phones import SIP_REALM, md5_cred
from ntpd112.room.config import RoomConfig
from ntpd112.sip_names import SipName

DEFAULT_TRUNKS_FILE = ASTERISK_DIR / "trunks.toml"


class TrunkConfigError(ValueError):
    """The trunk table is invalid; the message names the trunk and field."""


MIN_TRUNK_PASSWORD = 16
MAX_TRUNK_PASSWORD = 128


class TrunkAuth(BaseModel):
    """Digest authentication the trunk must pass on top of coming from its addresses. The password is read from the
    environment variable `password_env` when the configuration is rendered."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: SipName
    password_env: str = Field(pattern=r"^[A-Z_][A-Z0-9_]{0,63}$")

    def password(self, environ: Mapping[str, str]) -> str:
        value = environ.get(self.password_env)
        if value is None:
            raise ValueError(f"environment variable {self.password_env} is not set")
        if not MIN_TRUNK_PASSWORD <= len(value) <= MAX_TRUNK_PASSWORD or not value.isprintable():
            raise ValueError(
                f"{self.password_env} must be {MIN_TRUNK_PASSWORD} to {MAX_TRUNK_PASSWORD} printable characters"
            )
        return value


class Trunk(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: SipName  # inside Asterisk config section headers and dialplan
    operator: str = Field(min_length=1, max_length=80, pattern=r"^[^\[\]\r\n;]+$")
    network: Literal["mobile", "fixed"]
    match: tuple[str, ...] = Field(min_length=1)
    contact: str | None = Field(None, pattern=r"^sips?:[A-Za-z0-9.:\[\]_-]+$")
    numbers: CallerNumbering = CallerNumbering()  # how it presents calling numbers; callbacks dial them so
    auth: TrunkAuth | None = None

    @field_validator("match")
    @classmethod
    def _addresses(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        for value in values:
            ipaddress.ip_network(value, strict=False)  # raises ValueError with a clear message
        return values

    @property
    def endpoint(self) -> str:
        return f"trunk-{self.name}"


class TrunkTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    trunk: tuple[Trunk, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> TrunkTable:
        names = [t.name for t in self.trunk]
        duplicates = {n for n in names if names.count(n) > 1}
        if duplicates:
            raise ValueError(f"duplicate trunk names: {', '.join(sorted(duplicates))}")
        return self

    def by_endpoint(self, endpoint: str) -> Trunk | None:
        return next((t for t in self.trunk if t.endpoint == endpoint), None)

    def by_name(self, name: str) -> Trunk | None:
        return next((t for t in self.trunk if t.name == name), None)


def parse_trunks(text: str) -> TrunkTable:
    try:
        return TrunkTable.model_validate(tomllib.loads(text))
    except tomllib.TOMLDecodeError as error:
        raise TrunkConfigError(f"trunk table is not valid TOML: {error}") from None
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TrunkConfigError(f"trunk table: {where}: {first['msg']}") from None


def load_trunks(path: Path = DEFAULT_TRUNKS_FILE) -> TrunkTable:
    return parse_trunks(path.read_text(encoding="utf-8"))


def render_trunks(table: TrunkTable, environ: Mapping[str, str], media_timeout_seconds: int | None = None) -> str:
    """pjsip objects of the trunks; `environ` holds the passwords of trunks with `auth` (TrunkConfigError if one is
    missing or unusable); `media_timeout_seconds` ends a call whose caller sends no RTP that long (room.toml)."""
    lines = ["; Rendered by `ntpd112 asterisk render` from trunks.toml. Do not edit: edit trunks.toml.", ""]
    for trunk in table.trunk:
        lines += [f"; {trunk.operator} ({trunk.network})", f"[{trunk.endpoint}](ntpd112-trunk)"]
        lines += [f"auth={trunk.endpoint}-auth"] if trunk.auth else []
        lines += [f"aors={trunk.endpoint}"] if trunk.contact else []
        lines += [f"rtp_timeout={media_timeout_seconds}"] if media_timeout_seconds else []
        if trunk.auth:
            lines += ["", *_trunk_auth(trunk, trunk.auth, environ)]
        if trunk.contact:
            lines += ["", f"[{trunk.endpoint}](ntpd112-trunk-aor)", f"contact={trunk.contact}"]
        lines += ["", f"[{trunk.endpoint}-identify]", "type=identify", f"endpoint={trunk.endpoint}"]
        lines += [f"match={address}" for address in trunk.match]
        lines.append("")
    return "\n".join(lines)


def _trunk_auth(trunk: Trunk, auth: TrunkAuth, environ: Mapping[str, str]) -> list[str]:
    try:
        password = auth.password(environ)
    except ValueError as error:
        raise TrunkConfigError(f"trunk {trunk.name}: auth.password_env: {error}") from None
    # Only the digest (HA1) is written, so the rendered file does not carry the password itself.
    return [
        f"[{trunk.endpoint}-auth]",
        "type=auth",
        "auth_type=md5",
        f"username={auth.username}",
        f"realm={SIP_REALM}",
        f"md5_cred={md5_cred(auth.username, password)}",
    ]


def render_ari_user(username: str, password: str) -> str:
    return f"[{username}]\ntype=user\nread_only=no\npassword_format=plain\npassword={password}\n"


def render_ari_general() -> str:
    # Included inside ari.conf's [general] (an #include continues the section it is in): StasisStart then carries
    # what the dialplan copied for intake (extensions_ntpd112.conf, ntpd112-emergency).
    return f"channelvars={','.join(INTAKE_CHANNEL_VARIABLES)}\n"


def render_manager_user(username: str, password: str) -> str:
    # Only loopback may log in, with the least rights the service needs (classes from Asterisk 22's manager.c,
    # app_queue.c, db.c). Read: agent (QueueCaller*, Agent*, QueueMember* events), user (the dialplan's UserEvents),
    # call (OriginateResponse of callbacks, DeviceStateChange), system (ContactStatus and PeerStatus of the operators'
    # phones: registered or not). Write: agent (QueueAdd/Remove/Pause), call (Setvar, Getvar, Redirect),
    # originate (Originate), system (DBPut/DBDel of phones in AstDB, Reload of res_pjsip and pbx_config: Asterisk has
    # no narrower class for them). QueueStatus, Events and Ping need none. Never `command` or `config`.
    # The `call` class alone is a dozen events per call (Newchannel, Newstate, DialBegin, BridgeEnter, Hangup, ...)
    # that the service would parse and drop: the eventfilter lets only the events it subscribes to through.
    # Asterisk quirks: the advanced form (Asterisk 21+; 22's manager.conf.sample) matches the event name by hash,
    # with no regex over the payload; its line still needs the `=` with nothing after it, or the config parser
    # complains. With include filters only, an event passes when it matches any of them. Filters apply to broadcast
    # events only: the events that answer an action (QueueStatus's QueueMember, ...) carry its ActionID and pass.
    filters = "".join(f"eventfilter(action(include),name({event}))=\n" for event in AMI_EVENTS)
    return (
        f"[{username}]\nsecret={password}\ndeny=0.0.0.0/0.0.0.0\npermit=127.0.0.1/255.255.255.255\n"
        "read=agent,user,call,system\n"
        "write=agent,call,originate,system\n"
        f"{filters}"
    )


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
            # app_queue starts the caller's recording when an operator answers (dialplan ntpd112-record says why).
            "monitor-format=wav",
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
            f"NTPD112_PULL_RING={room.queue.pull_ring_seconds}",
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


def render_include_files(
    table: TrunkTable,
    room: RoomConfig,
    ari_username: str,
    ari_password: str,
    ami_username: str,
    ami_password: str,
    environ: Mapping[str, str],
) -> dict[str, str]:
    """The files an Asterisk installation includes to run ntpd112, by file name; `environ` holds the trunks'
    passwords (TrunkConfigError when one is missing or unusable)."""
    return {
        "pjsip_ntpd112.conf": (ASTERISK_DIR / "pjsip_ntpd112.conf").read_text(encoding="utf-8"),
        "pjsip_ntpd112_trunks.conf": render_trunks(table, environ, room.callers.media_timeout_seconds)
        + "\n"
        + render_agency_trunk(room),
        "extensions_ntpd112.conf": (DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8"),
        "extensions_ntpd112_room.conf": render_dialplan_globals(room),
        "queues_ntpd112.conf": render_queues(room),
        "musiconhold_ntpd112.conf": render_music_on_hold(),
        "ari_ntpd112.conf": render_ari_user(ari_username, ari_password),
        "ari_ntpd112_general.conf": render_ari_general(),
        "manager_ntpd112.conf": render_manager_user(ami_username, ami_password),
    }
