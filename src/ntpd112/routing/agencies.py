"""Agency directory and dispatch targets (pure domain, no I/O).

An :class:`Agency` is an organisation (Polres, Damkar, PSC 119, ...). A *target* is one way of reaching it:

* :class:`HuntGroup`: the PJSIP endpoints of the agency's desks, rung all at once (``ringall``) or one after
the
  other (``linear``, each endpoint rung for the full timeout);
* :class:`ExternalNumber`: a number such as 110 or 119 dialled through an agency trunk
(``PJSIP/<number>@<trunk>``).

Every value that ends up in the fail-safe dialplan (endpoint and trunk names, numbers, timeouts) is validated
here against narrow patterns, so a routing table can never smuggle dialplan syntax (``,``, ``&``, ``)``,
``$``, ``;``, newlines, ...) into ``Dial()``. Pydantic's patterns are run by Rust's regex engine, where ``$``
matches only at the very end of the string (a trailing newline is refused).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, field_validator

from ntpd112.routing.categories import CategoryId, Label, TimeLimits

__all__ = [
    "DEFAULT_AGENCY_TRUNK",
    "DIAL_NUMBER_PATTERN",
    "ENDPOINT_PATTERN",
    "MAX_TIMEOUT",
    "MIN_TIMEOUT",
    "PHONE_PATTERN",
    "SLUG_PATTERN",
    "Agency",
    "AgencyKind",
    "Contact",
    "DialNumber",
    "EndpointName",
    "ExternalNumber",
    "HuntGroup",
    "RingStrategy",
    "Slug",
    "Target",
    "Timeout",
    "Webhook",
    "default_agencies",
    "default_targets",
]

#: Ids of agencies, targets and rules: lower-case ASCII, digits, ``_`` and ``-``; no leading/trailing
#: punctuation.
SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]

#: PJSIP endpoint (and trunk) names we accept: a strict subset of what Asterisk allows, with nothing that
#: means something inside ``Dial()`` (``&`` separates devices, ``,`` arguments, ``/`` and ``@`` split a dial
#: string).
ENDPOINT_PATTERN = r"^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?$"
EndpointName = Annotated[str, StringConstraints(pattern=ENDPOINT_PATTERN)]

#: A dialable number: digits only, 3 (110) to 15 (E.164 maximum) long.
DIAL_NUMBER_PATTERN = r"^[0-9]{3,15}$"
DialNumber = Annotated[str, StringConstraints(pattern=DIAL_NUMBER_PATTERN)]

MIN_TIMEOUT = 5
MAX_TIMEOUT = 300


def _check_timeout(value: int) -> int:
    if not MIN_TIMEOUT <= value <= MAX_TIMEOUT:
        raise ValueError(f"timeout {value} s out of range {MIN_TIMEOUT}..{MAX_TIMEOUT} s")
    return value


#: Ring time in seconds, 5..300.
Timeout = Annotated[int, AfterValidator(_check_timeout)]


class AgencyKind(StrEnum):
    POLICE = "police"
    FIRE = "fire"
    SEARCH_RESCUE = "search_rescue"
    DISASTER = "disaster"
    HEALTH = "health"
    HOSPITAL = "hospital"
    TRANSPORT = "transport"
    ENVIRONMENT = "environment"
    WOMEN_CHILDREN = "women_children"
    PUBLIC_ORDER = "public_order"
    RED_CROSS = "red_cross"
    ELECTRICITY = "electricity"
    WATER = "water"
    CALL_CENTRE = "call_centre"
    OTHER = "other"


#: A person's phone number as a gateway (WhatsApp, SMS) dials it: digits, optionally with a leading +.
PHONE_PATTERN = r"^\+?[0-9]{3,15}$"


class Contact(BaseModel):
    """Someone told when a ticket escalates (the head of an agency, a camat)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Label
    phone: Annotated[str, StringConstraints(pattern=PHONE_PATTERN)]


class Webhook(BaseModel):
    """Where the agency's tickets are posted (docs/TICKETS.md). The signing secret is not here: the routing table
    is readable by admins and shown in diffs; the secret is set apart and never read back (store/webhooks.py)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    url: HttpUrl  # http or https only
    #: The caller's number is personal data: sent only when the agency's gateway is allowed to have it.
    include_caller_number: bool = False

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, value: HttpUrl) -> HttpUrl:
        if value.username or value.password:
            raise ValueError("no user or password in the webhook URL: requests are signed with the agency's secret")
        return value


class Agency(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: Slug
    name: Label
    kind: AgencyKind = AgencyKind.OTHER
    webhook: Webhook | None = None
    #: Told at the second escalation level with the camat of the incident's kecamatan.
    head: Contact | None = None
    #: The people on duty (a pager phone, the duty officer), told at the first escalation level.
    duty: list[Contact] = Field(default_factory=list, max_length=10)
    #: This agency's own time limits for some categories, instead of the category's (routing/deadlines.py).
    limits: dict[CategoryId, TimeLimits] = Field(default_factory=dict, max_length=64)
    #: The number the service rings through the agency trunk when a ticket is made for the agency or escalates
    #: (dispatch/phone_calls.py, docs/TICKETS.md); pressing 1 on that call acknowledges the ticket. Digits only: it
    #: ends up in a dial string (PJSIP/<number>@<trunk>).
    duty_number: DialNumber | None = None


class RingStrategy(StrEnum):
    RINGALL = "ringall"  # every endpoint at once, first to answer wins
    LINEAR = "linear"  # endpoints in order, each for the full timeout


class HuntGroup(BaseModel):
    """SIP endpoints of an agency's desks."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["hunt_group"] = "hunt_group"
    id: Slug
    agency: Slug
    endpoints: list[EndpointName] = Field(max_length=32)
    strategy: RingStrategy = RingStrategy.RINGALL
    timeout: Timeout = 30

    @field_validator("endpoints")
    @classmethod
    def _endpoints_non_empty_unique(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("a hunt group needs at least one endpoint")
        if len(set(value)) != len(value):
            raise ValueError("duplicate endpoint in hunt group")
        return value


class ExternalNumber(BaseModel):
    """A number (110, 113, 119, a local number) reached through an agency trunk."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["external"] = "external"
    id: Slug
    agency: Slug
    number: DialNumber
    trunk: EndpointName
    timeout: Timeout = 30


#: A dispatch target; JSON carries ``"kind": "hunt_group"`` or ``"kind": "external"``.
Target = Annotated[HuntGroup | ExternalNumber, Field(discriminator="kind")]

DEFAULT_AGENCY_TRUNK = "agency-trunk"


def default_agencies() -> list[Agency]:
    """A regency's usual directory; every entry is editable in the routing table."""
    return [
        Agency(id="ntpd112", name="NTPD 112 (supervisor)", kind=AgencyKind.CALL_CENTRE),
        Agency(id="polres", name="Polres (Kepolisian Resor)", kind=AgencyKind.POLICE),
        Agency(id="damkar", name="Dinas Pemadam Kebakaran (Damkar)", kind=AgencyKind.FIRE),
        Agency(id="basarnas", name="Basarnas / Kantor SAR", kind=AgencyKind.SEARCH_RESCUE),
        Agency(id="bpbd", name="BPBD (Badan Penanggulangan Bencana Daerah)", kind=AgencyKind.DISASTER),
        Agency(id="psc119", name="Dinkes PSC 119", kind=AgencyKind.HEALTH),
        Agency(id="rsud", name="RSUD (Rumah Sakit Umum Daerah)", kind=AgencyKind.HOSPITAL),
        Agency(id="dishub", name="Dinas Perhubungan (Dishub)", kind=AgencyKind.TRANSPORT),
        Agency(id="dlhk", name="Dinas Lingkungan Hidup dan Kehutanan (DLHK)", kind=AgencyKind.ENVIRONMENT),
        Agency(
            id="dp3a",
            name="DP3A (Pemberdayaan Perempuan dan Perlindungan Anak)",
            kind=AgencyKind.WOMEN_CHILDREN,
        ),
        Agency(id="satpolpp", name="Satpol PP", kind=AgencyKind.PUBLIC_ORDER),
        Agency(id="pmi", name="PMI (Palang Merah Indonesia)", kind=AgencyKind.RED_CROSS),
        Agency(id="pln", name="PLN (listrik)", kind=AgencyKind.ELECTRICITY),
        Agency(id="pdam", name="PDAM (air bersih)", kind=AgencyKind.WATER),
    ]


def _desk(agency: str, desks: int = 2) -> HuntGroup:
    return HuntGroup(id=f"{agency}-desk", agency=agency, endpoints=[f"{agency}-desk{i}" for i in range(1, desks + 1)])


def _number(agency: str, number: str, trunk: str) -> ExternalNumber:
    return ExternalNumber(id=f"{agency}-{number}", agency=agency, number=number, trunk=trunk)


def default_targets(trunk: str = DEFAULT_AGENCY_TRUNK) -> list[HuntGroup | ExternalNumber]:
    """A desk hunt group per agency plus the national short numbers (110, 113, 115, 117, 119, PLN 123).

    Endpoint names (``<agency>-desk1``...) and the trunk name are placeholders for a site's PJSIP
    configuration.
    """
    targets: list[HuntGroup | ExternalNumber] = [
        HuntGroup(id="supervisor", agency="ntpd112", endpoints=["supervisor1", "supervisor2"]),
    ]
    targets += [
        _desk(a)
        for a in (
            "polres",
            "damkar",
            "basarnas",
            "bpbd",
            "psc119",
            "rsud",
            "dishub",
            "dlhk",
            "dp3a",
            "satpolpp",
        )
    ]
    targets += [_desk(a, desks=1) for a in ("pmi", "pln", "pdam")]
    targets += [
        _number("polres", "110", trunk),
        _number("damkar", "113", trunk),
        _number("basarnas", "115", trunk),
        _number("bpbd", "117", trunk),
        _number("psc119", "119", trunk),
        _number("pln", "123", trunk),
    ]
    return targets
