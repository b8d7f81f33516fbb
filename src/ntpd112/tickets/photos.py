"""What a photo attached to a ticket must be (pure: no database, no files of ours).

The type is the file's own: its first bytes (magic numbers), never the client's Content-Type or file name, so an
HTML page, an SVG (a script host) or a PDF renamed `photo.jpg` is refused. The image's header must then parse as
that same type with sane dimensions; pixels are never decoded (a small file may declare a huge image: a
decompression bomb), Pillow reads the header and checks the file's structure (`verify`).

The client's file name is only a label shown next to the photo; the file is stored under its checksum. A name that
tries to be a path (separators, `..`, NUL or other control characters, absurd length) is refused outright rather
than cleaned: a phone's camera never sends one, so it is an attack or a broken client.
"""

from __future__ import annotations

import unicodedata
import warnings
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO

from PIL import Image

from ntpd112.errors import RefusedError

# Bytes the type is told from: enough for every signature below.
SNIFF_BYTES = 16
MAX_LABEL_CHARS = 120
MIN_SIDE = 16  # a tracking pixel or an icon is no photo of a scene
MAX_SIDE = 20_000
# Below Pillow's own bomb threshold (2 x Image.MAX_IMAGE_PIXELS, about 179 MP), which would refuse first.
MAX_PIXELS = 150_000_000
DEFAULT_LABEL = "foto"


class PhotoType(StrEnum):
    """The media type served back (Content-Type) for each accepted format."""

    JPEG = "image/jpeg"
    PNG = "image/png"
    WEBP = "image/webp"


# Pillow's format name for each type: the header must parse as the type the magic bytes announced.
_PILLOW_FORMAT = {PhotoType.JPEG: "JPEG", PhotoType.PNG: "PNG", PhotoType.WEBP: "WEBP"}


class PhotoRefused(RefusedError):
    """A photo refused for what it is (type, size, name, image); nothing is stored."""


@dataclass(frozen=True)
class ImageInfo:
    type: PhotoType
    width: int
    height: int


def sniff(head: bytes) -> PhotoType | None:
    """The type the first bytes of a file announce, or None for anything but JPEG, PNG and WebP."""
    if head.startswith(b"\xff\xd8\xff"):
        return PhotoType.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PhotoType.PNG
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return PhotoType.WEBP
    return None


def photo_label(filename: str | None) -> str:
    """The label kept for a client's file name: the name itself when it is a plain name, `foto` without one.
    Refused (400 invalid_filename): a path (/, \\, a `..`, a drive letter), NUL or any control character, a name
    longer than MAX_LABEL_CHARS."""
    if filename is None or not filename.strip():
        return DEFAULT_LABEL
    name = unicodedata.normalize("NFC", filename.strip())
    problem = None
    if len(name) > MAX_LABEL_CHARS:
        problem = f"longer than {MAX_LABEL_CHARS} characters"
    elif any(unicodedata.category(char)[0] == "C" for char in name):  # Cc, Cf (bidi overrides), Cs, Co, Cn
        problem = "contains a control or invisible character"
    elif "/" in name or "\\" in name or ":" in name or name in (".", "..") or name.startswith(".."):
        problem = "is a path, not a file name"
    if problem is not None:
        raise PhotoRefused(400, "invalid_filename", f"the photo's file name {problem}")
    return name


def check_size(size: int, max_bytes: int) -> None:
    if size == 0:
        raise PhotoRefused(400, "empty_photo", "the photo is empty")
    if size > max_bytes:
        raise PhotoRefused(413, "photo_too_large", f"a photo is at most {max_bytes} bytes", {"max_bytes": max_bytes})


def _bad_dimensions(details: dict[str, int] | None) -> PhotoRefused:
    message = f"a photo is {MIN_SIDE} to {MAX_SIDE} pixels a side and at most {MAX_PIXELS} pixels"
    return PhotoRefused(422, "photo_dimensions", message, details)


def check_dimensions(width: int, height: int) -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE) or width * height > MAX_PIXELS:
        raise _bad_dimensions({"width": width, "height": height})


def not_a_photo() -> PhotoRefused:
    return PhotoRefused(
        415, "unsupported_photo_type", "a photo is a JPEG, PNG or WebP file (told from its content, not its name)"
    )


def inspect_image(stream: BinaryIO) -> ImageInfo:
    """The type and dimensions of the image in `stream` (positioned at its start), or PhotoRefused: 415 when the
    content is not JPEG/PNG/WebP, 422 invalid_photo when its header or structure is broken or contradicts its magic
    bytes, 422 photo_dimensions when its size is not sane."""
    kind = sniff(stream.read(SNIFF_BYTES))
    if kind is None:
        raise not_a_photo()
    stream.seek(0)
    broken = PhotoRefused(422, "invalid_photo", "the file is not a readable image of its type")
    try:
        with warnings.catch_warnings():
            # Pillow warns (DecompressionBombWarning) for large images; our own limit decides, below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(stream, formats=[_PILLOW_FORMAT[kind]]) as image:
                width, height = image.size
                check_dimensions(width, height)
                image.verify()
    except PhotoRefused:
        raise
    except Image.DecompressionBombError:  # Pillow refuses past about 179 MP as it opens, before we see the size
        raise _bad_dimensions(None) from None
    except Exception:  # Pillow's parsers raise many types on crafted input: a broken image, never a 500
        raise broken from None
    return ImageInfo(kind, width, height)
