"""What every connection and response gets, tried over a real socket against the app factory and the hardened
runner (no route here reaches the service's dependencies): JSON refusals from the parser that neither log nor echo
the offending bytes, security headers, header and body timeouts, and the common input guards."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import cast

import pytest
from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError

from ntpd112.config import Settings
from ntpd112.logs import render_exception, traceback_without_values
from ntpd112.web.app import HttpPolicy, WebDeps, create_app
from ntpd112.web.common import ApiError
from ntpd112.web.endpoints import MAX_JSON_DEPTH, check_json_body, reject_nul
from ntpd112.web.hardening import CONTENT_SECURITY_POLICY, HardenedAppRunner, server_tls_context

HEADER_TIMEOUT = 0.5
BODY_TIMEOUT = 0.5


@pytest.fixture
async def port() -> AsyncIterator[int]:
    app = create_app(cast(WebDeps, None), HttpPolicy(body_timeout=BODY_TIMEOUT))
    runner = HardenedAppRunner(app, header_timeout=HEADER_TIMEOUT, max_header_bytes=2048)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    await web.TCPSite(runner, "127.0.0.1", free).start()
    try:
        yield free
    finally:
        await runner.cleanup()


async def exchange(port: int, raw: bytes, wait: float = 5.0) -> bytes:
    """Send raw bytes and read until the server closes the connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), wait)
    finally:
        writer.close()


def split(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def assert_hardened(headers: dict[str, str]) -> None:
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["cache-control"] == "no-store"
    assert headers["server"] == "ntpd112"


async def test_a_control_character_in_a_header_is_refused_as_json_without_echo(
    port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = await exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Evil: a\x01SECRETBYTES\r\n\r\n")
    status, headers, body = split(answer)
    assert status == 400
    assert json.loads(body)["error"]["id"] == "bad_request"
    assert b"SECRETBYTES" not in answer
    assert_hardened(headers)
    captured = capsys.readouterr()
    assert "SECRETBYTES" not in captured.out + captured.err


async def test_an_oversized_header_is_refused_as_json(port: int) -> None:
    answer = await exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 4096 + b"\r\n\r\n")
    status, headers, body = split(answer)
    assert status in (400, 431)
    assert json.loads(body)["error"]["id"]
    assert_hardened(headers)


async def test_partial_headers_are_cut_off_after_the_header_timeout(port: int) -> None:
    started = asyncio.get_running_loop().time()
    answer = await exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n", wait=HEADER_TIMEOUT + 5)
    assert answer == b""
    assert asyncio.get_running_loop().time() - started < HEADER_TIMEOUT + 2


async def test_a_slow_body_is_refused_with_408(port: int) -> None:
    request = (
        b"POST /api/aml HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: 100\r\n\r\nv=1"
    )
    status, headers, body = split(await exchange(port, request, wait=BODY_TIMEOUT + 5))
    assert (status, json.loads(body)["error"]["id"]) == (408, "request_timeout")
    assert_hardened(headers)


async def test_a_bearer_token_that_is_not_utf8_is_refused_before_authentication(port: int) -> None:
    # The app has no dependencies: reaching the token check would be a 500.
    request = b"GET /api/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \xff\xfe\r\nConnection: close\r\n\r\n"
    status, headers, body = split(await exchange(port, request))
    assert (status, json.loads(body)["error"]["id"]) == (400, "invalid_header")
    assert b"\xff" not in body
    assert_hardened(headers)


@pytest.mark.parametrize("path", ["/api/openapi.json", "/api/docs", "/no/such/path", "/api/docs/other.js"])
async def test_every_response_carries_the_security_headers(port: int, path: str) -> None:
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    status, headers, _ = split(await exchange(port, request))
    # An undeclared /api path needs credentials first; any other path is the console's (its page, or 503 while the
    # console is not built).
    assert status in (200, 401, 404, 503)
    assert_hardened(headers)
    assert "aiohttp" not in headers["server"] and "python" not in headers["server"].lower()


@pytest.mark.parametrize("values", [{"username": "a\x00b"}, {"a\x00": "b"}])
def test_a_nul_byte_in_a_parameter_is_refused(values: dict[str, str]) -> None:
    with pytest.raises(ApiError) as refused:
        reject_nul(values, "path")
    assert (refused.value.status, refused.value.error_id) == (400, "nul_character")


@pytest.mark.parametrize(
    ("raw", "error_id"),
    [
        (b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "json_too_deep"),
        (b'{"a": ' * 1100 + b"1" + b"}" * 1100, "json_too_deep"),
        (b'{"area": "a\\u0000b"}', "nul_character"),
        (b'{"area": "a\\\\\\U0000b"}', "nul_character"),
    ],
)
def test_json_bodies_are_guarded(raw: bytes, error_id: str) -> None:
    with pytest.raises(ApiError) as refused:
        check_json_body(raw)
    assert (refused.value.status, refused.value.error_id) == (400, error_id)


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH,
        b'{"text": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}',  # brackets inside a string are text
        b'{"text": "a\\\\u0000b"}',  # an escaped backslash, then the letters u0000: no NUL
    ],
)
def test_ordinary_json_passes_the_guards(raw: bytes) -> None:
    check_json_body(raw)


def test_a_logged_traceback_carries_no_values() -> None:
    try:
        try:
            raise ValueError("invalid input for query argument $1: '+6281234567890'")
        except ValueError as inner:
            raise RuntimeError("AML text lt=-6.28850") from inner
    except RuntimeError as error:
        lines = traceback_without_values(error)
    text = "\n".join(lines)
    assert "builtins.RuntimeError" in text and "builtins.ValueError" in text
    assert "test_a_logged_traceback_carries_no_values" in text
    assert "6281234567890" not in text and "lt=" not in text


def test_tls_files_go_together() -> None:
    with pytest.raises(ValidationError, match="go together"):
        Settings(
            database_url="postgresql+asyncpg://x@h/db", ari_password="a", ami_password="a", http_tls_cert_file="c.pem"
        )


@pytest.fixture
def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    subprocess.run(
        ["openssl", *request, "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    return cert, key


async def test_with_a_certificate_the_api_speaks_tls_only(self_signed: tuple[Path, Path]) -> None:
    cert, key = self_signed
    runner = HardenedAppRunner(create_app(cast(WebDeps, None)), header_timeout=HEADER_TIMEOUT, max_header_bytes=2048)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_tls_context(cert, key))
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        client = ssl.create_default_context(cafile=cert)
        client.check_hostname = False
        reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
        writer.write(b"GET /api/openapi.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        status, headers, _ = split(await asyncio.wait_for(reader.read(), 5))
        writer.close()
        assert status == 200 and headers["server"] == "ntpd112"
        plain = await exchange(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        assert not plain.startswith(b"HTTP/1.1 200")
    finally:
        await runner.cleanup()


def _logged_exception() -> str:
    event = render_exception(None, "error", {"event": "failed", "exc_info": True})
    return str(event["exception"])


def test_a_logged_database_error_carries_no_values() -> None:
    try:
        try:
            raise OverflowError("value '+6281234567890' out of range")
        except OverflowError as inner:
            raise DBAPIError("INSERT INTO calls ...", {"caller": "+6281234567890"}, inner) from inner
    except DBAPIError:
        logged = _logged_exception()
    assert "sqlalchemy.exc.DBAPIError" in logged and "builtins.OverflowError" in logged
    assert "6281234567890" not in logged
    try:
        raise ConnectionError("cannot connect to 127.0.0.1:8088")
    except ConnectionError:
        logged = _logged_exception()
    assert "cannot connect to 127.0.0.1:8088" in logged  # text that quotes no caller's values stays
