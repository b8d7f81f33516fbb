"""The SIP edge as the shipped files render it: trunks by address only, optional trunk digest auth whose password
comes from the environment and never lands in a file, no transfer feature in the queue, the AMI user's rights."""

from __future__ import annotations

import re

import pytest

from ntpd112.paths import ASTERISK_DIR, DIALPLAN_DIR
from ntpd112.pbx.asterisk_config import (
    TrunkConfigError,
    parse_trunks,
    render_include_files,
    render_manager_user,
    render_trunks,
)
from ntpd112.pbx.names import AMI_EVENTS
from ntpd112.pbx.phones import md5_cred
from ntpd112.room.config import load_room

TRUNK = 'name="telkomsel"\noperator="Telkomsel"\nnetwork="mobile"\nmatch=["192.0.2.10"]\ncontact="sip:192.0.2.10"\n'
AUTH = 'auth={username="telkomsel-in", password_env="NTPD112_TRUNK_TELKOMSEL_PASSWORD"}\n'
PASSWORD = "correct horse battery staple"


def _sections(text: str) -> dict[str, list[str]]:
    """Section header (with its template) -> its option lines, of an Asterisk config file."""
    sections: dict[str, list[str]] = {}
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith("["):
            current = sections.setdefault(line, [])
        elif line and not line.startswith(";"):
            current.append(line)
    return sections


def test_trunk_templates_identify_by_address_only_and_refuse_transfers() -> None:
    sections = _sections((ASTERISK_DIR / "pjsip_ntpd112.conf").read_text(encoding="utf-8"))
    for template in ("[ntpd112-trunk](!)", "[ntpd112-outbound-trunk](!)"):
        assert "identify_by=ip" in sections[template], template
        assert "allow_transfer=no" in sections[template], template
    # Trusting P-Asserted-Identity is safe only on endpoints matched by address.
    assert "trust_id_inbound=yes" in sections["[ntpd112-trunk](!)"]
    assert "trust_id_inbound=yes" not in sections["[ntpd112-outbound-trunk](!)"]


def test_a_trunk_without_auth_renders_no_auth_object() -> None:
    text = render_trunks(parse_trunks("[[trunk]]\n" + TRUNK), {})
    assert "type=auth" not in text and "auth=" not in text


def test_trunk_auth_renders_the_digest_of_the_password_from_the_environment_never_the_password() -> None:
    table = parse_trunks("[[trunk]]\n" + TRUNK + AUTH)
    text = render_trunks(table, {"NTPD112_TRUNK_TELKOMSEL_PASSWORD": PASSWORD})

    sections = _sections(text)
    assert sections["[trunk-telkomsel](ntpd112-trunk)"] == ["auth=trunk-telkomsel-auth", "aors=trunk-telkomsel"]
    assert sections["[trunk-telkomsel-auth]"] == [
        "type=auth",
        "auth_type=md5",
        "username=telkomsel-in",
        "realm=ntpd112",
        f"md5_cred={md5_cred('telkomsel-in', PASSWORD)}",
    ]
    assert sections["[trunk-telkomsel-identify]"] == ["type=identify", "endpoint=trunk-telkomsel", "match=192.0.2.10"]
    assert PASSWORD not in text


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({}, "NTPD112_TRUNK_TELKOMSEL_PASSWORD is not set"),
        ({"NTPD112_TRUNK_TELKOMSEL_PASSWORD": "short"}, "16 to 128 printable characters"),
        ({"NTPD112_TRUNK_TELKOMSEL_PASSWORD": "x" * 129}, "16 to 128 printable characters"),
        ({"NTPD112_TRUNK_TELKOMSEL_PASSWORD": "sixteen-chars\nplus"}, "16 to 128 printable characters"),
    ],
)
def test_an_unusable_trunk_password_stops_rendering_naming_trunk_and_variable(
    environ: dict[str, str], problem: str
) -> None:
    table = parse_trunks("[[trunk]]\n" + TRUNK + AUTH)
    with pytest.raises(TrunkConfigError, match=f"trunk telkomsel: auth.password_env: .*{re.escape(problem)}"):
        render_trunks(table, environ)


@pytest.mark.parametrize(
    ("auth", "problem"),
    [
        ('auth={username="x", password="in-the-file-1234"}\n', "trunk.0.auth.password"),  # never a password here
        ('auth={username="x", password_env="lower_case"}\n', "trunk.0.auth.password_env"),
        ('auth={username="x", password_env="A;B"}\n', "trunk.0.auth.password_env"),
        ('auth={username="x]\\n[evil", password_env="A"}\n', "trunk.0.auth.username"),
        ('auth={password_env="A"}\n', "trunk.0.auth.username"),
    ],
)
def test_invalid_trunk_auth_is_refused_naming_the_field(auth: str, problem: str) -> None:
    with pytest.raises(TrunkConfigError, match=re.escape(problem)):
        parse_trunks("[[trunk]]\n" + TRUNK + auth)


def test_the_queue_gives_the_operator_no_transfer_feature() -> None:
    dialplan = (DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8")
    calls = re.findall(r"\b(Queue|Dial)\((.*)\)$", dialplan, re.MULTILINE)
    assert [app for app, _ in calls].count("Queue") == 1 and "Dial" in [app for app, _ in calls]
    for app, arguments in calls:
        options = arguments.split(",")[1 if app == "Queue" else 2]
        letters = re.sub(r"\([^)]*\)", "", options)  # m(class), U(context): the arguments are not options
        assert not set(letters) & {"t", "T"}, (app, arguments)


def test_the_ami_user_gets_only_the_classes_the_service_needs_from_loopback() -> None:
    sections = _sections(render_manager_user("ntpd112", "secret-1"))
    lines = sections["[ntpd112]"]
    assert "deny=0.0.0.0/0.0.0.0" in lines and "permit=127.0.0.1/255.255.255.255" in lines
    rights = {
        line.split("=")[0]: set(line.split("=")[1].split(",")) for line in lines if line.startswith(("read", "write"))
    }
    assert rights == {"read": {"agent", "user", "call", "system"}, "write": {"agent", "call", "originate", "system"}}
    # Of what those classes carry, only the events the service subscribes to come through: include filters by name.
    filters = [line for line in lines if line.startswith("eventfilter")]
    assert filters == [f"eventfilter(action(include),name({event}))=" for event in AMI_EVENTS]
    assert {"QueueCallerJoin", "UserEvent", "OriginateResponse", "QueueMemberPause", "ContactStatus"} <= set(AMI_EVENTS)


def test_include_files_carry_the_trunk_auth_only_with_its_password() -> None:
    table = parse_trunks("[[trunk]]\n" + TRUNK + AUTH)
    room = load_room()
    with pytest.raises(TrunkConfigError):
        render_include_files(table, room, "ari", "a", "ami", "b", {})
    files = render_include_files(table, room, "ari", "a", "ami", "b", {"NTPD112_TRUNK_TELKOMSEL_PASSWORD": PASSWORD})
    assert "[trunk-telkomsel-auth]" in files["pjsip_ntpd112_trunks.conf"]


def test_every_trunk_ends_calls_without_audio_after_the_rooms_media_timeout() -> None:
    table = parse_trunks("[[trunk]]\n" + TRUNK)
    room = load_room()
    short = room.model_copy(update={"callers": room.callers.model_copy(update={"media_timeout_seconds": 7})})
    trunks = render_include_files(table, short, "ari", "a", "ami", "b", {})["pjsip_ntpd112_trunks.conf"]
    endpoint = trunks.split("[trunk-telkomsel](ntpd112-trunk)\n", 1)[1].split("\n\n", 1)[0]
    assert "rtp_timeout=7" in endpoint.splitlines()
    # Only the trunks: the agency trunk carries calls the room places, whose far end may well stay silent.
    assert trunks.count("rtp_timeout=") == 1
    assert room.callers.media_timeout_seconds == 30
