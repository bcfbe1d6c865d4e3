"""Joint M4 patrols under the 5 March 2020 protocol, their routes and events; observation posts."""

from __future__ import annotations

import datetime

from django.contrib.gis.db import models
from django.db.models import Count, F, Prefetch, Q
from django.utils.translation import gettext_lazy as _

# Codes of the reference routes (monitoring.reference loads them).
M4_PATROL_ROUTE = "m4-patrol"  # joint patrol route Trumba - Ain al-Hawr; the corridor's axis
M4_HIGHWAY = "m4-highway"  # the M4 Saraqib - Latakia; distances "to the M4" are to this line


class Route(models.Model):
    class Kind(models.TextChoices):
        PATROL_ROUTE = "patrol_route", _("Patrol route")
        HIGHWAY = "highway", _("Highway")

    slug = models.SlugField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    geom = models.LineStringField(_("line"), srid=4326, spatial_index=True)
    geometry_quality = models.CharField(_("geometry quality"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("route")
        verbose_name_plural = _("routes")
        ordering = ["slug"]
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="route_geom_valid"),
        ]

    def __str__(self) -> str:
        return self.name_en


class Forces(models.TextChoices):
    TURKISH = "turkish", _("Turkish")
    RUSSIAN = "russian", _("Russian")
    JOINT = "joint", _("Joint Turkish-Russian")


class PatrolQuerySet(models.QuerySet):
    def between(self, start: datetime.date, end: datetime.date) -> PatrolQuerySet:
        return self.filter(date__gte=start, date__lte=end)

    def cut_short(self) -> PatrolQuerySet:
        return self.filter(status=Patrol.Status.CUT_SHORT)

    def with_event_count(self) -> PatrolQuerySet:
        """Annotate `events_count` in the same query (no query per patrol)."""
        return self.annotate(events_count=Count("events"))

    def with_events(self) -> PatrolQuerySet:
        """Prefetch the events in time order: one query for the whole page."""
        return self.prefetch_related(
            Prefetch("events", queryset=PatrolEvent.objects.order_by("occurred_at", "id"))
        )

    def for_api(self) -> PatrolQuerySet:
        """With the route's code (not its line) and the number of events."""
        return self.annotate(route_slug=F("route__slug")).with_event_count()


class Patrol(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        COMPLETED = "completed", _("Completed")
        CUT_SHORT = "cut_short", _("Cut short")
        CANCELLED = "cancelled", _("Cancelled")

    route = models.ForeignKey(Route, verbose_name=_("route"), on_delete=models.PROTECT)
    date = models.DateField(_("date"), db_index=True)
    forces = models.CharField(_("forces"), max_length=16, choices=Forces.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PLANNED, db_index=True
    )
    planned_start = models.DateTimeField(_("planned start"), null=True, blank=True)
    planned_end = models.DateTimeField(_("planned end"), null=True, blank=True)
    actual_start = models.DateTimeField(_("actual start"), null=True, blank=True)
    actual_end = models.DateTimeField(_("actual end"), null=True, blank=True)
    track = models.LineStringField(_("actual track"), srid=4326, null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    is_synthetic = models.BooleanField(
        _("synthetic (demo)"), default=False, help_text=_("Generated demo data, not a real patrol.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)

    objects = PatrolQuerySet.as_manager()

    class Meta:
        verbose_name = _("patrol")
        verbose_name_plural = _("patrols")
        ordering = ["-date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(track__isnull=True) | Q(track__isvalid=True), name="patrol_track_valid"
            ),
            models.CheckConstraint(
                condition=Q(planned_end__isnull=True)
                | Q(planned_start__isnull=True)
                | Q(planned_end__gte=F("planned_start")),
                name="patrol_planned_order",
            ),
            models.CheckConstraint(
                condition=Q(actual_end__isnull=True)
                | Q(actual_start__isnull=True)
                | Q(actual_end__gte=F("actual_start")),
                name="patrol_actual_order",
            ),
        ]
        indexes = [models.Index(fields=["route", "date"], name="patrol_route_date")]

    def __str__(self) -> str:
        return (
            f"{self.get_forces_display()} patrol {self.date:%Y-%m-%d} ({self.get_status_display()})"
        )


class PatrolEvent(models.Model):
    class Kind(models.TextChoices):
        BLOCKED_ROAD = "blocked_road", _("Blocked road")
        PROTEST = "protest", _("Protest")
        IED = "ied", _("IED / landmine")
        ATTACK = "attack", _("Attack on the patrol")
        VEHICLE_BREAKDOWN = "breakdown", _("Vehicle breakdown")
        OTHER = "other", _("Other")

    patrol = models.ForeignKey(
        Patrol, verbose_name=_("patrol"), on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(_("what happened"), max_length=32, choices=Kind.choices)
    occurred_at = models.DateTimeField(_("when"))
    location = models.PointField(_("where"), srid=4326, null=True, blank=True, spatial_index=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("patrol event")
        verbose_name_plural = _("patrol events")
        ordering = ["occurred_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=True) | Q(location__isvalid=True),
                name="patrolevent_location_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class ObservationPostQuerySet(models.QuerySet):
    def active_on(self, day: datetime.date) -> ObservationPostQuerySet:
        return self.filter(Q(active_from__isnull=True) | Q(active_from__lte=day)).filter(
            Q(active_to__isnull=True) | Q(active_to__gte=day)
        )

    def located(self) -> ObservationPostQuerySet:
        return self.filter(location__isnull=False)


class ObservationPost(models.Model):
    """A military observation post; kept even when its coordinates are unknown (location empty)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    number = models.PositiveSmallIntegerField(_("number"), null=True, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    alt_names = models.CharField(_("other names"), max_length=300, blank=True)
    location = models.PointField(
        _("location"), srid=4326, null=True, blank=True, spatial_index=True
    )
    location_quality = models.CharField(_("location quality"), max_length=300, blank=True)
    operator = models.CharField(_("operator"), max_length=16, choices=Forces.choices)
    active_from = models.DateField(_("active from"), null=True, blank=True)
    active_to = models.DateField(_("active to"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)

    objects = ObservationPostQuerySet.as_manager()

    class Meta:
        verbose_name = _("observation post")
        verbose_name_plural = _("observation posts")
        ordering = ["number", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=True) | Q(location__isvalid=True),
                name="observationpost_location_valid",
            ),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_to__gte=F("active_from")),
                name="observationpost_active_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name_en
