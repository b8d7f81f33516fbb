"""Spoken prompts for Asterisk: espeak-ng speaks Bahasa Indonesia, sox makes it the 8 kHz mono 16-bit WAV that
Asterisk's wav format plays. Used at provisioning (devtools/local_asterisk.py: the fixed prompts) and by the service
(dispatch/phone_calls.py: a ticket's notification, per text).

No shell: both run from argv lists, and the text goes to espeak-ng on standard input (`--stdin`), never as an
argument, so a text starting with '-' cannot be taken for an option.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ESPEAK_VOICE = "id"
ESPEAK_SPEED = 150  # words per minute: slower than the default 175, for a phone line


def to_asterisk_wav(source: Path, target: Path) -> None:
    subprocess.run(["sox", str(source), "-r", "8000", "-c", "1", "-b", "16", str(target)], check=True, timeout=60)


def speak(text: str, target: Path) -> None:
    """Writes `target` (a .wav) speaking `text`; the file appears whole (renamed into place) or not at all, so
    Asterisk never plays a half-written one."""
    spoken = target.with_name(f".{target.stem}.{os.getpid()}.espeak.wav")
    converted = target.with_name(f".{target.stem}.{os.getpid()}.wav")
    try:
        subprocess.run(
            ["espeak-ng", "-v", ESPEAK_VOICE, "-s", str(ESPEAK_SPEED), "-w", str(spoken), "--stdin"],
            input=text.encode(),
            check=True,
            timeout=60,
            capture_output=True,
        )
        to_asterisk_wav(spoken, converted)
        converted.replace(target)
    finally:
        spoken.unlink(missing_ok=True)
        converted.unlink(missing_ok=True)
