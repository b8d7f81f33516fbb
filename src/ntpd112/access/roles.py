"""Roles. Staff roles nest (admin > supervisor > operator: a higher role may do what a lower one may); agency is
separate: an agency user is bound to one agency of the routing table and holds no staff role by it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

Role = Literal["operator", "supervisor", "admin", "agency"]
StaffRole = Literal["operator", "supervisor", "admin"]
ROLES: tuple[Role, ...] = ("operator", "supervisor", "admin", "agency")
STAFF_RANK: dict[str, int] = {"operator": 1, "supervisor": 2, "admin": 3}


def has_role(roles: Iterable[str], wanted: Role) -> bool:
    """Whether someone holding `roles` may act as `wanted`."""
    held = set(roles)
    if wanted == "agency":
        return "agency" in held
    return any(STAFF_RANK.get(role, 0) >= STAFF_RANK[wanted] for role in held)
