"""What every HTTP response and connection gets, whatever the route: security headers, header checks, time and
size limits, and JSON (not aiohttp's plain text) for requests refused before any route sees them.

aiohttp refuses a malformed request (a control character in a header, a line too long) in its protocol handler,
before the application: by default it logs the raw bytes with a traceback and echoes them in a text/plain 400.
`HardenedAppRunner` puts a request handler there that logs the refusal's kind only and answers JSON.
"""

from __future__ import annotations

import asyncio
import ssl
from http import HTTPStatus
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from ntpd112.logs import get_logger
from ntpd112.web.common import ApiError, Handler
from ntpd112.web.endpoints import CLOSE_CONNECTION, HTTP_POLICY

log = get_logger(__name__)


def content_security_policy(image_origins: tuple[str, ...] = ()) -> str:
    """Nothing from elsewhere, but for images from `image_origins` (a configured map tile server)."""
    images = " ".join(("'self'", "data:", "blob:", *image_origins))
    return (
        f"default-src 'self'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )


CONTENT_SECURITY_POLICY = content_security_policy()
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
LINGERING_SECONDS = 2.0
SERVER_NAME = "ntpd112"  # no versions: they only help an attacker pick an exploit


async def add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every response the application sends, errors included."""
    response.headers.update(SECURITY_HEADERS)
    policy = request.app.get(HTTP_POLICY)  # an app made without a policy (tests of one layer) gets the strict CSP
    if policy is not None and policy.image_origins:
        response.headers["Content-Security-Policy"] = content_security_policy(policy.image_origins)
    response.headers["Server"] = SERVER_NAME
    # Calls, callers and locations are personal data: nothing is cached unless a route says otherwise (static
    # files of the web app set their own Cache-Control).
    response.headers.setdefault("Cache-Control", "no-store")
    if request.get(CLOSE_CONNECTION):
        response.force_close()
        response.headers["Connection"] = "close"  # aiohttp wrote its connection header before this hook


def _is_clean(value: str) -> bool:
    # aiohttp decodes header bytes that are not UTF-8 as lone surrogates; they cannot be encoded again (a token
    # hashed from them raised UnicodeEncodeError: 500 on every protected route).
    # A tab is the one control character HTTP allows inside a field value.
    return value.replace("\t", " ").isprintable() and not any("\ud800" <= char <= "\udfff" for char in value)


@web.middleware
async def header_guard_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    for name, value in request.headers.items():
        if not _is_clean(value):
            # The header's name only: its bytes are the attacker's and are never logged or echoed.
            log.info("request refused: header not printable UTF-8", header=name.lower(), remote=request.remote)
            raise ApiError(400, "invalid_header", f"the {name.lower()} header is not printable UTF-8")
    return await handler(request)


def _refusal_body(status: int) -> web.Response:
    phrase = HTTPStatus(status).phrase
    error_id = "bad_request" if status == 400 else phrase.lower().replace(" ", "_").replace("-", "_")
    response = web.json_response(
        {"error": {"id": error_id, "message": f"{phrase}: the request is malformed"}}, status=status
    )
    response.headers.update(SECURITY_HEADERS)
    response.headers.update({"Server": SERVER_NAME, "Cache-Control": "no-store"})
    return response


class _GuardedRequestHandler(RequestHandler):
    """aiohttp's connection handler, with JSON refusals and a deadline for the first request's head."""

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        # aiohttp's keep-alive timer only arms after a first response: a client that opens a connection and
        # dribbles a partial head would otherwise hold it for as long as it likes.
        self._head_deadline = asyncio.get_running_loop().call_later(self._header_timeout, self._head_overdue)

    def head_received(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        log.info("connection closed: no complete request head in time", seconds=self._header_timeout)
        self.force_close()

    def connection_lost(self, exc: BaseException | None) -> None:
        self.head_received()
        super().connection_lost(exc)

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        # `message` and `exc` carry the offending bytes: log the kind of refusal, never its text.
        log.info("http request refused by the parser", status=status, kind=type(exc).__name__, remote=request.remote)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started; the connection is dropped")
        response = _refusal_body(status)
        response.force_close()
        return response


class _HardenedServer(web.Server):
    def __init__(self, handler: Any, *, loop: asyncio.AbstractEventLoop, **kwargs: Any) -> None:
        self._stock_factory = kwargs.pop("request_factory")
        super().__init__(handler, request_factory=self._request_with_head, loop=loop, **kwargs)
        self._event_loop = loop
        self._handler_kwargs = kwargs

    def _request_with_head(
        self, message: Any, payload: Any, protocol: RequestHandler, writer: Any, task: Any
    ) -> BaseRequest:
        # aiohttp makes the request once a complete head has been parsed: the head's deadline is met.
        if isinstance(protocol, _GuardedRequestHandler):
            protocol.head_received()
        request: BaseRequest = self._stock_factory(message, payload, protocol, writer, task)
        return request

    def __call__(self) -> RequestHandler:
        return _GuardedRequestHandler(self, loop=self._event_loop, **self._handler_kwargs)


class HardenedAppRunner(web.AppRunner):
    """An AppRunner whose connections refuse malformed requests as JSON, with header limits and a header timeout.

    A request's head must arrive within `header_timeout`: the first one on a connection by our own deadline, later
    ones by aiohttp's keep-alive timer (it closes a connection still waiting for a complete head that long after
    the previous response). The body's timeout is the route wrapper's (endpoints.read_body).
    """

    def __init__(self, app: web.Application, *, header_timeout: float, max_header_bytes: int) -> None:
        self._header_timeout = header_timeout
        self._handler_settings: dict[str, Any] = {
            "keepalive_timeout": header_timeout,
            "max_line_size": max_header_bytes,
            "max_field_size": max_header_bytes,
            "max_headers": 64,
            # After refusing a request, aiohttp reads what is left of its body for this long before closing.
            "lingering_time": LINGERING_SECONDS,
            "access_log": None,
        }
        super().__init__(app, **self._handler_settings)

    async def _make_server(self) -> web.Server:
        stock = await super()._make_server()  # runs the app's start-up; only its handler and factory are kept
        return _HardenedServer(
            stock.request_handler,
            loop=asyncio.get_running_loop(),
            request_factory=stock.request_factory,
            header_timeout=self._header_timeout,
            **self._handler_settings,
        )


def server_tls_context(cert_file: Path | None, key_file: Path | None) -> ssl.SSLContext | None:
    """TLS 1.2 and later with the given PEM certificate chain and key; None (plain HTTP) without them."""
    if cert_file is None or key_file is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert_file, key_file)
    return context
