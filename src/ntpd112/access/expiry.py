"""When a browser session and a personal token stop working.

A session ends at the earlier of its idle expiry (no request for `idle`) and its absolute expiry (`absolute`
after sign-in, however busy it is). A token ends at the expiry chosen at its creation, within the allowed maximum.
"""

from __future__ import annotations

from datetime import datetime, timedelta

TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365


def session_expires_at(
    signed_in_at: datetime, last_seen_at: datetime, idle: timedelta, absolute: timedelta
) -> datetime:
    return min(last_seen_at + idle, signed_in_at + absolute)


def session_is_live(
    now: datetime, signed_in_at: datetime, last_seen_at: datetime, idle: timedelta, absolute: timedelta
) -> bool:
    return now < session_expires_at(signed_in_at, last_seen_at, idle, absolute)


def token_expires_at(now: datetime, days: int) -> datetime:
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise ValueError(f"a token lives between 1 and {TOKEN_DAYS_MAX} days")
    return now + timedelta(days=days)
