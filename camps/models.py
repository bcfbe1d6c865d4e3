"""Displacement sites (IDP camps and camp clusters) and their dated population figures."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.db.models import OuterRef, Prefetch, Q, Subquery
from django.utils.translation import gettext_lazy as _


class CampQuerySet(models.QuerySet):
    def located(self) -> CampQuerySet:
        return self.filter(location__isnull=False)

    def with_latest_population(self) -> CampQuerySet:
        """Annotate the most recent individuals/households figures in the same query (no N+1)."""
        latest = CampPopulation.objects.filter(camp=OuterRef("pk")).order_by("-date")
        return self.annotate(
            population_individuals=Subquery(latest.values("individuals")[:1]),
            population_households=Subquery(latest.values("households")[:1]),
            population_date=Subquery(latest.values("date")[:1]),
        )

    def with_population_history(self) -> CampQuerySet:
        """Prefetch every population figure, newest first: one query for the whole page."""
        return self.prefetch_related(
            Prefetch("populations", queryset=CampPopulation.objects.order_by("-date"))
        )


class Camp(models.Model):
    class Type(models.TextChoices):
        PLANNED_CAMP = "planned_camp", _("Planned camp")
        INFORMAL_SETTLEMENT = "informal_settlement", _("Informal settlement")
        COLLECTIVE_CENTRE = "collective_centre", _("Collective centre")
        RECEPTION_CENTRE = "reception_centre", _("Reception centre")
        CLUSTER = "cluster", _("Camp cluster (many sites)")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        CLOSED = "closed", _("Closed")
        UNKNOWN = "unknown", _("Unknown")

    site_id = models.CharField(_("site id"), max_length=64, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    camp_type = models.CharField(_("type"), max_length=32, choices=Type.choices)
    location = models.PointField(
        _("location"), srid=4326, null=True, blank=True, spatial_index=True
    )
    location_quality = models.CharField(_("location quality"), max_length=300, blank=True)
    boundary = models.MultiPolygonField(
        _("boundary"), srid=4326, null=True, blank=True, spatial_index=True
    )
    adm1_pcode = models.CharField(_("governorate P-code"), max_length=16, blank=True)
    adm2_pcode = models.CharField(_("district P-code"), max_length=16, blank=True)
    adm3_pcode = models.CharField(
        _("sub-district P-code"), max_length=16, blank=True, db_index=True
    )
    managing_agency = models.CharField(_("managing agency"), max_length=200, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    source = models.CharField(_("source"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = CampQuerySet.as_manager()

    class Meta:
        verbose_name = _("camp")
        verbose_name_plural = _("camps")
        ordering = ["name_en"]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isnull=True) | Q(location__isvalid=True),
                name="camp_location_valid",
            ),
            models.CheckConstraint(
                condition=Q(boundary__isnull=True) | Q(boundary__isvalid=True),
                name="camp_boundary_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name_en


class CampPopulation(models.Model):
    camp = models.ForeignKey(
        Camp, verbose_name=_("camp"), on_delete=models.CASCADE, related_name="populations"
    )
    date = models.DateField(_("date"))
    individuals = models.PositiveIntegerField(_("individuals"))
    households = models.PositiveIntegerField(_("households"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=500, blank=True)
    is_synthetic = models.BooleanField(_("synthetic (demo)"), default=False)

    class Meta:
        verbose_name = _("camp population")
        verbose_name_plural = _("camp populations")
        ordering = ["camp", "-date"]
        constraints = [
            models.UniqueConstraint(fields=["camp", "date"], name="camppopulation_one_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.camp}: {self.individuals} ({self.date})"
