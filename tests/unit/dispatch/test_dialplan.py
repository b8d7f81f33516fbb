from __future__ import annotations

import re
from typing import Any

import pytest

from ntpd112.pbx.routes_dialplan import DialplanRenderError, render_dialplan
from ntpd112.routing.agencies import ExternalNumber, HuntGroup
from ntpd112.routing.categories import Category
from ntpd112.routing.defaults import default_table
from ntpd112.routing.matching import failsafe_routes
from ntpd112.routing.tables import RoutingTable, RoutingTableError
from ntpd112.routing.validation import load_table
from tests.unit.dispatch.builders import OFFICE, raw_table, rule, table

ANSWERED = ' same => n,GotoIf($["${DIALSTATUS}" = "ANSWER"]?done)'


def extension(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"exten => {name},1,"))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].startswith(" same => ")), len(lines))
    return lines[start:end]


def test_golden_extension_ringall_external_and_linear() -> None:
    t = table(rule("fire", ["fire"], chain=("police-desk", "police-110", "fire-desk")))
    assert extension(render_dialplan(t), "cat-fire") == [
        "exten => cat-fire,1,NoOp(ntpd112 fail-safe: category fire, rule fire)",
        " same => n,Dial(PJSIP/pol1&PJSIP/pol2,30)",
        ANSWERED,
        " same => n,Dial(PJSIP/110@agency-trunk,30)",
        ANSWERED,
        " same => n,Dial(PJSIP/fire1,20)",  # linear: one Dial per endpoint
        ANSWERED,
        " same => n,Dial(PJSIP/fire2,20)",
        ANSWERED,
        " same => n,Gosub(ntpd112-routes,default,1)",
        " same => n,Return(${GOSUB_RETVAL})",
        " same => n(done),Return(${DIALSTATUS})",
    ]


def test_default_extension_and_header() -> None:
    text = render_dialplan(table())
    lines = text.splitlines()
    assert lines[0].startswith("; ntpd112 fail-safe routes, generated from routing table version 1 (sha256 ")
    assert "[ntpd112-routes]" in lines
    assert extension(text, "default") == [
        "exten => default,1,NoOp(ntpd112 fail-safe: default chain)",
        " same => n,Dial(PJSIP/sup1,30)",
        ANSWERED,
        " same => n(done),Return(${DIALSTATUS})",
    ]
    assert text.endswith("\n")


def test_step_timeouts_are_used() -> None:
    t = table({"id": "crime", "categories": ["crime"], "chain": [{"target": "police-110", "timeout": 12}]})
    assert " same => n,Dial(PJSIP/110@agency-trunk,12)" in extension(render_dialplan(t), "cat-crime")


def test_continuations_are_rendered_in_order() -> None:
    t = table(rule("accident", ["traffic_accident"], chain=("police-110",), then="med"), rule("med", ["medical"]))
    dials = [line for line in extension(render_dialplan(t), "cat-traffic_accident") if "Dial(" in line]
    assert dials == [
        " same => n,Dial(PJSIP/110@agency-trunk,30)",
        " same => n,Dial(PJSIP/pol1&PJSIP/pol2,30)",
    ]


def test_every_dispatchable_category_has_an_extension_outcomes_none() -> None:
    text = render_dialplan(default_table())
    exts = re.findall(r"^exten => ([^,]+),1,", text, flags=re.MULTILINE)
    dispatchable = [c.id for c in default_table().categories if c.dispatch]
    assert exts == [f"cat-{c}" for c in dispatchable] + ["default"]
    assert "cat-prank" not in text


def test_non_emergency_categories_go_to_default_in_failsafe() -> None:
    t = table(rule("water", ["water"], chain=("pdam-desk",)))
    assert extension(render_dialplan(t), "cat-water") == [
        "exten => cat-water,1,NoOp(ntpd112 fail-safe: category water, not an emergency)",
        " same => n,Gosub(ntpd112-routes,default,1)",
        " same => n,Return(${GOSUB_RETVAL})",
    ]


def test_failsafe_ignores_area_specific_rules_and_prefers_always_on() -> None:
    t = table(
        rule("night", ["fire"], windows=[{"start": "22:00", "end": "06:00"}], priority=50, chain=("hq",)),
        rule("cibinong", ["fire"], areas=["Cibinong"], priority=99, chain=("police-desk",)),
        rule("always", ["fire"], chain=("fire-desk",)),
        rule("always-wild", "*", priority=1, chain=("police-110",)),
    )
    routes = {r.category: r for r in failsafe_routes(t)}
    assert routes["fire"].rule_id == "always-wild"  # priority among always-on rules
    assert routes["crime"].rule_id == "always-wild"
    assert routes["water"].rule_id is None


def test_failsafe_uses_windowed_rule_when_nothing_is_always_on() -> None:
    t = table(rule("day", ["fire"], windows=[OFFICE], chain=("fire-desk",)))
    routes = {r.category: r for r in failsafe_routes(t)}
    assert routes["fire"].rule_id == "day"
    assert routes["medical"].rule_id is None
    assert "NoOp(ntpd112 fail-safe: category medical, emergency, no area-wide rule)" in render_dialplan(t)


def test_default_table_fallen_tree_uses_24h_rule() -> None:
    routes = {r.category: r for r in failsafe_routes(default_table())}
    assert routes["fallen_tree"].rule_id == "fallen-tree"


_LINE = re.compile(
    r"""
    ;[ -~]*                                                    # comment
    | \[ntpd112-routes\]
    | exten\ =>\ (cat-[a-z][a-z0-9_]*|default),1,NoOp\(ntpd112\ fail-safe:[a-z0-9_ ,-]+\)
    | \ same\ =>\ n,Dial\(PJSIP/[A-Za-z0-9_.-]+(&PJSIP/[A-Za-z0-9_.-]+)*,[0-9]+\)
    | \ same\ =>\ n,Dial\(PJSIP/[0-9]{3,15}@[A-Za-z0-9_.-]+,[0-9]+\)
    | \ same\ =>\ n,GotoIf\(\$\["\$\{DIALSTATUS\}"\ =\ "ANSWER"\]\?done\)
    | \ same\ =>\ n,Gosub\(ntpd112-routes,default,1\)
    | \ same\ =>\ n,Return\(\$\{GOSUB_RETVAL\}\)
    | \ same\ =>\ n\(done\),Return\(\$\{DIALSTATUS\}\)
    | (?#blank line)
    """,
    re.VERBOSE,
)


def test_every_rendered_line_has_a_known_shape() -> None:
    for line in render_dialplan(default_table()).splitlines():
        assert _LINE.fullmatch(line), line


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("endpoint", "pol1&PJSIP/evil"),
        ("endpoint", "pol1,300,U(evil)"),
        ("endpoint", "pol1)\nexten => s,1,System(rm -rf /)"),
        ("endpoint", "${SHELL(id)}"),
        ("endpoint", "pol1;comment"),
        ("number", "110,1,G(evil)"),
        ("number", "110&PJSIP/evil"),
        ("number", "110\n"),
        ("trunk", "agency-trunk,1"),
        ("trunk", "trunk@evil"),
        ("trunk", "trunk)"),
        ("category", "fire,1,System(id)"),
        ("category", "fire\nexten"),
        ("rule", "fire)\n[evil]"),
    ],
)
def test_injection_attempts_are_refused_at_load(where: str, value: str) -> None:
    raw: dict[str, Any] = raw_table(rule("fire", ["fire"], chain=("police-desk", "police-110")))
    if where == "endpoint":
        raw["targets"][0]["endpoints"] = [value]
    elif where == "number":
        raw["targets"][1]["number"] = value
    elif where == "trunk":
        raw["targets"][1]["trunk"] = value
    elif where == "category":
        raw["categories"] = [{"id": value, "label_id": "x", "label_en": "x", "emergency": True}]
        raw["rules"][0]["categories"] = [value]
    else:
        raw["rules"][0]["id"] = value
    with pytest.raises(RoutingTableError):
        load_table(raw)


def _bypassed(**changes: Any) -> RoutingTable:
    good = table(rule("fire", ["fire"], chain=("police-desk", "police-110")))
    data = dict(good)
    data.update(changes)
    return RoutingTable.model_construct(**data)


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydantic warns when serialising the bad values
def test_render_rechecks_values_that_bypassed_validation() -> None:
    evil_group = HuntGroup.model_construct(
        kind="hunt_group", id="police-desk", agency="police", endpoints=["pol1&PJSIP/evil"], timeout=30
    )
    evil_number = ExternalNumber.model_construct(
        kind="external",
        id="police-110",
        agency="police",
        number="110,1,U(x)",
        trunk="agency-trunk",
        timeout=30,
    )
    evil_trunk = ExternalNumber.model_construct(
        kind="external", id="police-110", agency="police", number="110", trunk="t\nexten => x", timeout=30
    )
    evil_timeout = ExternalNumber.model_construct(
        kind="external",
        id="police-110",
        agency="police",
        number="110",
        trunk="t",
        timeout="30,U(x)",  # type: ignore[arg-type]
    )
    good = table(rule("fire", ["fire"], chain=("police-desk", "police-110")))
    for evil in (evil_group, evil_number, evil_trunk):
        targets = [evil if t.id == evil.id else t for t in good.targets]
        with pytest.raises(DialplanRenderError, match="unsafe"):
            render_dialplan(_bypassed(targets=targets))
    targets = [evil_timeout if t.id == evil_timeout.id else t for t in good.targets]
    with pytest.raises(ValueError, match="timeout"):  # refused while resolving the chain, before rendering
        render_dialplan(_bypassed(targets=targets))
    evil_cat = Category.model_construct(id="fire,1,System(id)", label_id="x", label_en="x", emergency=True)
    with pytest.raises(DialplanRenderError, match="unsafe category"):
        render_dialplan(_bypassed(categories=[evil_cat]))
    evil_rule = good.rules[0].model_copy(update={"id": "fire)\n[x]"})
    with pytest.raises(DialplanRenderError, match="unsafe rule"):
        render_dialplan(_bypassed(rules=[evil_rule]))
    with pytest.raises(DialplanRenderError, match="unsafe version"):
        render_dialplan(_bypassed(version="1)\n[x]"))
