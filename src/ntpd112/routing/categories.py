"""Incident categories, call outcomes and severity levels (pure domain, no I/O).

A category id is a stable slug (``medical``, ``fire``, ...). It is stored with every incident and used in the
routing tables and in the fail-safe dialplan (extension ``cat-<id>``), so the id pattern is deliberately
narrow: lower-case ASCII letters, digits and ``_``, starting with a letter. No ``-``: Asterisk ignores dashes
when it matches extensions, so ``cat-a-b`` and ``cat-ab`` would be the same extension.

Categories are configurable (a routing table carries its own list); :func:`default_categories` gives the set
named in issue 5 and at the regency launches: emergencies are handled 24 hours, non-emergency complaints and
information requests only in office hours (08:00-16:00 on workdays in the default table). Call outcomes
(prank, silent, wrong number, test) classify a call that needs no dispatch at all; they are never routed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

__all__ = [
    "CALL_OUTCOMES",
    "CATEGORY_ID_PATTERN",
    "COMPLAINT_LIMITS",
    "EMERGENCY_LIMITS",
    "INCIDENT_CATEGORIES",
    "Category",
    "CategoryId",
    "CategoryKind",
    "Label",
    "Severity",
    "TimeLimits",
    "category_index",
    "default_categories",
]

#: Stable category id. Used verbatim in dialplan extension names, so it must never carry dialplan syntax.
CATEGORY_ID_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"
CategoryId = Annotated[str, StringConstraints(pattern=CATEGORY_ID_PATTERN)]

#: A human-readable label: one line, no control characters.
Label = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Severity(StrEnum):
    """How urgent an incident is; decided by the operator, defaulted from the category."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """Higher is more urgent (critical = 4 ... low = 1), for sorting."""
        return _SEVERITY_RANK[self]

    @property
    def label_id(self) -> str:
        return _SEVERITY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _SEVERITY_LABELS[self][1]


_SEVERITY_RANK = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1}
_SEVERITY_LABELS = {
    Severity.CRITICAL: ("Kritis", "Critical"),
    Severity.HIGH: ("Tinggi", "High"),
    Severity.MEDIUM: ("Sedang", "Medium"),
    Severity.LOW: ("Rendah", "Low"),
}


class CategoryKind(StrEnum):
    INCIDENT = "incident"  # something happened: the call is routed to an agency
    OUTCOME = "outcome"  # how the call ended (prank, silent, ...): no dispatch


#: A week, the longest time limit a category may set.
MAX_LIMIT_MINUTES = 7 * 24 * 60


class TimeLimits(BaseModel):
    """How long an agency has to act on a ticket of a category (routing/deadlines.py computes the deadlines).

    Minutes may be fractions (a test shortens them to seconds). For a non-emergency category the clock runs in
    office hours only: acknowledging is due `acknowledge_minutes` after the office opens (at once when it is open)
    and resolving by the end of that working day, unless `resolve_minutes` is set.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    acknowledge_minutes: float = Field(gt=0, le=MAX_LIMIT_MINUTES)
    resolve_minutes: float | None = Field(None, gt=0, le=MAX_LIMIT_MINUTES)
    #: After a missed limit, minutes until the next escalation level (the head of the agency and the camat).
    escalate_minutes: float = Field(30, gt=0, le=MAX_LIMIT_MINUTES)

    @model_validator(mode="after")
    def _resolve_after_acknowledge(self) -> TimeLimits:
        if self.resolve_minutes is not None and self.resolve_minutes < self.acknowledge_minutes:
            raise ValueError("resolve_minutes is shorter than acknowledge_minutes")
        return self


#: Limits of categories that set none: emergencies acknowledged within 2 minutes, resolved within 4 hours;
#: other complaints acknowledged within an office hour and resolved the same working day.
EMERGENCY_LIMITS = TimeLimits(acknowledge_minutes=2, resolve_minutes=240, escalate_minutes=10)
COMPLAINT_LIMITS = TimeLimits(acknowledge_minutes=60, resolve_minutes=None, escalate_minutes=60)


class Category(BaseModel):
    """One incident category or call outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: CategoryId
    label_id: Label
    label_en: Label
    kind: CategoryKind = CategoryKind.INCIDENT
    #: Emergency categories are handled 24 hours and are the only ones in the fail-safe dialplan; a rule may
    #: not answer them with an after-hours message.
    emergency: bool = False
    default_severity: Severity | None = Severity.MEDIUM
    #: None: EMERGENCY_LIMITS or COMPLAINT_LIMITS (see `time_limits`).
    limits: TimeLimits | None = None

    @property
    def time_limits(self) -> TimeLimits:
        if self.limits is not None:
            return self.limits
        return EMERGENCY_LIMITS if self.emergency else COMPLAINT_LIMITS

    @property
    def dispatch(self) -> bool:
        """Whether calls of this category are routed to an agency at all."""
        return self.kind is CategoryKind.INCIDENT

    @model_validator(mode="after")
    def _outcome_is_not_emergency(self) -> Category:
        if self.kind is CategoryKind.OUTCOME and self.emergency:
            raise ValueError(f"call outcome {self.id!r} cannot be an emergency category")
        if self.kind is CategoryKind.OUTCOME and self.limits is not None:
            raise ValueError(f"call outcome {self.id!r} makes no ticket and has no time limits")
        if self.emergency and self.limits is not None and self.limits.resolve_minutes is None:
            # An emergency is handled 24 hours: "by the end of the working day" would be wrong.
            raise ValueError(f"emergency category {self.id!r} needs resolve_minutes")
        return self


def _incident(cat_id: str, label_id: str, label_en: str, *, emergency: bool, severity: Severity) -> Category:
    return Category(id=cat_id, label_id=label_id, label_en=label_en, emergency=emergency, default_severity=severity)


def _outcome(cat_id: str, label_id: str, label_en: str) -> Category:
    return Category(id=cat_id, label_id=label_id, label_en=label_en, kind=CategoryKind.OUTCOME, default_severity=None)


INCIDENT_CATEGORIES: tuple[Category, ...] = (
    _incident(
        "medical",
        "Kegawatdaruratan medis / ambulans",
        "Medical emergency / ambulance",
        emergency=True,
        severity=Severity.CRITICAL,
    ),
    _incident("fire", "Kebakaran", "Fire", emergency=True, severity=Severity.CRITICAL),
    _incident("disaster", "Bencana alam", "Natural disaster", emergency=True, severity=Severity.CRITICAL),
    _incident(
        "security",
        "Keamanan dan ketertiban umum",
        "Security and public order",
        emergency=True,
        severity=Severity.HIGH,
    ),
    _incident("crime", "Tindak kriminal", "Crime", emergency=True, severity=Severity.HIGH),
    _incident(
        "traffic_accident",
        "Kecelakaan lalu lintas",
        "Traffic accident",
        emergency=True,
        severity=Severity.HIGH,
    ),
    _incident("road", "Jalan dan kemacetan", "Road and congestion", emergency=False, severity=Severity.LOW),
    _incident("fallen_tree", "Pohon tumbang", "Fallen tree", emergency=True, severity=Severity.MEDIUM),
    _incident(
        "violence_women_children",
        "Kekerasan terhadap perempuan dan anak",
        "Violence against women and children",
        emergency=True,
        severity=Severity.HIGH,
    ),
    _incident("electricity", "Gangguan listrik (PLN)", "Electricity (PLN)", emergency=False, severity=Severity.LOW),
    _incident("water", "Gangguan air bersih (PDAM)", "Water supply (PDAM)", emergency=False, severity=Severity.LOW),
    _incident(
        "non_emergency",
        "Pengaduan non-darurat",
        "Non-emergency complaint",
        emergency=False,
        severity=Severity.LOW,
    ),
    _incident("information", "Permintaan informasi", "Information request", emergency=False, severity=Severity.LOW),
)

CALL_OUTCOMES: tuple[Category, ...] = (
    _outcome("prank", "Panggilan iseng", "Prank call"),
    _outcome("silent", "Panggilan diam (ghost call)", "Silent (ghost) call"),
    _outcome("wrong_number", "Salah sambung", "Wrong number"),
    _outcome("test", "Panggilan uji", "Test call"),
)


def default_categories() -> list[Category]:
    """The default incident categories followed by the call outcomes (a fresh list)."""
    return [*INCIDENT_CATEGORIES, *CALL_OUTCOMES]


def category_index(categories: Iterable[Category]) -> dict[str, Category]:
    """Map id -> category (the first one wins if an id repeats; tables refuse duplicates anyway)."""
    index: dict[str, Category] = {}
    for category in categories:
        index.setdefault(category.id, category)
    return index
