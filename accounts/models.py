"""Partner API keys (hashed at rest, djangorestframework-api-key) and the append-only audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from rest_framework_api_key.models import AbstractAPIKey, BaseAPIKeyManager


class PartnerApiKeyManager(BaseAPIKeyManager):
    def get_usable_keys(self) -> models.QuerySet:
        return super().get_usable_keys().select_related("user")


class PartnerApiKey(AbstractAPIKey):
    """A named, revocable key that acts as one user (normally in the partner group).

    Only a SHA-512 hash of the key is stored; the key itself is shown once, when it is created.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("acts as user"),
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = PartnerApiKeyManager()

    class Meta(AbstractAPIKey.Meta):
        verbose_name = _("partner API key")
        verbose_name_plural = _("partner API keys")


class AuditEvent(models.Model):
    """Who read exact locations, exported data, changed roles or decided a review; never edited."""

    class Action(models.TextChoices):
        EXACT_LOCATION_READ = "exact_location_read", _("Read exact locations")
        EXPORT = "export", _("Export")
        ROLE_CHANGE = "role_change", _("Role change")
        REVIEW_DECISION = "review_decision", _("Review decision")
        API_KEY = "api_key", _("API key created or revoked")
        WEBHOOK_DISABLED = "webhook_disabled", _("Webhook switched off after failures")
        TWO_FACTOR = "two_factor", _("Two-factor sign-in switched on or off")
        RETENTION = "retention", _("Retention: locations coarsened, photos deleted")
        IMPORT = "import", _("Data import")

    at = models.DateTimeField(_("at"), auto_now_add=True, db_index=True)
    action = models.CharField(_("action"), max_length=32, choices=Action.choices, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    api_key_prefix = models.CharField(_("API key prefix"), max_length=8, blank=True)
    path = models.CharField(_("request"), max_length=500, blank=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_ids = models.JSONField(_("object ids"), default=list, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.user_id or self.api_key_prefix}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Audit events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")
