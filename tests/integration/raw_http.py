"""A raw HTTP/1.1 client for hostile requests: bytes no ordinary client sends (non-UTF-8 headers, NUL in the
target, duplicate JSON keys), one request per connection."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


async def raw_request(
    port: int,
    method: str,
    target: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
    body: bytes = b"",
    timeout: float = 20.0,
    source: str = "127.0.0.1",
) -> RawAnswer:
    head = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close"]
    head += [name + b": " + value for name, value in headers or []]
    if body or method in ("POST", "PUT"):
        head.append(b"Content-Length: " + str(len(body)).encode())
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(source, 0))
    try:
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        answer = await asyncio.wait_for(_read_until_closed(reader, writer), timeout)
    finally:
        writer.close()
    status_head, _, payload = answer.partition(b"\r\n\r\n")
    status_line, *lines = status_head.decode("latin-1").split("\r\n")
    parsed = {name.strip().lower(): value.strip() for name, _, value in (line.partition(":") for line in lines)}
    if parsed.get("transfer-encoding") == "chunked":
        payload = _unchunk(payload)
    return RawAnswer(int(status_line.split()[1]), parsed, payload)


async def _read_until_closed(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bytes:
    """Everything the server sent. A server that answers before reading a whole (oversized) body and closes resets
    the connection: what arrived before the reset is the answer."""
    answer = b""
    try:
        await writer.drain()
        while chunk := await reader.read(65536):
            answer += chunk
    except ConnectionResetError:
        if not answer:
            raise
    return answer


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, data = out + rest[:size], rest[size + 2 :]
    return out
