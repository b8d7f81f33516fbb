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
import urllib.parse
from collections.abc import Callable

from aiohttp import web

from ntpd112.clock import utcnow
from ntpd112.intake.aml import AmlMessage, parse_aml_form, parse_aml_sms, verify_aml_hmac
from ntpd112.intake.errors import MAX_INPUT_BYTES, IntakeParseError
from ntpd112.logs import get_logger
from ntpd112.web.common import DEPS, ApiError, json_response

log = get_logger(__name__)

SIGNATURE_HEADER = "X-Ntpd112-Signature"
_FORM_TYPE = "application/x-www-form-urlencoded"
# A form carries at most an 8 KiB message, percent-encoded (up to 3 bytes per character).
_MAX_BODY = 3 * MAX_INPUT_BYTES
_MAX_FIELDS = 32


def _secret(request: web.Request) -> bytes:
    secret = request.app[DEPS].aml_hmac_secret
    if secret is None or request.app[DEPS].aml is None:
        raise ApiError(503, "aml_disabled", "AML is not configured (NTPD112_AML_HMAC_SECRET)")
    return secret.get_secret_value().encode("utf-8")


async def _form(request: web.Request) -> tuple[bytes, dict[str, str]]:
    """The raw body and its fields; a repeated field is refused (the HMAC would not say which value counts)."""
    if request.content_type != _FORM_TYPE:
        raise ApiError(415, "unsupported_media_type", f"send {_FORM_TYPE}")
    if (request.content_length or 0) > _MAX_BODY:
        raise ApiError(413, "payload_too_large", f"an AML post is at most {_MAX_BODY} bytes")
    body = await request.read()
    if len(body) > _MAX_BODY:
        raise ApiError(413, "payload_too_large", f"an AML post is at most {_MAX_BODY} bytes")
    try:
        pairs = urllib.parse.parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body), max_num_fields=_MAX_FIELDS
        )
    except (UnicodeDecodeError, ValueError):
        raise ApiError(400, "invalid_form", "the body is not a UTF-8 form") from None
    fields = dict(pairs)
    if len(fields) != len(pairs):
        raise ApiError(400, "invalid_form", "a form field is repeated")
    return body, fields


async def _store(request: web.Request, parse: Callable[[], AmlMessage]) -> web.Response:
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
    return json_response(stored)


async def post_aml(request: web.Request) -> web.Response:
    secret = _secret(request)
    _, fields = await _form(request)
    if not verify_aml_hmac(fields, secret):
        raise ApiError(401, "bad_signature", "the hmac field does not match")
    return await _store(request, lambda: parse_aml_form(fields))


async def post_aml_sms(request: web.Request) -> web.Response:
    secret = _secret(request)
    body, fields = await _form(request)
    expected = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    provided = request.headers.get(SIGNATURE_HEADER, "").strip().lower()
    if not hmac.compare_digest(expected.encode(), provided.encode("utf-8", "replace")):
        raise ApiError(401, "bad_signature", f"{SIGNATURE_HEADER} does not match the body")
    text = fields.get("text")
    if not text:
        raise ApiError(400, "invalid_aml", "the text field is missing", {"code": "missing_field"})
    return await _store(request, lambda: parse_aml_sms(text, sender=fields.get("sender")))


def add_aml_routes(app: web.Application) -> None:
    app.router.add_post("/api/aml", post_aml)
    app.router.add_post("/api/aml/sms", post_aml_sms)
