"""The SIP edge as the shipped files render it: trunks by address only, optional trunk digest auth whose password
comes from the environment and never lands in a file, no transfer feature in the queue, the AMI user's rights."""

from __future__ import annotations

import re

import pytest

from ntpd112.paths import ASTERISK_DIR, DIALPLAN_DIR
from ntpd112.pbx.asterisk_config import (
    TrunkConfigError,
    parse_trunks,
    render_ari_general,
    render_include_files,
    render_manager_user,
    render_queues,
    render_trunks,
)
from ntpd112.pbx.names import (
    AMI_EVENTS,
    INTAKE_CHANNEL_VARIABLES,
    INTAKE_GEOLOC_VARIABLES,
    INTAKE_HEADER_VARIABLES,
    INTAKE_HEADERS_LENGTH_VARIABLE,
)
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
        parts, at = arguments.split(","), 1 if app == "Queue" else 2
        options = parts[at] if len(parts) > at else ""  # a Dial() without options has none
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


def _priorities(dialplan: str, context: str, extension: str = "s") -> list[str]:
    """The applications of one extension of a context, in order (`exten => s,1,App(...)` and `same => n,App(...)`)."""
    body = dialplan.split(f"[{context}]\n", 1)[1].split("\n[", 1)[0]
    steps = []
    inside = False
    for line in body.splitlines():
        if line.startswith("exten =>"):
            if steps:
                break  # the next extension
            inside = line.startswith(f"exten => {extension},")
        if inside and (match := re.match(r"\s*(?:exten => \w+,1|same => n(?:\([a-z]+\))?),(.*)$", line)):
            steps.append(match.group(1))
    return steps


def test_the_dialplan_copies_every_intake_input_into_the_variables_ari_conf_lists_before_stasis() -> None:
    dialplan = (DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8")
    steps = _priorities(dialplan, "ntpd112-emergency")
    stasis = next(n for n, step in enumerate(steps) if step.startswith("Stasis("))
    answer = steps.index("Answer(,i)")
    copied = {
        match.group(1): match.group(2)
        for step in steps[answer:stasis]
        if (match := re.match(r"Set\((\w+)=(.*)\)$", step))
    }
    expected = {variable: f"${{PJSIP_HEADER(read,{header})}}" for header, variable in INTAKE_HEADER_VARIABLES.items()}
    expected |= {variable: f"${{GEOLOC_PROFILE({field})}}" for field, variable in INTAKE_GEOLOC_VARIABLES.items()}
    expected[INTAKE_HEADERS_LENGTH_VARIABLE] = "${LEN(${PJSIP_HEADERS()})}"
    assert {name: value for name, value in copied.items() if name.startswith("NTPD112_")} == expected
    # Not inherited: the variables stay on the caller's channel, not on the operator's leg the queue dials.
    assert not any(name.startswith("_") for name in copied)
    # ari.conf's [general] includes the rendered list, so that StasisStart carries exactly these variables.
    assert render_ari_general() == f"channelvars={','.join(expected)}\n"
    assert set(INTAKE_CHANNEL_VARIABLES) == set(expected)
    local_ari = _sections((ASTERISK_DIR / "local" / "ari.conf").read_text(encoding="utf-8"))
    assert "#include ari_ntpd112_general.conf" in local_ari["[general]"]
    files = render_include_files(parse_trunks("[[trunk]]\n" + TRUNK), load_room(), "ari", "a", "ami", "b", {})
    assert files["ari_ntpd112_general.conf"] == render_ari_general()


def test_the_load_test_baseline_answers_as_the_service_path_does_and_then_queues() -> None:
    emergency = _priorities((DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8"), "ntpd112-emergency")
    baseline = _priorities(
        (DIALPLAN_DIR / "extensions_ntpd112_loadtest.conf").read_text(encoding="utf-8"), "ntpd112-baseline"
    )
    answers = [step for step in emergency if step.startswith("Answer(")]
    assert answers == ["Answer(,i)"]
    assert [step for step in baseline if step.startswith("Answer(")] == answers
    # The same recording and release marks before the answer; the service path's Stasis detour is the only difference.
    assert emergency[1:5] == baseline[:4]
    assert "Gosub(ntpd112-record,prepare,1)" in baseline[:4]
    assert baseline[-1] == "Goto(ntpd112-queue,s,1)"


def test_the_recording_starts_at_the_callers_first_bridge_and_never_runs_while_they_wait() -> None:
    dialplan = (DIALPLAN_DIR / "extensions_ntpd112.conf").read_text(encoding="utf-8")
    # app_queue starts it when an operator answers: MixMonitor(MONITOR_FILENAME.wav, b + MONITOR_OPTIONS), the same
    # file and options as the dialplan's own start.
    assert "monitor-format=wav" in render_queues(load_room()).splitlines()
    prepare = _priorities(dialplan, "ntpd112-record", "prepare")
    assert prepare[0].startswith("Set(__NTPD112_RECORDING=") and prepare[0].endswith("/${UNIQUEID}.wav)")
    assert "Set(MONITOR_FILENAME=${NTPD112_RECORDING:0:-4})" in prepare
    assert "Set(MONITOR_OPTIONS=ai(NTPD112_RECORDING_ID))" in prepare
    assert "MixMonitor(${NTPD112_RECORDING},b${MONITOR_OPTIONS})" in _priorities(dialplan, "ntpd112-record", "start")
    assert "StopMixMonitor(${NTPD112_RECORDING_ID})" in _priorities(dialplan, "ntpd112-record", "stop")
    queue = _priorities(dialplan, "ntpd112-queue")
    waits = [index for index, step in enumerate(queue) if step.startswith("Queue(")]
    assert waits and all(queue[index - 1] == "Gosub(ntpd112-record,stop,1)" for index in waits)
    # Every Dial() that may bridge the caller without app_queue has started the recording before it.
    dials = 0
    for context in ("ntpd112-queue", "ntpd112-pull"):
        steps = _priorities(dialplan, context)
        for index, step in enumerate(steps):
            if step.startswith("Dial("):
                dials += 1
                recording = [before for before in steps[:index] if before.startswith("Gosub(ntpd112-record,")]
                assert recording[-1:] == ["Gosub(ntpd112-record,start,1)"], (context, step)
    assert dials == 3  # the supervisors, the backup number, the pulled-to phone
    assert not any("MixMonitor(" in step for step in _priorities(dialplan, "ntpd112-emergency"))


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
