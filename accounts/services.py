"""Writes for accounts: API keys and audit events."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser

from accounts.models import AuditEvent, PartnerApiKey


def api_key_create(*, user: AbstractBaseUser, name: str) -> tuple[PartnerApiKey, str]:
    """Create a key for the user; the plain key is returned once and never stored."""
    key_obj, key = PartnerApiKey.objects.create_key(user=user, name=name)
    audit_record(
        action=AuditEvent.Action.API_KEY,
        user=None,
        detail={"created": key_obj.prefix, "for": user.pk},
    )
    return key_obj, key


def api_key_revoke(*, key: PartnerApiKey) -> None:
    key.revoked = True
    key.save(update_fields=["revoked"])
    audit_record(action=AuditEvent.Action.API_KEY, user=None, detail={"revoked": key.prefix})


def audit_record(
    *,
    action: str,
    user=None,
    api_key: PartnerApiKey | None = None,
    path: str = "",
    object_type: str = "",
    object_ids: list | None = None,
    detail: dict | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        action=action,
        user=user if user is not None and user.is_authenticated else None,
        api_key_prefix=api_key.prefix if api_key is not None else "",
        path=path[:500],
        object_type=object_type,
        object_ids=object_ids or [],
        detail=detail or {},
    )


def audit_request(request, *, action: str, object_type: str = "", object_ids=None, detail=None):
    """Record an audit event for an API or page request (user or key taken from the request)."""
    api_key = request.auth if isinstance(getattr(request, "auth", None), PartnerApiKey) else None
    return audit_record(
        action=action,
        user=request.user,
        api_key=api_key,
        path=request.get_full_path(),
        object_type=object_type,
        object_ids=list(object_ids or []),
        detail=detail,
    )
