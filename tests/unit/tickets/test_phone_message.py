"""The phone notification's spoken text, its cache name, what a call's end means, and the retry schedule."""

from __future__ import annotations

import random

import pytest
from pydantic import ValidationError

from ntpd112.backoff import Backoff
from ntpd112.routing.agencies import Agency
from ntpd112.tickets.phone_message import (
    CallReason,
    CallRef,
    Outcome,
    dial_failure,
    digit_outcome,
    message_text,
    sound_name,
    speakable,
    spoken_digits,
)


def test_the_ticket_number_is_read_digit_by_digit_in_indonesian() -> None:
    assert spoken_digits("112-2026-000042") == "satu satu dua, dua nol dua enam, nol nol nol nol empat dua"
    assert spoken_digits("") == ""


def test_the_message_names_category_kecamatan_number_and_the_key() -> None:
    text = message_text(CallReason.CREATED, "Kebakaran", "Pagedangan", "112-2026-000007")
    assert text == (
        "Pemberitahuan dari Call Center 112. Ada tiket baru untuk instansi Anda. Kategori: Kebakaran. "
        "Kecamatan: Pagedangan. Nomor tiket: satu satu dua, dua nol dua enam, nol nol nol nol nol tujuh. "
        "Tekan satu untuk menerima tiket ini."
    )
    escalated = message_text(CallReason.ESCALATED, "Kebakaran", "Pagedangan", "112-2026-000007")
    assert escalated.startswith("Peringatan dari Call Center 112. Tiket ini belum diterima")


def test_missing_fields_are_said_so() -> None:
    text = message_text(CallReason.CREATED, None, "   ", "112-2026-000001")
    assert "Kategori: tidak disebutkan." in text and "Kecamatan: tidak diketahui." in text


@pytest.mark.parametrize(
    ("value", "spoken"),
    [
        ("--voice=en -w /etc/passwd", "voice en -w /etc/passwd"),  # cannot start like an option
        ('<speak><audio src="x"/></speak>', "speak audio src x / /speak"),  # no markup reaches espeak-ng
        ("Kebakaran; rm -rf / `id` $(id)", "Kebakaran rm -rf / id (id)"),
        ("Cipondoh\n\x00Tangerang", "Cipondoh Tangerang"),
        ("Kelapa Dua", "Kelapa Dua"),
        ("---", "fallback"),
    ],
)
def test_fields_are_filtered_before_espeak(value: str, spoken: str) -> None:
    assert speakable(value, "fallback") == spoken


def test_a_field_is_kept_short() -> None:
    assert len(speakable("a" * 500, "x")) == 80


def test_one_text_one_sound_file() -> None:
    a = message_text(CallReason.CREATED, "Kebakaran", "Pagedangan", "112-2026-000007")
    b = message_text(CallReason.CREATED, "Kebakaran", "Pagedangan", "112-2026-000008")
    assert sound_name(a) == sound_name(a) != sound_name(b)
    assert sound_name(a).startswith("ticket-") and sound_name(a)[7:].isalnum()


def test_what_the_end_of_a_call_means() -> None:
    assert digit_outcome("1") is Outcome.ACKNOWLEDGED
    assert digit_outcome("2") is Outcome.WRONG_DIGIT
    assert digit_outcome(None) is Outcome.NO_DIGIT and digit_outcome("") is Outcome.NO_DIGIT
    assert dial_failure("BUSY") is Outcome.BUSY
    assert dial_failure("NOANSWER") is Outcome.NO_ANSWER
    assert dial_failure("CONGESTION") is Outcome.UNREACHABLE and dial_failure(None) is Outcome.UNREACHABLE


def test_a_call_reference_goes_through_the_action_id_and_back() -> None:
    ref = CallRef("9c2fa996-3322-4618-b6c0-2cc3652fd933", 3)
    assert CallRef.of_action_id(ref.action_id()) == ref
    assert CallRef.of_action_id("ntpd112-callback-x") is None
    assert CallRef.of_action_id(CallRef.PREFIX + "abc-") is None
    assert CallRef.of_action_id(CallRef.PREFIX + "-2") is None


def test_the_retry_schedule_grows_to_its_cap_and_stops_after_the_last_attempt() -> None:
    random.seed(7)
    backoff = Backoff(60, 600)
    delays = [backoff.retry_in(attempt, 5) for attempt in range(1, 6)]
    assert delays[-1] is None  # the fifth attempt was the last
    bounds = [(48, 60), (96, 120), (192, 240), (384, 480)]  # doubling, with up to 20 % jitter below
    assert all(low <= delay <= high for delay, (low, high) in zip(delays[:-1], bounds, strict=True))  # type: ignore[operator]
    assert 480 <= (Backoff(60, 600).retry_in(9, 20) or 0) <= 600  # capped
    assert Backoff(60, 600).retry_in(1, 1) is None


def test_an_agency_duty_number_is_digits_only() -> None:
    assert Agency(id="damkar", name="Damkar", duty_number="0215550113").duty_number == "0215550113"
    for bad in ("113,1", "+62215550113", "113@evil", "12", "1" * 16, "113\n"):
        with pytest.raises(ValidationError):
            Agency(id="damkar", name="Damkar", duty_number=bad)
