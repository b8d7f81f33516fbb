"""AML (ETSI TS 103 625) end to end: handsets' HTTPS form posts and SMS forwarded by a gateway, matched to the
real calls SIPp places through Asterisk, stored once, and the call's best location updated."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
import time
import urllib.parse

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import func, select

from ntpd112.app import Service
from ntpd112.intake.aml import compute_aml_hmac
from ntpd112.store.models import LocationFixRow
from ntpd112.web.app import DEPS, create_app
from tests.builders import build_aml_sms
from tests.integration.conftest import AML_TEST_SECRET, unique_mobile_number, wait_until
from tests.integration.intake_calls import e164, fixes_of, intake_call, settle, stored_call


@pytest.fixture
def service(shared_service: Service) -> Service:
    # AML messages and calls against a running service and empty tables: no test here needs a fresh service.
    return shared_service


SECRET = AML_TEST_SECRET.encode()


def https_form(number: str, lat: str = "-6.28850", lon: str = "106.71800", accuracy: str = "12") -> dict[str, str]:
    fields = {
        "v": "3",
        "device_number": number,
        "location_latitude": lat,
        "location_longitude": lon,
        "location_time": str(int(time.time() * 1000)),
        "location_accuracy": accuracy,
        "location_source": "gps",
        "location_certainty": "68",
        "device_imei": "353472104343540",
        "emergency_number": "112",
    }
    return fields | {"hmac": compute_aml_hmac(fields, SECRET)}


def sms_body(number: str, radius: str = "8") -> tuple[str, dict[str, str]]:
    text = build_aml_sms(
        [
            ('A"ML', "1"),
            ("lt", "-6.28851"),
            ("lg", "106.71801"),
            ("rd", radius),
            ("top", time.strftime("%Y%m%d%H%M%S", time.gmtime())),
            ("lc", "68"),
            ("pm", "G"),
            ("ei", "353472104343541"),
        ]
    )
    body = urllib.parse.urlencode({"sender": number, "text": text})
    signature = "sha256=" + hmac.new(SECRET, body.encode(), hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Ntpd112-Signature": signature}


async def post_form(http: aiohttp.ClientSession, fields: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with http.post("/api/aml", data=fields) as response:
        return response.status, await response.json()


async def test_aml_before_the_call_is_kept_then_claimed_by_the_call(
    service: Service, http: aiohttp.ClientSession
) -> None:
    number = unique_mobile_number()
    status, body = await post_form(http, https_form(number))
    assert status == 200, body
    assert body["duplicate"] is False and body["call_id"] is None  # no call yet: kept unmatched
    [waiting] = await fixes_of(service, None)
    assert (waiting.source, waiting.channel, waiting.caller_number) == ("aml", "https", e164(number))

    assert (await intake_call(number=number)).succeeded
    await settle(service)
    stored = await stored_call(service, caller_number=e164(number))
    [fix] = stored.fixes
    assert fix.id == waiting.id
    assert (stored.call.best_source, stored.call.best_radius_m, stored.call.best_fix_id) == ("aml", 12.0, fix.id)
    assert stored.of_type("location_fix")[0].data["matched_later"] is True
    # The AML was known at intake: the call was queued as one with a location.
    assert stored.priority_decision["has_location"] is True


async def test_aml_sms_after_the_answer_updates_the_call_and_a_duplicate_is_stored_once(
    service: Service, http: aiohttp.ClientSession
) -> None:
    number = unique_mobile_number()
    caller = asyncio.create_task(intake_call(number=number, hold_ms=2000))
    await wait_until(lambda: any(call.answered_at for call in service.calls.active.values()))
    await service.journal.flushed()  # the call's record is in PostgreSQL: the match happens at once

    body, headers = sms_body(number)
    async with http.post("/api/aml/sms", data=body, headers=headers) as response:
        first = await response.json()
        assert response.status == 200, first
    assert first["duplicate"] is False and first["call_id"] is not None
    async with http.post("/api/aml/sms", data=body, headers=headers) as response:
        again = await response.json()
        assert response.status == 200, again
    assert again["duplicate"] is True

    assert (await caller).succeeded
    await settle(service)
    stored = await stored_call(service, caller_number=e164(number))
    assert str(stored.call.id) == first["call_id"]
    [fix] = stored.fixes
    assert (fix.source, fix.channel, fix.radius_m, fix.method) == ("aml", "sms", 8.0, "gnss")
    assert fix.raw.startswith('A"ML=1;')
    assert stored.call.best_fix_id == fix.id
    [changed] = stored.of_type("best_location_changed")
    assert changed.data["source"] == "aml"
    assert stored.types.index("best_location_changed") > stored.types.index("answered")


async def test_bad_signatures_and_bad_messages_are_refused_and_nothing_is_stored(
    service: Service, http: aiohttp.ClientSession
) -> None:
    number = unique_mobile_number()
    wrong = https_form(number) | {"hmac": "0" * 64}
    status, body = await post_form(http, wrong)
    assert (status, body["error"]["id"]) == (401, "bad_signature")  # type: ignore[index]

    tampered = https_form(number) | {"location_latitude": "-7.0"}
    status, body = await post_form(http, tampered)
    assert status == 401

    status, body = await post_form(http, https_form(number, lat="-96.5"))  # signed, but no place on earth
    assert (status, body["error"]["id"]) == (400, "invalid_aml")  # type: ignore[index]

    sms, headers = sms_body(number)
    async with http.post("/api/aml/sms", data=sms, headers=headers | {"X-Ntpd112-Signature": "sha256=00"}) as r:
        assert r.status == 401
    broken = urllib.parse.urlencode({"sender": number, "text": 'A"ML=1;lt=x;ml=9'})
    signature = "sha256=" + hmac.new(SECRET, broken.encode(), hashlib.sha256).hexdigest()
    async with http.post("/api/aml/sms", data=broken, headers=headers | {"X-Ntpd112-Signature": signature}) as r:
        assert r.status == 400 and (await r.json())["error"]["id"] == "invalid_aml"
    async with http.post("/api/aml", data="not a form", headers={"Content-Type": "text/plain"}) as r:
        assert r.status == 415

    async with service.database.session() as session:
        assert await session.scalar(select(func.count()).select_from(LocationFixRow)) == 0


async def test_without_a_secret_the_aml_endpoints_are_disabled(service: Service) -> None:
    app = create_app(dataclasses.replace(service.web_app[DEPS], aml_hmac_secret=None))
    async with TestClient(TestServer(app)) as client:
        for path in ("/api/aml", "/api/aml/sms"):
            response = await client.post(path, data={"v": "1"})
            assert response.status == 503
            assert (await response.json())["error"]["id"] == "aml_disabled"
