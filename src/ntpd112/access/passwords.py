"""Password strength and hashing (argon2id with OWASP's first recommended parameters: 46 MiB, one pass, one lane).

The minimum strength: at least 12 characters (and at most 256, so nobody makes the server hash megabytes), and not
trivially guessable, which here means none of:
- fewer than 6 different characters ("aaaaaaaaaaaa", "abababababab");
- a run of a keyboard row, the alphabet or the digits ("qwertyuiopas", "abcdefghijkl", "123456789012");
- only digits and symbols around a common password or word ("Password2024!", "ntpd112ntpd112", "Jakarta#2026");
- the username, or a word of the full name (4 letters or more), anywhere in it.
Hashing takes tens of milliseconds of CPU on purpose: callers in the event loop run it in a thread, one at a time.
"""

from __future__ import annotations

import functools
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256
MIN_DISTINCT_CHARACTERS = 6
_SEQUENCES = (
    "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz",
    "01234567890123456789",
    "qwertyuiopasdfghjklzxcvbnmqwertyuiopasdfghjklzxcvbnm",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
)
# Words a guesser tries first, with digits and symbols around them: common passwords, the product, the room.
COMMON_WORDS = frozenset(
    {
        "password", "passw", "pass", "passwort", "kata", "katasandi", "sandi", "rahasia", "qwerty", "azerty",
        "letmein", "welcome", "selamat", "selamatdatang", "admin", "administrator", "root", "user", "operator",
        "supervisor", "agency", "login", "master", "secret", "default", "changeme", "test", "testing", "iloveyou",
        "monkey", "dragon", "football", "sunshine", "princess", "indonesia", "jakarta", "surabaya", "bandung",
        "ntpd", "darurat", "emergency", "asterisk", "merdeka", "bismillah", "sayang", "abc", "abcd", "xyz",
    }
)  # fmt: skip
_LEET = str.maketrans({"0": "o", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})
# Not argon2-cffi's default (RFC 9106's low-memory profile: 64 MiB, 3 passes, 4 lanes): a check took ~170 ms of CPU on
# four threads here, both cores of a room's 2-core server for ~120 ms, so a few sign-in attempts a second took the
# CPU that answers 112 calls. OWASP's first configuration (m=46 MiB, t=1, p=1) takes ~50 ms on one core. A hash keeps
# the parameters it was made with: an older one verifies as it is and is made again at its next sign-in.
_HASHER = PasswordHasher(time_cost=1, memory_cost=47_104, parallelism=1)


def password_problems(password: str, username: str = "", full_name: str = "") -> list[str]:
    """Why `password` is too weak, one sentence per rule it breaks; empty when it is strong enough."""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(f"it must have at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        problems.append(f"it must have at most {MAX_LENGTH} characters")
    lowered = password.lower()
    if len(set(lowered)) < MIN_DISTINCT_CHARACTERS:
        problems.append(f"it must use at least {MIN_DISTINCT_CHARACTERS} different characters")
    if any(lowered in sequence or lowered[::-1] in sequence for sequence in _SEQUENCES):
        problems.append("it is a run of the keyboard, the alphabet or the digits")
    if _is_common_word_decorated(lowered):
        problems.append("it is a common password or word with digits or symbols around it")
    personal = [username.lower(), *(w for w in re.split(r"\W+", full_name.lower()) if len(w) >= 4)]
    if any(word and word in lowered for word in personal):
        problems.append("it contains the username or the name")
    return problems


def _is_common_word_decorated(lowered: str) -> bool:
    # Digits and symbols around the word are the decoration; inside it they may stand for letters (p@$$w0rd).
    core = re.sub(r"^[^a-z@$]+|[^a-z]+$", "", lowered)
    letters = re.sub(r"[^a-z]", "", core.translate(_LEET))
    if not letters:
        return True  # digits and symbols only: what a guesser enumerates
    if letters in COMMON_WORDS:
        return True
    # The same common word repeated ("adminadmin", "ntpdntpd").
    return any(len(letters) % len(word) == 0 and letters == word * (len(letters) // len(word)) for word in COMMON_WORDS)


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether `password` matches. A missing hash (no password set) verifies a dummy hash, so that the time taken
    does not tell whether the user exists or has a password."""
    try:
        return _HASHER.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a hash that just verified was made with other parameters than today's (see _HASHER)."""
    return _HASHER.check_needs_rehash(password_hash)


@functools.cache
def _dummy_hash() -> str:
    # Made on first use, not at import: hashing costs ~50 ms, which every `ntpd112` command would pay.
    return _HASHER.hash("not a password of anyone; only spends the time of a real check")
