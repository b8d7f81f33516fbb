"""A recording's path from the call row resolves only to a regular file inside the recordings directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from ntpd112.store.recordings import file_inside


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    monitor = tmp_path / "monitor"
    (monitor / "ntpd112/20261204").mkdir(parents=True)
    (monitor / "ntpd112/20261204/1.wav").write_bytes(b"RIFF")
    (tmp_path / "secret.txt").write_text("not a recording")
    return monitor


def test_a_file_inside_the_directory_is_found(spool: Path) -> None:
    assert file_inside(spool, "ntpd112/20261204/1.wav") == (spool / "ntpd112/20261204/1.wav").resolve()


def test_a_symlink_that_stays_inside_is_followed(spool: Path) -> None:
    (spool / "alias.wav").symlink_to(spool / "ntpd112/20261204/1.wav")
    assert file_inside(spool, "alias.wav") == (spool / "ntpd112/20261204/1.wav").resolve()


@pytest.mark.parametrize(
    "relative",
    [
        "",
        "../secret.txt",
        "ntpd112/../../secret.txt",
        "/etc/passwd",
        "ntpd112\\..\\..\\secret.txt",
        "ntpd112/20261204/1.wav\x00",
        "ntpd112/20261204",  # a directory
        "ntpd112/20261204/missing.wav",
        "out.wav",  # a symlink out of the directory
        "loop.wav",  # a symlink loop
    ],
)
def test_anything_else_is_no_recording(spool: Path, relative: str) -> None:
    (spool / "out.wav").symlink_to(spool.parent / "secret.txt")
    (spool / "loop.wav").symlink_to(spool / "loop.wav")
    assert file_inside(spool, relative) is None


def test_a_missing_directory_has_no_recordings(tmp_path: Path) -> None:
    assert file_inside(tmp_path / "absent", "1.wav") is None
