"""SIP phones at desks (operators, supervisors, agency desks) as PJSIP objects in AstDB.

Sorcery's astdb wizard (asterisk/local/sorcery.conf) reads endpoints, auths and aors from AstDB family `ntpd112`,
so the service adds a phone over AMI DBPut and a remote Asterisk needs no file edits. Every kind of desk phone is
written here, so operators and agency desks cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ntpd112.logs import get_logger
from ntpd112.pbx.ami import AmiClient, AmiError

log = get_logger(__name__)

SIP_REALM = "ntpd112"
ASTDB_FAMILY = "ntpd112"
PJSIP_KINDS = ("endpoint", "auth", "aor")


def md5_cred(username: str, password: str) -> str:
    # What PJSIP's auth_type=md5 wants: the HA1 of RFC 2617. Not a password hash for storage strength; it is what
    # lets the SIP password itself never be stored anywhere.
    return hashlib.md5(f"{username}:{SIP_REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


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


def put_actions(phone: DeskPhone) -> list[dict[str, str]]:
    """The AMI DBPut actions that create (or overwrite) the phone's PJSIP objects."""
    return [
        {
            "Action": "DBPut",
            "Family": f"{ASTDB_FAMILY}/{kind}",
            "Key": phone.username,
            "Val": json.dumps(fields, separators=(",", ":")),
        }
        for kind, fields in pjsip_objects(phone).items()
    ]


async def delete_phone(ami: AmiClient, username: str) -> None:
    for kind in PJSIP_KINDS:
        try:
            await ami.send({"Action": "DBDel", "Family": f"{ASTDB_FAMILY}/{kind}", "Key": username})
        except AmiError as error:
            log.warning("ami DBDel failed", username=username, error=str(error))


async def reload_pjsip(ami: AmiClient) -> None:
    # Quirk: an endpoint that sorcery reads from AstDB, with a static contact, stays "Unavailable" (and
    # app_queue will not ring it) until res_pjsip is reloaded; registering phones are not affected.
    try:
        await ami.send({"Action": "ModuleLoad", "Module": "res_pjsip.so", "LoadType": "reload"})
    except AmiError as error:
        log.warning("ami res_pjsip reload failed", error=str(error))
