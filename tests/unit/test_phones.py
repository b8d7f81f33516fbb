"""The phone directory's rules: operators and agency desks follow one name, contact and caller id rule, and a
name held by one kind is refused to the other."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from pydantic import ValidationError

from ntpd112.dispatch.desks import DeskError, NewDesk
from ntpd112.pbx.ami_actions import DBPut
from ntpd112.pbx.names import DESK_CONTEXT
from ntpd112.pbx.phones import DeskPhone, md5_cred, name_taken, new_sip_password, put_actions
from ntpd112.queue.operators import NewOperator, OperatorError
from ntpd112.routing.agencies import ENDPOINT_PATTERN

GOOD_NAMES = ["a", "op1", "psc119-desk_2", "x" * 40]
BAD_NAMES = [
    "",
    "Op1",
    "1op",
    "op 1",
    "op.1",
    "x" * 41,
    "op1&PJSIP/evil",
    "op1\n",
    "trunk-telkomsel",
    "agency-trunk",
    "anonymous",
]


def _operator(username: str, **fields: Any) -> NewOperator:
    return NewOperator.model_validate({"username": username, "name": "Rina"} | fields)


def _desk(endpoint: str, **fields: Any) -> NewDesk:
    return NewDesk.model_validate({"endpoint": endpoint, "agency": "damkar", "name": "Damkar"} | fields)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_operators_and_desks_accept_the_same_names(name: str) -> None:
    assert _operator(name).username == name
    assert _desk(name).endpoint == name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_operators_and_desks_refuse_the_same_names(name: str) -> None:
    with pytest.raises(ValidationError):
        _operator(name)
    with pytest.raises(ValidationError):
        _desk(name)


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_every_phone_name_can_be_rung_from_a_routing_table(name: str) -> None:
    assert re.fullmatch(ENDPOINT_PATTERN, name)


@pytest.mark.parametrize("contact", ["sip:127.0.0.35:5070", "sip:desk@10.0.0.5", "sip:desk@[::1]:5070"])
def test_one_contact_rule(contact: str) -> None:
    assert _operator("op1", contact=contact).contact == contact
    assert _desk("desk1", contact=contact).contact == contact


@pytest.mark.parametrize("contact", ["sip:a@b;evil=1", "sip:a@b\r\nX: y", "tel:112", "sip:a b"])
def test_one_contact_rule_refuses(contact: str) -> None:
    with pytest.raises(ValidationError):
        _operator("op1", contact=contact)
    with pytest.raises(ValidationError):
        _desk("desk1", contact=contact)


def test_caller_id_names_are_made_printable_with_a_fallback_per_kind() -> None:
    assert _operator("op1", name='Ri"na <x>\x07 ').name == "Rina x"
    assert _desk("desk1", name='Dam"kar\\').name == "Damkar"
    assert _operator("op1", name='"<>"').name == "operator"
    assert _desk("desk1", name='"<>"').name == "desk"


@pytest.mark.parametrize("kind", [OperatorError, DeskError])
def test_a_taken_name_is_a_clear_refusal(kind: type[OperatorError] | type[DeskError]) -> None:
    error = name_taken("damkar-desk1", "agency desk", kind)
    assert isinstance(error, kind)
    assert (error.status, error.error_id) == (409, "name_taken")
    assert error.details == {"name": "damkar-desk1", "held_by": "agency desk"}


def test_one_builder_writes_endpoint_auth_and_aor_into_astdb() -> None:
    password, digest = new_sip_password("desk1")
    assert len(password) >= 16 and digest == md5_cred("desk1", password)
    phone = DeskPhone("desk1", "Damkar", digest, "sip:127.0.0.51:5070", DESK_CONTEXT)
    actions = put_actions(phone)
    assert [(a.family, a.key) for a in actions] == [
        ("ntpd112/endpoint", "desk1"),
        ("ntpd112/auth", "desk1"),
        ("ntpd112/aor", "desk1"),
    ]
    assert all(isinstance(a, DBPut) for a in actions)
    endpoint, auth, aor = (json.loads(a.value) for a in actions)
    assert endpoint["context"] == DESK_CONTEXT and endpoint["callerid"] == '"Damkar" <desk1>'
    # Every request from the phone is authenticated, and its REFER (transfer button) is refused.
    assert endpoint["auth"] == "desk1" and endpoint["allow_transfer"] == "no"
    assert auth["md5_cred"] == digest and auth["username"] == "desk1"
    assert aor["contact"] == "sip:127.0.0.51:5070" and aor["qualify_frequency"] == "0"
