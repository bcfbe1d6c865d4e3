"""Audit role changes: a user added to or removed from a role group."""

from django.contrib.auth import get_user_model
from django.db.models.signals import m2m_changed
from django.dispatch import receiver

from accounts.models import AuditEvent
from accounts.services import audit_record

User = get_user_model()


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="accounts_audit_role_change")
def audit_role_change(sender, instance, action, pk_set, reverse, **kwargs):
    if action not in ("post_add", "post_remove", "post_clear"):
        return
    from django.contrib.auth.models import Group

    if reverse:  # group.user_set changed: instance is the group
        detail = {"group": instance.name, "users": sorted(pk_set or []), "change": action}
    else:
        names = sorted(Group.objects.filter(pk__in=pk_set or []).values_list("name", flat=True))
        detail = {"user": instance.pk, "groups": names, "change": action}
    audit_record(action=AuditEvent.Action.ROLE_CHANGE, detail=detail)
