"""Sealing keys (public halves only) and the sealed submissions the server could not open.

The private halves are files, never rows: sealing.keys says why.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class UnsealReason(models.TextChoices):
    """Why a sealed submission could not be opened. Malformed envelopes are refused, not kept."""

    MALFORMED = "malformed", _("Malformed envelope")
    UNKNOWN_KEY = "unknown_key", _("Unknown key")
    KEY_MISSING = "key_missing", _("Private key file missing or unreadable")
    WRAPPED_KEY = "wrapped_key", _("The wrapped key does not decrypt")
    TAG = "tag", _("The ciphertext fails authentication")
    PLAINTEXT = "plaintext", _("The decrypted report is not a JSON object")


class SealingKeyQuerySet(models.QuerySet):
    def active(self) -> SealingKeyQuerySet:
        return self.filter(active=True)


class SealingKey(models.Model):
    """One RSA key pair that phones seal reports for; the newest active one is handed out."""

    key_id = models.CharField(_("key id"), max_length=32, unique=True, editable=False)
    public_key = models.BinaryField(
        _("public key"), editable=False, help_text=_("DER SubjectPublicKeyInfo, RSA 3072.")
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    active = models.BooleanField(_("active"), default=False)
    # When another key became active: phones may still hold this one for SEALING_KEY_KEEP_DAYS.
    superseded_at = models.DateTimeField(_("superseded"), null=True, blank=True)
    retired_at = models.DateTimeField(_("retired"), null=True, blank=True)
    # Updated at most hourly, not on every report.
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    objects = SealingKeyQuerySet.as_manager()

    class Meta:
        verbose_name = _("sealing key")
        verbose_name_plural = _("sealing keys")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["active"], condition=Q(active=True), name="sealing_key_one_active"
            ),
            models.CheckConstraint(
                condition=Q(active=False) | Q(retired_at__isnull=True),
                name="sealing_key_active_not_retired",
            ),
        ]

    def __str__(self) -> str:
        return self.key_id


class QuarantinedSubmissionQuerySet(models.QuerySet):
    def unresolved(self) -> QuarantinedSubmissionQuerySet:
        return self.filter(resolved_at__isnull=True)


class QuarantinedSubmission(models.Model):
    """A sealed report or photo the server could not open, kept as received (still sealed) until
    its key is restored and an administrator tries again (admin action)."""

    class Kind(models.TextChoices):
        REPORT = "report", _("Report")
        PHOTO = "photo", _("Photo")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("sent by"),
    )
    client_uuid = models.UUIDField(_("client UUID"))
    key_id = models.CharField(_("key id"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=UnsealReason.choices)
    # The envelope as received: a report's whole `sealed` object, a photo's key id, wrapped key
    # and IV (its ciphertext is in `ciphertext`). Sealed: unreadable without the key files.
    envelope = models.JSONField(_("envelope"))
    ciphertext = models.BinaryField(_("photo ciphertext"), blank=True, default=b"")
    digest = models.CharField(_("digest"), max_length=64, editable=False)
    # The API path it was sent to, where "try again" sends it as its sender.
    path = models.CharField(_("path"), max_length=300)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    retried_at = models.DateTimeField(_("last tried again"), null=True, blank=True)
    retry_status = models.PositiveSmallIntegerField(_("answer to the last try"), null=True)
    retry_result = models.TextField(_("last try's result"), blank=True)
    resolved_at = models.DateTimeField(_("stored"), null=True, blank=True)

    objects = QuarantinedSubmissionQuerySet.as_manager()

    class Meta:
        verbose_name = _("quarantined sealed submission")
        verbose_name_plural = _("quarantined sealed submissions")
        ordering = ["-received_at", "-id"]
        constraints = [
            # The phone resends what it did not see stored: one row per distinct envelope.
            models.UniqueConstraint(
                fields=["kind", "client_uuid", "digest"], name="sealing_quarantine_once"
            ),
        ]
        indexes = [models.Index(fields=["user", "resolved_at"], name="sealing_quarantine_user")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.client_uuid}"
