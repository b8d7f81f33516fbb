from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from ntpd112.routing.agencies import (
    Agency,
    ExternalNumber,
    HuntGroup,
    RingStrategy,
    Target,
    default_agencies,
    default_targets,
)

TARGET = TypeAdapter(Target)


def test_default_directory_has_the_named_agencies() -> None:
    ids = {a.id for a in default_agencies()}
    for wanted in (
        "polres",
        "damkar",
        "basarnas",
        "bpbd",
        "psc119",
        "rsud",
        "pln",
        "pdam",
        "dp3a",
        "dishub",
        "satpolpp",
        "dlhk",
        "pmi",
        "ntpd112",
    ):
        assert wanted in ids


def test_default_targets_reference_known_agencies_and_are_unique() -> None:
    agencies = {a.id for a in default_agencies()}
    targets = default_targets()
    assert len({t.id for t in targets}) == len(targets)
    assert all(t.agency in agencies for t in targets)


def test_default_external_numbers() -> None:
    numbers = {t.agency: t.number for t in default_targets() if isinstance(t, ExternalNumber)}
    assert numbers == {
        "polres": "110",
        "damkar": "113",
        "basarnas": "115",
        "bpbd": "117",
        "psc119": "119",
        "pln": "123",
    }
    assert {t.trunk for t in default_targets("trunk-b") if isinstance(t, ExternalNumber)} == {"trunk-b"}


@pytest.mark.parametrize("number", ["110", "0251123456", "628123456789012"])
def test_dialable_numbers_accepted(number: str) -> None:
    assert ExternalNumber(id="x", agency="a", number=number, trunk="t").number == number


@pytest.mark.parametrize(
    "number", ["12", "1234567890123456", "+62251", "110\n", "110,5", "11a", "1 10", "110)", "${EXTEN}", ""]
)
def test_undialable_numbers_refused(number: str) -> None:
    with pytest.raises(ValidationError):
        ExternalNumber(id="x", agency="a", number=number, trunk="t")


@pytest.mark.parametrize(
    "endpoint",
    [
        "desk1&PJSIP/evil",
        "a,b",
        "desk)",
        "${CALLERID(num)}",
        "desk1\n",
        "desk1\nexten => s,1,System(id)",
        "-desk",
        "desk-",
        "de sk",
        "desk;x",
        "desk@trunk",
        "PJSIP/desk",
        "",
        "a" * 65,
    ],
)
def test_unsafe_endpoint_names_refused(endpoint: str) -> None:
    with pytest.raises(ValidationError):
        HuntGroup(id="g", agency="a", endpoints=[endpoint])
    with pytest.raises(ValidationError):
        ExternalNumber(id="x", agency="a", number="110", trunk=endpoint)


@pytest.mark.parametrize("endpoint", ["desk1", "Desk.1", "psc119-desk_2", "a"])
def test_endpoint_names_accepted(endpoint: str) -> None:
    assert HuntGroup(id="g", agency="a", endpoints=[endpoint]).endpoints == [endpoint]


@pytest.mark.parametrize("timeout", [5, 30, 300])
def test_timeout_in_range(timeout: int) -> None:
    assert HuntGroup(id="g", agency="a", endpoints=["d"], timeout=timeout).timeout == timeout


@pytest.mark.parametrize("timeout", [0, 4, 301, -1])
def test_timeout_out_of_range(timeout: int) -> None:
    with pytest.raises(ValidationError, match=r"out of range 5\.\.300"):
        ExternalNumber(id="x", agency="a", number="110", trunk="t", timeout=timeout)


def test_hunt_group_needs_unique_endpoints() -> None:
    with pytest.raises(ValidationError, match="at least one endpoint"):
        HuntGroup(id="g", agency="a", endpoints=[])
    with pytest.raises(ValidationError, match="duplicate endpoint"):
        HuntGroup(id="g", agency="a", endpoints=["d1", "d1"])


@pytest.mark.parametrize("slug", ["Polres", "pol res", "-pol", "pol-", "pol/x", ""])
def test_ids_are_slugs(slug: str) -> None:
    with pytest.raises(ValidationError):
        Agency(id=slug, name="x")


def test_target_union_from_json() -> None:
    hunt = TARGET.validate_json('{"kind": "hunt_group", "id": "g", "agency": "a", "endpoints": ["d1", "d2"]}')
    assert isinstance(hunt, HuntGroup)
    assert hunt.strategy is RingStrategy.RINGALL
    assert hunt.timeout == 30
    ext = TARGET.validate_json('{"kind": "external", "id": "n", "agency": "a", "number": "113", "trunk": "t"}')
    assert isinstance(ext, ExternalNumber)
    with pytest.raises(ValidationError):
        TARGET.validate_json('{"kind": "fax", "id": "n", "agency": "a"}')
    with pytest.raises(ValidationError):
        TARGET.validate_json('{"kind": "external", "id": "n", "agency": "a", "number": "113", "trunk": "t", "x": 1}')
