"""The four roles of PRODUCT.md, held as Django groups, and how a request's role is decided."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REPORTER = "reporter"
    ANALYST = "analyst"
    PARTNER = "partner"
    ADMIN = "admin"


# When a user is in several groups the most trusted role wins.
_PRECEDENCE = (Role.ADMIN, Role.ANALYST, Role.PARTNER, Role.REPORTER)

# Roles that may see exact locations and reporter identity (PRODUCT.md, "Do no harm" 1-2).
EXACT_LOCATION_ROLES = frozenset({Role.ANALYST, Role.ADMIN})


def role_of(user) -> Role | None:
    """The user's role, cached on the user object for the request."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    cached = getattr(user, "_monitor_role", False)
    if cached is not False:
        return cached
    if user.is_superuser:
        role = Role.ADMIN
    else:
        names = set(user.groups.values_list("name", flat=True))
        role = next((candidate for candidate in _PRECEDENCE if candidate.value in names), None)
    user._monitor_role = role
    return role


def sees_exact_locations(user) -> bool:
    return role_of(user) in EXACT_LOCATION_ROLES
