"""The single exception type every intake parser raises, and the input size guard."""

from __future__ import annotations

# Headers and bodies we parse are small; anything bigger is hostile or broken (8 KiB).
MAX_INPUT_BYTES = 8 * 1024


class IntakeParseError(ValueError):
    """Input could not be parsed.

    ``code`` is short and stable (for metrics, logs and tests); the message is for humans.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def check_input_size(value: str | bytes, what: str, limit: int = MAX_INPUT_BYTES) -> None:
    """Reject ``value`` before any parsing when its UTF-8 size exceeds ``limit`` bytes."""
    if isinstance(value, bytes) or len(value) > limit:
        size = len(value)
    elif len(value) * 4 <= limit:
        # Cheap fast path: no character takes more than 4 bytes in UTF-8.
        return
    else:
        size = len(value.encode("utf-8", "surrogatepass"))
    if size > limit:
        raise IntakeParseError("too_large", f"{what} is {size} bytes, limit is {limit}")
