"""Role-based permissions for API views: a view names the roles that may read and write it."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.roles import Role, role_of

ALL_ROLES = frozenset(Role)
STAFF_ROLES = frozenset({Role.ANALYST, Role.ADMIN})


class RolePermission(BasePermission):
    """Allow safe methods to `view.read_roles` and other methods to `view.write_roles`.

    A user without any role (no group) is refused like an anonymous one.
    """

    def has_permission(self, request, view) -> bool:
        role = role_of(request.user)
        if role is None:
            return False
        if request.method in SAFE_METHODS:
            return role in getattr(view, "read_roles", ALL_ROLES)
        return role in getattr(view, "write_roles", frozenset())
