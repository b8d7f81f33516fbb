"""The routing table a new room starts with."""

from __future__ import annotations

from ntpd112.routing.agencies import (
    default_agencies,
    default_targets,
)
from ntpd112.routing.tables import ChainStep, OutsideHours, RoutingTable, Rule, default_office_hours
from ntpd112.routing.windows import WORKDAYS, TimeWindow

_OFFICE_HOURS = default_office_hours()


def _steps(*targets: str) -> list[ChainStep]:
    return [ChainStep(target=t) for t in targets]


def _office_rule(rule_id: str, category: str, chain: list[ChainStep], agency: str, whom: str) -> Rule:
    return Rule(
        id=rule_id,
        description=f"{category}: office hours only",
        categories=[category],
        windows=[_OFFICE_HOURS],
        chain=chain,
        outside_hours=OutsideHours(
            message=(
                "Layanan pengaduan non-darurat dilayani Senin-Jumat pukul 08.00-16.00 WIB. "
                f"Laporan Anda sudah dicatat dan akan ditindaklanjuti oleh {whom} pada jam kerja."
            ),
            ticket_agency=agency,
        ),
    )


def default_table() -> RoutingTable:
    """A complete starting table: every default category has a rule; unmatched calls go to the supervisors."""
    rules = [
        Rule(id="medical", categories=["medical"], chain=_steps("psc119-desk", "psc119-119", "rsud-desk")),
        Rule(id="fire", categories=["fire"], chain=_steps("damkar-desk", "damkar-113", "bpbd-desk")),
        Rule(
            id="disaster",
            categories=["disaster"],
            chain=_steps("bpbd-desk", "bpbd-117", "basarnas-115", "pmi-desk"),
        ),
        Rule(id="security", categories=["security"], chain=_steps("satpolpp-desk", "polres-desk", "polres-110")),
        Rule(id="crime", categories=["crime"], chain=_steps("polres-desk", "polres-110")),
        Rule(
            id="traffic-accident",
            description="police first, then the ambulance chain",
            categories=["traffic_accident"],
            chain=_steps("polres-desk", "polres-110"),
            then="medical",
        ),
        Rule(
            id="fallen-tree-day",
            description="DLHK crews during office hours",
            categories=["fallen_tree"],
            windows=[TimeWindow(days=list(WORKDAYS), start="07:30", end="16:00")],
            priority=10,
            chain=_steps("dlhk-desk", "damkar-desk"),
        ),
        Rule(id="fallen-tree", categories=["fallen_tree"], chain=_steps("damkar-desk", "bpbd-desk")),
        Rule(
            id="violence-women-children",
            categories=["violence_women_children"],
            chain=_steps("dp3a-desk", "polres-desk", "polres-110"),
        ),
        Rule(
            id="electricity",
            description="PLN 123 answers 24 hours",
            categories=["electricity"],
            chain=_steps("pln-123", "pln-desk"),
        ),
        _office_rule("road", "road", _steps("dishub-desk"), "dishub", "Dinas Perhubungan"),
        _office_rule("water", "water", _steps("pdam-desk"), "pdam", "PDAM"),
        _office_rule("non-emergency", "non_emergency", _steps("supervisor"), "ntpd112", "petugas NTPD 112"),
        _office_rule("information", "information", _steps("supervisor"), "ntpd112", "petugas NTPD 112"),
    ]
    return RoutingTable(
        version=1,
        agencies=default_agencies(),
        targets=default_targets(),
        rules=rules,
        default_chain=_steps("supervisor"),
    )
