"""Alerts raised by rules over verified incidents, patrols and trends, and their deliveries.

An alert has a unique key (e.g. "corridor:<incident uuid>"), so every rule can run again and
again (a task sent twice, the beat sweep, two workers) and raise each alert once. Each alert gets
one delivery per channel (e-mail, each webhook); a delivery is retried with exponential backoff
from the database (its `next_attempt_at`), so a broker outage or a receiver that is down delays
it, never loses it. Every attempt is logged.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.roles import Role
from alerts.destinations import validate_webhook_url
from stats.privacy import SUPPRESS_BELOW, withhold_figures


class AlertKind(models.TextChoices):
    CORRIDOR = "corridor", _("Incident in the M4 security corridor")
    NEAR_CAMP = "near_camp", _("Shelling or air strike near a camp")
    ESCALATION = "escalation", _("Escalation in a zone")
    PATROL_CUT_SHORT = "patrol_cut_short", _("Patrol cut short")


class AlertBasis(models.TextChoices):
    """What a rule looked at. A rule over incidents runs twice: on the exact points (alerts for
    analysts and admins) and on the grid points (alerts for everyone else), so that an alert a
    partner receives, and its absence, tells no more than the grid (PRODUCT.md, "Do no harm" 6)."""

    EXACT = "exact", _("Exact locations (analysts and admins)")
    GRID = "grid", _("Grid locations (partners)")
    NONE = "none", _("No incident location (everyone)")


class AlertQuerySet(models.QuerySet):
    def for_readers(self, *, exact: bool) -> AlertQuerySet:
        """The alerts raised for readers of exact locations, or for everyone else."""
        basis = AlertBasis.EXACT if exact else AlertBasis.GRID
        return self.filter(basis__in=(basis, AlertBasis.NONE))

    def visible_to(self, user) -> AlertQuerySet:
        """Staff see every alert raised on exact locations; partners those raised on the grid
        whose incident (if any) is still verified and not deleted."""
        from accounts.roles import sees_exact_locations
        from incidents.models import ReviewStatus

        if sees_exact_locations(user):
            return self.for_readers(exact=True)
        return self.for_readers(exact=False).filter(
            models.Q(incident__isnull=True)
            | models.Q(
                incident__review_status=ReviewStatus.VERIFIED, incident__deleted_at__isnull=True
            )
        )


class Alert(models.Model):
    uuid = models.UUIDField(_("id"), unique=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=32, choices=AlertKind.choices, db_index=True)
    key = models.CharField(_("key"), max_length=200, unique=True)
    created_at = models.DateTimeField(_("raised at"), default=timezone.now, db_index=True)
    occurred_at = models.DateTimeField(_("event time"))
    incident = models.ForeignKey(
        "incidents.Incident",
        verbose_name=_("incident"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    patrol = models.ForeignKey(
        "patrols.Patrol",
        verbose_name=_("patrol"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="alerts",
    )
    camp = models.ForeignKey(
        "camps.Camp",
        verbose_name=_("camp"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    zone = models.ForeignKey(
        "zones.Zone",
        verbose_name=_("zone"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="alerts",
    )
    # The rule's numbers: distance and population, the week's count and its baseline, ...
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    basis = models.CharField(
        _("raised on"),
        max_length=8,
        choices=AlertBasis.choices,
        default=AlertBasis.EXACT,
        db_default=AlertBasis.EXACT,
    )

    objects = AlertQuerySet.as_manager()

    class Meta:
        verbose_name = _("alert")
        verbose_name_plural = _("alerts")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["created_at", "id"], name="alert_created_cursor")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def shown_to(self, *, exact: bool) -> bool:
        """Whether readers of exact locations (or, with exact=False, everyone else) get it."""
        basis = AlertBasis.EXACT if exact else AlertBasis.GRID
        return self.basis in (basis, AlertBasis.NONE)

    def _named(self, key: str) -> str:
        """A stored name (`<key>_en`, `<key>_ar`) in the active language."""
        from django.utils.translation import get_language

        english = self.detail.get(f"{key}_en", "")
        if get_language() == "ar":
            return self.detail.get(f"{key}_ar") or english
        return english

    def figures(self, *, exact: bool) -> dict:
        """The stored detail as its reader may see it: whole for analysts and admins (`exact`);
        for everyone else by the one small-count rule (stats.privacy), so an escalation's
        baseline of 1 or 2, the expected count and p-value worked from it, and a week's killed
        of 1 or 2 read as withheld (None), as the trends API gives them."""
        if exact:
            return dict(self.detail)
        shown, _hidden = withhold_figures(
            self.detail,
            viewer=Role.PARTNER,
            count="recent",
            describing=("recent_killed",),
            others=("baseline",),
            derived={"expected": "baseline", "p_value": ("recent", "baseline")},
        )
        return {key: value for key, value in shown.items() if key in self.detail}

    def summary(self, *, exact: bool = True) -> str:
        """One line in the active language, built from the stored numbers. A distance computed
        from an exact point is said only with `exact` (and only alerts raised on exact points
        have one); otherwise the rule's band: "within 10 km". Figures as `figures` gives them."""
        detail = self.figures(exact=exact)
        sub_type = detail.get("sub_type", "")
        kind = gettext(sub_type) if sub_type else ""
        if self.kind == AlertKind.CORRIDOR:
            return gettext("%(type)s in the M4 security corridor, %(zone)s") % {
                "type": kind,
                "zone": self._named("zone_name"),
            }
        if self.kind == AlertKind.NEAR_CAMP:
            figures = {
                "type": kind,
                "camp": self._named("camp_name"),
                "population": detail.get("population", ""),
                "camps": detail.get("camps_within", ""),
            }
            if exact and "distance_m" in detail:
                return gettext(
                    "%(type)s about %(km)s km from %(camp)s (%(population)s people; "
                    "%(camps)s camps above the threshold within range)"
                ) % {**figures, "km": round(detail["distance_m"] / 1000, 1)}
            within_m = detail.get("within_m", settings.ALERT_CAMP_DISTANCE_M)
            km = f"{within_m / 1000:g}"
            if self.basis == AlertBasis.GRID:
                return gettext(
                    "%(type)s within %(km)s km of %(camp)s, by the incident's location on the "
                    "0.05° grid (%(population)s people; %(camps)s camps above the threshold "
                    "within that distance)"
                ) % {**figures, "km": km}
            return gettext(
                "%(type)s within %(km)s km of %(camp)s (%(population)s people; %(camps)s camps "
                "above the threshold within that distance)"
            ) % {**figures, "km": km}
        if self.kind == AlertKind.ESCALATION:
            if detail.get("expected") is None:
                return gettext(
                    "Escalation in %(zone)s: %(recent)s verified incidents in 7 days, against "
                    "fewer than %(n)s in the 28 days before"
                ) % {
                    "zone": self._named("zone_name"),
                    "recent": detail.get("recent", ""),
                    "n": SUPPRESS_BELOW,
                }
            return gettext(
                "Escalation in %(zone)s: %(recent)s verified incidents in 7 days against "
                "%(expected)s expected from the 28 days before"
            ) % {
                "zone": self._named("zone_name"),
                "recent": detail.get("recent", ""),
                "expected": detail.get("expected", ""),
            }
        return gettext("%(forces)s patrol on %(route)s cut short on %(date)s") % {
            "forces": detail.get("forces", ""),
            "route": detail.get("route", ""),
            "date": detail.get("date", ""),
        }


def _new_secret() -> str:
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A partner system's URL that receives alerts as signed JSON POSTs."""

    class Audience(models.TextChoices):
        PARTNER = "partner", _("Partner (locations on the grid)")
        STAFF = "staff", _("Own staff (exact locations)")

    name = models.CharField(_("name"), max_length=200)
    url = models.URLField(_("URL"), max_length=500)
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        default=_new_secret,
        help_text=_("The receiver checks the X-Monitor-Signature header with this secret."),
    )
    audience = models.CharField(
        _("audience"), max_length=16, choices=Audience.choices, default=Audience.PARTNER
    )
    kinds = ArrayField(
        models.CharField(max_length=32, choices=AlertKind.choices),
        verbose_name=_("alert kinds"),
        default=list,
        blank=True,
        help_text=_("Empty: every kind."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    consecutive_failures = models.PositiveIntegerField(_("failed attempts in a row"), default=0)
    disabled_at = models.DateTimeField(_("switched off at"), null=True, blank=True)
    disabled_reason = models.CharField(_("why switched off"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """Refuse URLs that resolve to internal addresses (checked again at every send)."""
        super().clean()
        try:
            URLValidator(schemes=["http", "https"])(self.url)
        except ValidationError:
            return  # reported by the field's own validation
        try:
            validate_webhook_url(self.url)
        except ValidationError as error:
            raise ValidationError({"url": error.messages}) from None

    def wants(self, kind: str) -> bool:
        return not self.kinds or kind in self.kinds


class AlertDelivery(models.Model):
    class Channel(models.TextChoices):
        EMAIL = "email", _("E-mail")
        WEBHOOK = "webhook", _("Webhook")

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        DELIVERED = "delivered", _("Delivered")
        FAILED = "failed", _("Gave up")

    uuid = models.UUIDField(_("delivery id"), unique=True, default=uuid.uuid4, editable=False)
    alert = models.ForeignKey(
        Alert, verbose_name=_("alert"), on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices)
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("webhook"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    recipients = ArrayField(
        models.EmailField(), verbose_name=_("recipients"), default=list, blank=True
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("alert delivery")
        verbose_name_plural = _("alert deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["alert", "endpoint"],
                condition=models.Q(channel="webhook"),
                name="alertdelivery_one_per_webhook",
            ),
            models.UniqueConstraint(
                fields=["alert"],
                condition=models.Q(channel="email"),
                name="alertdelivery_one_email",
            ),
            models.CheckConstraint(
                condition=models.Q(channel="email") | models.Q(endpoint__isnull=False),
                name="alertdelivery_webhook_has_endpoint",
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="alertdelivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.alert} → {self.endpoint or self.get_channel_display()}"


class DeliveryAttempt(models.Model):
    """The delivery log: one row per attempt, append-only."""

    delivery = models.ForeignKey(
        AlertDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="log"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    ok = models.BooleanField(_("succeeded"))
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.at:%Y-%m-%d %H:%M:%S} {'ok' if self.ok else 'failed'}"
