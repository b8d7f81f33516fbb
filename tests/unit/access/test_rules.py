"""The pure rules of access: password strength and hashing, session and token expiry, attempt limits, roles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import argon2
import pytest

from ntpd112.access.attempts import MAX_KEYS, AttemptLimiter
from ntpd112.access.expiry import TOKEN_DAYS_MAX, session_expires_at, session_is_live, token_expires_at
from ntpd112.access.passwords import hash_password, needs_rehash, password_problems, verify_password
from ntpd112.access.roles import has_role

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)


@pytest.mark.parametrize("password", ["korek-api-biru-7", "Sapu lidi di pojok dapur", "t9#Lq2!vZr8@wE"])
def test_strong_passwords_pass(password: str) -> None:
    assert password_problems(password, "rina", "Rina Wulandari") == []


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("Kx7#pQ2!", "at least 12 characters"),
        ("x" * 257 + "Kx7#pQ2!abc", "at most 256"),
        ("abababababab", "6 different characters"),
        ("abcdefghijklmn", "run of the keyboard"),
        ("qwertyuiopas", "run of the keyboard"),
        ("210987654321", "run of the keyboard"),
        ("Password2024!", "common password"),
        ("P@$$w0rd-2026", "common password"),
        ("ntpd112ntpd112", "common password"),
        ("Jakarta#20261", "common password"),
        ("839201746529", "common password"),  # digits only
        ("rina-is-on-duty", "username or the name"),
        ("Wulandari-on-duty", "username or the name"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str, problem: str) -> None:
    problems = password_problems(password, "rina", "Rina Wulandari")
    assert any(problem in p for p in problems), problems


def test_short_name_parts_are_not_held_against_a_password() -> None:
    # "Ani" is too short to be a word of the name worth refusing; "Sri" likewise.
    assert password_problems("animasi-kuda-laut", "op1", "Sri Ani") == []


def test_hash_verifies_only_the_same_password() -> None:
    stored = hash_password("korek-api-biru-7")
    assert stored.startswith("$argon2id$") and "korek" not in stored
    assert verify_password(stored, "korek-api-biru-7")
    assert not verify_password(stored, "korek-api-biru-8")
    assert not verify_password(None, "korek-api-biru-7")  # no password set: never signs in
    assert not verify_password("not a hash", "korek-api-biru-7")


def test_hashes_use_one_lane_and_an_older_hash_still_verifies_and_is_due_for_a_rehash() -> None:
    stored = hash_password("korek-api-biru-7")
    # One lane: a check runs on one core (argon2-cffi's default ran four threads); OWASP's 46 MiB, one pass.
    parameters = argon2.extract_parameters(stored)
    assert (parameters.parallelism, parameters.memory_cost, parameters.time_cost) == (1, 47_104, 1)
    assert not needs_rehash(stored)
    older = argon2.PasswordHasher().hash("korek-api-biru-7")  # argon2-cffi's default, as hashes were made before
    assert verify_password(older, "korek-api-biru-7") and needs_rehash(older)


def test_an_idle_session_ends_after_the_idle_time() -> None:
    last_seen = T0 + timedelta(hours=1)
    assert session_expires_at(T0, last_seen, IDLE, ABSOLUTE) == last_seen + IDLE
    assert session_is_live(last_seen + IDLE - timedelta(seconds=1), T0, last_seen, IDLE, ABSOLUTE)
    assert not session_is_live(last_seen + IDLE, T0, last_seen, IDLE, ABSOLUTE)


def test_a_busy_session_still_ends_at_the_absolute_expiry() -> None:
    last_seen = T0 + ABSOLUTE - timedelta(minutes=1)
    assert session_expires_at(T0, last_seen, IDLE, ABSOLUTE) == T0 + ABSOLUTE
    assert not session_is_live(T0 + ABSOLUTE, T0, last_seen, IDLE, ABSOLUTE)


def test_token_expiry_is_bounded() -> None:
    assert token_expires_at(T0, 1) == T0 + timedelta(days=1)
    assert token_expires_at(T0, TOKEN_DAYS_MAX) == T0 + timedelta(days=TOKEN_DAYS_MAX)
    for days in (0, -1, TOKEN_DAYS_MAX + 1):
        with pytest.raises(ValueError, match="between 1 and"):
            token_expires_at(T0, days)


def test_limiter_refuses_after_the_limit_until_the_oldest_failure_leaves_the_window() -> None:
    limiter = AttemptLimiter(limit=3, window=60)
    for at in (0.0, 10.0, 20.0):
        assert limiter.retry_after("rina", at) is None
        limiter.failed("rina", at)
    assert limiter.retry_after("rina", 20.0) == pytest.approx(40.0)
    assert limiter.retry_after("rina", 59.0) == pytest.approx(1.0)
    assert limiter.retry_after("rina", 60.0) is None  # the first failure left the window
    assert limiter.retry_after("budi", 20.0) is None  # keys are counted apart


def test_a_success_clears_the_count() -> None:
    limiter = AttemptLimiter(limit=2, window=60)
    limiter.failed("rina", 0.0)
    limiter.succeeded("rina")
    limiter.failed("rina", 1.0)
    assert limiter.retry_after("rina", 1.0) is None


def test_limiter_memory_is_bounded_under_a_flood_of_keys() -> None:
    limiter = AttemptLimiter(limit=5, window=60)
    for n in range(MAX_KEYS + 500):
        limiter.failed(f"10.0.{n // 256}.{n % 256}", float(n) / 1000)
    assert len(limiter._failures) <= MAX_KEYS


def test_staff_roles_nest_and_agency_stands_apart() -> None:
    assert has_role(["admin"], "operator") and has_role(["admin"], "supervisor")
    assert has_role(["supervisor"], "operator") and not has_role(["supervisor"], "admin")
    assert not has_role(["operator"], "supervisor")
    assert has_role(["agency"], "agency") and not has_role(["agency"], "operator")
    assert not has_role(["admin"], "agency")
