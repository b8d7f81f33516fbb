"""The webhook's signature as a receiver checks it, and the agency's webhook settings as the routing table takes
them."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from ntpd112.routing.agencies import Agency, Webhook
from ntpd112.routing.defaults import default_table
from ntpd112.routing.tables import RoutingTable
from ntpd112.routing.windows import TimeWindow
from ntpd112.tickets.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, signature, signed_headers, verify

SECRET = "s3cret-of-damkar-0123"
BODY = b'{"event":"ticket.created"}'
NOW = 1_796_000_000


def test_a_signed_body_verifies_and_any_change_to_it_does_not() -> None:
    headers = signed_headers(SECRET, "ticket.created", uuid.uuid4(), BODY, NOW)
    stamp, mac = headers[TIMESTAMP_HEADER], headers[SIGNATURE_HEADER]
    assert mac.startswith("sha256=") and len(mac) == len("sha256=") + 64
    assert verify(SECRET, stamp, mac, BODY, NOW + 10)
    assert not verify(SECRET, stamp, mac, BODY + b" ", NOW)  # the body
    assert not verify("another-secret-0123456", stamp, mac, BODY, NOW)  # the secret
    assert not verify(SECRET, str(NOW + 1), mac, BODY, NOW)  # the timestamp is signed too
    assert not verify(SECRET, None, mac, BODY, NOW)
    assert not verify(SECRET, "12a", mac, BODY, NOW)


def test_a_replayed_request_is_refused_once_its_timestamp_is_old() -> None:
    stamp = str(NOW)
    mac = signature(SECRET, NOW, BODY)
    assert verify(SECRET, stamp, mac, BODY, NOW + 299)
    assert not verify(SECRET, stamp, mac, BODY, NOW + 301)
    assert not verify(SECRET, stamp, mac, BODY, NOW - 301)  # from the future


@pytest.mark.parametrize(
    "url",
    ["ftp://gateway.example/hook", "file:///etc/passwd", "gateway.example/hook", "https://user:pw@gw.example/hook"],
)
def test_a_webhook_url_is_http_or_https_without_credentials(url: str) -> None:
    with pytest.raises(ValidationError):
        Webhook(url=url)  # type: ignore[arg-type]


def test_a_webhook_is_part_of_the_agency_and_sends_no_caller_number_unless_told() -> None:
    agency = Agency.model_validate({"id": "damkar", "name": "Damkar", "webhook": {"url": "https://wa.example/112"}})
    assert agency.webhook is not None and not agency.webhook.include_caller_number


def test_the_table_refuses_office_hours_across_midnight_and_a_kecamatan_with_two_camats() -> None:
    data = default_table().model_dump(mode="json")
    with pytest.raises(ValidationError, match="office hours end on the day they start"):
        RoutingTable.model_validate(data | {"office_hours": TimeWindow(start="22:00", end="06:00").model_dump()})
    camat = {"kecamatan": "Pagedangan", "contact": {"name": "Camat Pagedangan", "phone": "+62811000111"}}
    with pytest.raises(ValidationError, match="duplicate kecamatan 'pagedangan'"):
        RoutingTable.model_validate(data | {"camats": [camat, camat | {"kecamatan": "pagedangan"}]})
    table = RoutingTable.model_validate(data | {"camats": [camat]})
    assert table.camat("PAGEDANGAN ") is not None and table.camat("Legok") is None and table.camat(None) is None
