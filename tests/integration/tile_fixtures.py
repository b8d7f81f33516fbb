"""Tiny PNG map tiles written by the tests themselves (no tile set is stored in the repository)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path


def solid_png(rgb: tuple[int, int, int], size: int = 256) -> bytes:
    """A valid PNG of one colour, `size` pixels square."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * size  # filter byte 0, then the pixels
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * size)) + chunk(b"IEND", b"")
    )


def write_tile(directory: Path, z: int, x: int, y: int, png: bytes) -> Path:
    path = directory / str(z) / str(x) / f"{y}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(png)
    return path
