"""AML endpoints (ETSI TS 103 625): what handsets post over HTTPS, and what an SMS gateway forwards.

Neither sender holds an API token; both prove themselves with HMAC-SHA256 under `NTPD112_AML_HMAC_SECRET`:

* ``POST /api/aml``: the handset's form post (application/x-www-form-urlencoded) with an ``hmac`` field over the
  other fields in canonical form (intake/aml.py).
* ``POST /api/aml/sms``: the gateway's form post with ``sender`` (originating address) and ``text`` (the SMS body);
  header ``X-Ntpd112-Signature: sha256=<hex>`` is the HMAC of the raw request body. A signature rather than an API
  token: a gateway then needs no account that could also read calls.

Both answer 200 ``{"duplicate": false, "fix_id": ..., "call_id": ... | null}`` when stored, 200 with
``"duplicate": true`` for a message stored before, 401 for a bad signature, 400 for a bad message (nothing stored),
503 ``aml_disabled`` without a secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from aiohttp import web
from pydantic import BaseModel, ConfigDict

from ntpd112.clock import utcnow
from ntpd112.intake.aml import AmlMessage, parse_aml_form, parse_aml_sms, verify_aml_hmac
from ntpd112.intake.errors import IntakeParseError
from ntpd112.logs import get_logger
from ntpd112.store.aml import AmlStored
from ntpd112.web.common import DEPS, ApiError
from ntpd112.web.endpoints import RouteTable

log = get_logger(__name__)
routes = RouteTable()

SIGNATURE_HEADER = "X-Ntpd112-Signature"
_REFUSALS = {401: ("bad_signature",), 503: ("aml_disabled",)}


class AmlHandsetForm(BaseModel):
    """The handset's form. Every field is text here: intake/aml.py reads the values once the HMAC holds, and later
    versions of the standard add fields, which the HMAC covers too (so unknown fields are kept, not refused)."""

    model_config = ConfigDict(extra="allow")

    v: str | None = None
    device_number: str | None = None
    location_latitude: str | None = None
    location_longitude: str | None = None
    location_time: str | None = None
    location_accuracy: str | None = None
    location_source: str | None = None
    location_certainty: str | None = None
    device_model: str | None = None
    device_imei: str | None = None
    device_imsi: str | None = None
    emergency_number: str | None = None
    hmac: str | None = None

    def fields(self) -> dict[str, str]:
        return {name: value for name, value in self.model_dump(exclude_unset=True).items() if isinstance(value, str)}


class AmlSmsForm(BaseModel):
    # Gateways add fields of their own (message ids, timestamps); the signature covers the whole body anyway.
    model_config = ConfigDict(extra="ignore")

    sender: str | None = None  # the originating address the SMSC reports
    text: str | None = None  # the SMS body


def _secret(request: web.Request) -> bytes:
    secret = request.app[DEPS].aml_hmac_secret
    if secret is None or request.app[DEPS].aml is None:
        raise ApiError(503, "aml_disabled", "AML is not configured (NTPD112_AML_HMAC_SECRET)")
    return secret.get_secret_value().encode("utf-8")


async def _store(request: web.Request, parse: Callable[[], AmlMessage]) -> AmlStored:
    try:
        message = parse()
    except IntakeParseError as error:
        raise ApiError(400, "invalid_aml", error.message, {"code": error.code}) from None
    repository = request.app[DEPS].aml
    assert repository is not None  # _secret() answered 503 otherwise
    stored = await repository.store(message, utcnow())
    log.info(
        "aml received",
        channel=message.channel,
        duplicate=stored.duplicate,
        call_id=str(stored.call_id) if stored.call_id else None,
        has_fix=message.fix is not None,
    )
    return stored


@routes.post("/api/aml", access="signed", summary="A handset's AML form (HMAC in the hmac field)", refusals=_REFUSALS)
async def post_aml(request: web.Request, form: AmlHandsetForm) -> AmlStored:
    secret = _secret(request)
    fields = form.fields()
    if not verify_aml_hmac(fields, secret):
        raise ApiError(401, "bad_signature", "the hmac field does not match")
    return await _store(request, lambda: parse_aml_form(fields))


@routes.post(
    "/api/aml/sms",
    access="signed",
    summary=f"An AML SMS forwarded by a gateway (HMAC of the body in {SIGNATURE_HEADER})",
    refusals=_REFUSALS,
)
async def post_aml_sms(request: web.Request, form: AmlSmsForm) -> AmlStored:
    secret = _secret(request)
    body = await request.read()  # already read and checked by the form's parser; aiohttp keeps it
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    provided = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise ApiError(401, "bad_signature", f"{SIGNATURE_HEADER} does not match the body")
    text = form.text
    if not text:
        raise ApiError(400, "invalid_aml", "the text field is missing", {"code": "missing_field"})
    return await _store(request, lambda: parse_aml_sms(text, sender=form.sender))
