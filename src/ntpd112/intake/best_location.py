"""Choosing the call's best location among the fixes received (pure; no clock of its own).

Scoring. Every fix gets an *effective radius* in metres; smaller is better:

* the fix's radius; a fix without one (a bare point) counts as ``UNKNOWN_ACCURACY_M`` (2 km),
  i.e. worse than a handset fix but not as bad as a rural cell;
* plus, once the fix is older than ``FRESH_FOR`` (5 minutes), ``DRIFT_M_PER_S`` (2 m/s, a brisk
  walk or slow traffic) for every second beyond that -- the caller may have moved;
* a fix without a timestamp is not penalised (network-cell fixes are stamped with the call's
  start by their producer; a PIDF-LO without timestamp is as old as the INVITE);
* a fix from the future (clock skew) counts as age 0.

Ties (equal effective radius) are broken by source tier -- device GNSS (AML or PIDF-LO with a
satellite method) > other PIDF-LO and AML Wi-Fi > other AML (cell) > network cell -- then by the
newer timestamp. An operator's pin (source ``operator``) is what the operator learned from the caller: it becomes
the best location when placed, whatever the current one is, and ranks first among equals; later fixes still
compete with it by the rule above (its radius is the operator's, plus the staleness penalty), so a pin stays until
a fix more precise than it arrives or the operator pins again.

Fixes arrive one by one (intake, AML later): ``is_better`` compares each new fix with the call's current best
(store/locations.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ntpd112.intake.geoloc import LocationFix

UNKNOWN_ACCURACY_M = 2_000.0
FRESH_FOR = timedelta(minutes=5)
DRIFT_M_PER_S = 2.0

_GNSS_METHODS = frozenset({"gnss", "gps", "a-gps", "agps", "hybrid_a-gps", "gnss-a", "dgps", "galileo"})
TIER_OPERATOR = 4
TIER_DEVICE_GNSS = 3
TIER_PIDF = 2
TIER_AML_OTHER = 1
TIER_NETWORK_CELL = 0


def source_tier(fix: LocationFix) -> int:
    """Rank of a fix's origin for tie-breaking (higher is better)."""
    if fix.source == "operator":
        return TIER_OPERATOR
    method = (fix.method or "").strip().lower()
    if fix.source in ("aml", "pidf") and method in _GNSS_METHODS:
        return TIER_DEVICE_GNSS
    if fix.source == "pidf" or (fix.source == "aml" and method == "wifi"):
        return TIER_PIDF
    if fix.source == "aml":
        return TIER_AML_OTHER
    return TIER_NETWORK_CELL


def effective_radius_m(fix: LocationFix, now: datetime) -> float:
    """The fix's radius, or ``UNKNOWN_ACCURACY_M``, plus the staleness penalty."""
    radius = fix.radius_m if fix.radius_m is not None else UNKNOWN_ACCURACY_M
    if fix.measured_at is None:
        return radius
    age_s = (now - fix.measured_at).total_seconds()
    overdue_s = age_s - FRESH_FOR.total_seconds()
    return radius + DRIFT_M_PER_S * overdue_s if overdue_s > 0 else radius


def _ranking(fix: LocationFix, now: datetime) -> tuple[float, int, float]:
    timestamp = fix.measured_at.timestamp() if fix.measured_at is not None else float("-inf")
    return (effective_radius_m(fix, now), -source_tier(fix), -timestamp)


def is_better(new: LocationFix, current: LocationFix | None, now: datetime) -> bool:
    """True when ``new`` should replace ``current`` as the call's location.

    ``now`` must be timezone-aware. Equal-ranked fixes keep the current one (no flapping).
    """
    if current is None or new.source == "operator":
        return True
    return _ranking(new, now) < _ranking(current, now)
