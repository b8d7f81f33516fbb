"""The phone directory: every SIP phone at a desk (operators, supervisors, agency desks) as PJSIP objects in AstDB.

Sorcery's astdb wizard (asterisk/local/sorcery.conf) reads endpoints, auths and aors from AstDB family `ntpd112`,
so the service adds a phone over AMI DBPut and a remote Asterisk needs no file edits. Operators and agency desks
share that one PJSIP name space: their names, contacts and caller id names follow the rules here, their phones are
built here, and a name held by one kind is refused to the other (`name_taken`; store.phones finds the holder).
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, TypeVar

from pydantic import AfterValidator, StringConstraints

from ntpd112.errors import RefusedError
from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError
from ntpd112.pbx.ami_actions import DBDel, DBPut, Reload
from ntpd112.sip_names import SipName

log = get_logger(__name__)

SIP_REALM = "ntpd112"
ASTDB_FAMILY = "ntpd112"
PJSIP_KINDS = ("endpoint", "auth", "aor")
# Trunk endpoints are `trunk-<name>`, the agency trunk is named in room.toml (`agency-trunk`): a phone may not take
# a name that could be theirs. `anonymous` is the endpoint PJSIP's anonymous identifier (loaded by autoload
# installations) hands every unidentified request to.
RESERVED_PREFIXES = ("trunk-", "agency", "anonymous")

E = TypeVar("E", bound=RefusedError)


def _not_reserved(name: str) -> str:
    if name.startswith(RESERVED_PREFIXES):
        raise ValueError("names starting with trunk-, agency or anonymous are reserved")
    return name


#: The name of a desk phone: its PJSIP endpoint, auth and aor, and the SIP user it registers as.
PhoneName = Annotated[SipName, AfterValidator(_not_reserved)]

#: A fixed address for a phone that does not register (desk phone, test agent); nothing that could smuggle a
#: parameter or header into the aor.
Contact = Annotated[str, StringConstraints(pattern=r"^sip:[A-Za-z0-9._-]+@?[A-Za-z0-9.\[\]:_-]*$")]


def printable_or(fallback: str) -> Callable[[str], str]:
    """A validator for a caller id name: no quotes, angle brackets or control characters; `fallback` if nothing
    is left."""

    def printable(value: str) -> str:
        return re.sub(r'[\x00-\x1f"<>\\]', "", value).strip() or fallback

    return printable


def name_taken(name: str, holder: str, kind: type[E]) -> E:
    return kind(
        409,
        "name_taken",
        f"{name} is already the phone of an {holder}: operators and agency desks share one SIP name space",
        {"name": name, "held_by": holder},
    )


def md5_cred(username: str, password: str) -> str:
    # What PJSIP's auth_type=md5 wants: the HA1 of RFC 2617. Not a password hash for storage strength; it is what
    # lets the SIP password itself never be stored anywhere.
    return hashlib.md5(f"{username}:{SIP_REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


def new_sip_password(username: str) -> tuple[str, str]:
    """A fresh SIP password (shown once) and the digest that is stored instead."""
    password = secrets.token_urlsafe(12)
    return password, md5_cred(username, password)


@dataclass(frozen=True)
class DeskPhone:
    username: str  # the PJSIP endpoint, auth and aor name
    name: str  # caller id name, already stripped of SIP-unsafe characters
    md5_cred: str
    contact: str | None  # a fixed address (desk phone, test agent); None: the phone registers
    context: str  # where a call the phone dials lands; desk phones may not dial out


def pjsip_objects(phone: DeskPhone) -> dict[str, dict[str, str]]:
    """The PJSIP endpoint, auth and aor of a desk phone, as sorcery's astdb wizard stores them."""
    aor = {"type": "aor", "max_contacts": "1", "remove_existing": "yes", "qualify_frequency": "30"}
    if phone.contact:
        # A phone at a fixed address (desk phone, load-test agent): no registration, and no OPTIONS probes that a
        # SIPp agent would take for an unexpected call.
        aor |= {"contact": phone.contact, "qualify_frequency": "0"}
    return {
        "endpoint": {
            "type": "endpoint",
            "context": phone.context,
            "disallow": "all",
            "allow": "alaw,ulaw",
            "auth": phone.username,
            "aors": phone.username,
            "direct_media": "no",
            "rtp_symmetric": "yes",
            "force_rport": "yes",
            "rewrite_contact": "yes",
            "callerid": f'"{phone.name}" <{phone.username}>',
            "device_state_busy_at": "1",
            # A softphone's transfer button sends REFER: it would move the 112 caller into `context`, where
            # everything is refused, and drop them. Refused with 603; dispatch transfers through ARI and AMI.
            "allow_transfer": "no",
        },
        "auth": {
            "type": "auth",
            "auth_type": "md5",
            "username": phone.username,
            "realm": SIP_REALM,
            "md5_cred": phone.md5_cred,
        },
        "aor": aor,
    }


def put_actions(phone: DeskPhone) -> list[DBPut]:
    """The AMI DBPut actions that create (or overwrite) the phone's PJSIP objects."""
    return [
        DBPut(f"{ASTDB_FAMILY}/{kind}", phone.username, json.dumps(fields, separators=(",", ":")))
        for kind, fields in pjsip_objects(phone).items()
    ]


async def put_phone(ami: AmiClient, phone: DeskPhone) -> None:
    """Create or overwrite the phone in AstDB; AmiError (AmiRefused) when Asterisk does not take it."""
    for action in put_actions(phone):
        await ami.require(action)


async def delete_phone(ami: AmiClient, username: str) -> None:
    for kind in PJSIP_KINDS:
        try:
            await ami.send(DBDel(f"{ASTDB_FAMILY}/{kind}", username))
        except AmiError as error:
            log.warning("ami DBDel failed", username=username, error=str(error))


async def reload_pjsip(ami: AmiClient) -> None:
    # Quirk: an endpoint that sorcery reads from AstDB, with a static contact, stays "Unavailable" (and
    # app_queue will not ring it) until res_pjsip is reloaded; registering phones are not affected.
    try:
        await ami.send(Reload("res_pjsip.so"))
    except AmiError as error:
        log.warning("ami res_pjsip reload failed", error=str(error))
