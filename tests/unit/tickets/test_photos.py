"""The checks a ticket photo must pass (tickets/photos.py): type from the content, sane dimensions, a label that is
a plain name. Real images made with Pillow; hostile files written by hand."""

from __future__ import annotations

import io

import pytest

from ntpd112.tickets.photos import (
    MAX_LABEL_CHARS,
    MAX_SIDE,
    PhotoRefused,
    PhotoType,
    check_dimensions,
    check_size,
    inspect_image,
    photo_label,
    sniff,
)
from tests.images import image_bytes, png_declaring


@pytest.mark.parametrize(
    ("fmt", "expected"), [("JPEG", PhotoType.JPEG), ("PNG", PhotoType.PNG), ("WEBP", PhotoType.WEBP)]
)
def test_a_real_photo_of_each_type_is_told_from_its_content(fmt: str, expected: PhotoType) -> None:
    content = image_bytes(fmt, (640, 480))
    assert sniff(content[:16]) is expected
    info = inspect_image(io.BytesIO(content))
    assert (info.type, info.width, info.height) == (expected, 640, 480)


@pytest.mark.parametrize(
    "content",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>',
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",  # RIFF, but not WebP
        b"\xff\xd8",  # too short to be a JPEG's signature
    ],
    ids=["html", "svg", "pdf", "gif", "riff-wave", "jpeg-stub"],
)
def test_other_content_is_refused_whatever_it_is_called(content: bytes) -> None:
    assert sniff(content[:16]) is None
    with pytest.raises(PhotoRefused) as refused:
        inspect_image(io.BytesIO(content))
    assert (refused.value.status, refused.value.error_id) == (415, "unsupported_photo_type")


def test_magic_bytes_followed_by_garbage_are_an_invalid_photo() -> None:
    for content in (b"\xff\xd8\xff\xe0" + b"<html>" * 50, b"\x89PNG\r\n\x1a\n" + b"\0" * 64, b"RIFF\0\0\0\0WEBPVP8 "):
        with pytest.raises(PhotoRefused) as refused:
            inspect_image(io.BytesIO(content))
        assert (refused.value.status, refused.value.error_id) == (422, "invalid_photo"), content[:12]


def test_a_png_with_a_broken_checksum_is_an_invalid_photo() -> None:
    content = bytearray(image_bytes("PNG", (64, 48)))
    content[40] ^= 0xFF  # inside IDAT: its CRC no longer matches
    with pytest.raises(PhotoRefused) as refused:
        inspect_image(io.BytesIO(bytes(content)))
    assert refused.value.error_id == "invalid_photo"


@pytest.mark.parametrize(("width", "height"), [(50_000, 50_000), (100_000, 20), (8, 8), (MAX_SIDE + 1, 100)])
def test_dimensions_declared_out_of_range_are_refused_without_decoding(width: int, height: int) -> None:
    with pytest.raises(PhotoRefused) as refused:
        inspect_image(io.BytesIO(png_declaring(width, height)))
    assert (refused.value.status, refused.value.error_id) == (422, "photo_dimensions")
    # Past about 179 MP Pillow refuses as it opens the file, before the size is known.
    assert refused.value.details in ({"width": width, "height": height}, None)


def test_dimension_limits() -> None:
    check_dimensions(16, 16)
    check_dimensions(12_000, 12_000)  # 144 MP
    with pytest.raises(PhotoRefused):
        check_dimensions(15, 1000)
    with pytest.raises(PhotoRefused):
        check_dimensions(13_000, 13_000)  # 169 MP


def test_size_limits() -> None:
    check_size(1, 10)
    check_size(10, 10)
    with pytest.raises(PhotoRefused) as empty:
        check_size(0, 10)
    assert (empty.value.status, empty.value.error_id) == (400, "empty_photo")
    with pytest.raises(PhotoRefused) as large:
        check_size(11, 10)
    assert (large.value.status, large.value.error_id) == (413, "photo_too_large")


@pytest.mark.parametrize(
    ("filename", "label"),
    [
        ("IMG_20261204_101500.jpg", "IMG_20261204_101500.jpg"),
        ("  kebakaran pasar.jpeg ", "kebakaran pasar.jpeg"),
        ("foto jalan rusak é Pagedangan.webp", "foto jalan rusak é Pagedangan.webp"),
        (None, "foto"),
        ("", "foto"),
        ("   ", "foto"),
        ("a" * MAX_LABEL_CHARS, "a" * MAX_LABEL_CHARS),
    ],
)
def test_a_plain_file_name_is_kept_as_the_label(filename: str | None, label: str) -> None:
    assert photo_label(filename) == label


@pytest.mark.parametrize(
    "filename",
    [
        "../../etc/passwd",
        "..\\..\\windows\\win.ini",
        "/etc/passwd",
        "C:evil.jpg",
        "photos/evil.jpg",
        "..",
        "..jpg",
        "evil\x00.jpg",
        "evil\n.jpg",
        "evil\u202egpj.exe",  # right-to-left override: shows as "evilexe.jpg"
        "a" * (MAX_LABEL_CHARS + 1),
    ],
    ids=[
        "dotdot",
        "backslash",
        "absolute",
        "drive",
        "subdir",
        "parent",
        "dotdot-prefix",
        "nul",
        "newline",
        "rlo",
        "long",
    ],
)
def test_a_file_name_that_is_a_path_or_hides_characters_is_refused(filename: str) -> None:
    with pytest.raises(PhotoRefused) as refused:
        photo_label(filename)
    assert (refused.value.status, refused.value.error_id) == (400, "invalid_filename")
