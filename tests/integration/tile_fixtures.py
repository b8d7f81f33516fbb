"""Tiny PNG map tiles written by the tests themselves (no tile set is stored in the repository)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def tile_png(fill: tuple[int, int, int], edge: tuple[int, int, int], size: int = 256) -> bytes:
    """A valid PNG `size` pixels square: `fill` inside a 2-pixel `edge` (a map of such tiles shows its grid)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    inner = b"\x00" + bytes(edge) * 2 + bytes(fill) * (size - 4) + bytes(edge) * 2  # filter byte 0, then pixels
    border = b"\x00" + bytes(edge) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    pixels = zlib.compress(border * 2 + inner * (size - 4) + border * 2)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def write_tile(directory: Path, z: int, x: int, y: int, png: bytes) -> Path:
    path = directory / str(z) / str(x) / f"{y}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path
