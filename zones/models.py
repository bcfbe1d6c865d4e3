"""Admin areas (OCHA P-codes) and agreement zones, and the gazetteer of localities inside them."""

from __future__ import annotations

import re

from django.contrib.gis.db import models
from django.contrib.gis.db.models.functions import GeomOutputGeoFunc
from django.contrib.gis.geos import GEOSGeometry
from django.contrib.postgres.indexes import GinIndex
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Concat
from django.utils.translation import gettext_lazy as _

from zones.text import normalize_name


class ZoneKind(models.TextChoices):
    GOVERNORATE = "governorate", _("Governorate")
    DISTRICT = "district", _("District")
    SUBDISTRICT = "subdistrict", _("Sub-district")
    SECURITY_CORRIDOR = "security_corridor", _("Security corridor")
    LINE_OF_CONTACT = "line_of_contact", _("Line of contact")
    PATROL_SECTOR = "patrol_sector", _("Patrol sector")


ADMIN_KINDS = (ZoneKind.GOVERNORATE, ZoneKind.DISTRICT, ZoneKind.SUBDISTRICT)

_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")


class NameFold(models.Func):
    """The SQL twin of zones.text.normalize_name for names stored unfolded (zones, Arabic names):
    lower case, Arabic marks and tatweel dropped, letter variants folded, apostrophes and hyphens
    dropped. Latin accents are not stripped (the admin names carry none)."""

    function = ""
    template = (
        "lower(regexp_replace(translate(%(expressions)s, 'أإآٱىئؤة', 'ااااييوه'), "
        "'[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640''‘’`ʿʾ-]', '', 'g'))"
    )
    output_field = models.TextField()


class SimplifyPreserveTopology(GeomOutputGeoFunc):
    """ST_SimplifyPreserveTopology: fewer vertices, still valid; tolerance in the geometry's units
    (degrees for our WGS84 columns)."""

    function = "ST_SimplifyPreserveTopology"
    geom_param_pos = (0,)


class Multi(GeomOutputGeoFunc):
    """ST_Multi: simplifying can turn a one-part MultiPolygon into a Polygon; keep the type."""

    function = "ST_Multi"


class ZoneQuerySet(models.QuerySet):
    def of_kind(self, kind: str) -> ZoneQuerySet:
        return self.filter(kind=kind)

    def governorates(self) -> ZoneQuerySet:
        return self.of_kind(ZoneKind.GOVERNORATE)

    def districts(self) -> ZoneQuerySet:
        return self.of_kind(ZoneKind.DISTRICT)

    def subdistricts(self) -> ZoneQuerySet:
        return self.of_kind(ZoneKind.SUBDISTRICT)

    def corridors(self) -> ZoneQuerySet:
        return self.of_kind(ZoneKind.SECURITY_CORRIDOR)

    def containing(self, point: GEOSGeometry) -> ZoneQuerySet:
        """Zones whose area covers the point (uses the GiST index)."""
        return self.filter(geom__intersects=point)

    def with_descendants(self, pcode: str) -> ZoneQuerySet:
        """The zone with this P-code and every zone below it (down to sub-districts)."""
        return self.filter(Q(pcode=pcode) | Q(parent__pcode=pcode) | Q(parent__parent__pcode=pcode))

    def search(self, text: str) -> ZoneQuerySet:
        """Zones whose English or Arabic name contains the text (case and Arabic variants folded).

        Folded in SQL on the fly: there are a few hundred zones, not worth a stored key.
        """
        needle = normalize_name(text)
        if not needle:
            return self.none()
        return self.alias(folded_names=NameFold(Concat("name_en", Value(" "), "name_ar"))).filter(
            folded_names__contains=needle
        )

    def for_api(self) -> ZoneQuerySet:
        """Without the geometry columns (a governorate outline is thousands of vertices) and with
        the parent's P-code, so a list needs no query per row."""
        return self.defer("geom", "axis").annotate(parent_pcode=F("parent__pcode"))

    def with_outline(self, tolerance: float | None = None) -> ZoneQuerySet:
        """Annotate `outline`: the area, simplified by `tolerance` degrees when one is given."""
        if tolerance:
            outline = Multi(SimplifyPreserveTopology("geom", Value(float(tolerance))))
        else:
            outline = F("geom")
        return self.annotate(outline=outline)


class Zone(models.Model):
    kind = models.CharField(_("kind"), max_length=32, choices=ZoneKind.choices, db_index=True)
    pcode = models.CharField(
        _("P-code"),
        max_length=32,
        unique=True,
        help_text=_(
            "OCHA P-code for admin areas; a stable code such as M4-SC for agreement zones."
        ),
    )
    name_en = models.CharField(_("name (English)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    geom = models.MultiPolygonField(_("area"), srid=4326, spatial_index=True)
    axis = models.LineStringField(
        _("axis"),
        srid=4326,
        null=True,
        blank=True,
        help_text=_("For agreement zones drawn from a line (the M4 corridor): that line."),
    )
    source = models.CharField(_("source"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = ZoneQuerySet.as_manager()

    class Meta:
        verbose_name = _("zone")
        verbose_name_plural = _("zones")
        ordering = ["kind", "pcode"]
        constraints = [
            models.CheckConstraint(condition=Q(geom__isvalid=True), name="zone_geom_valid"),
            models.CheckConstraint(
                condition=Q(axis__isnull=True) | Q(axis__isvalid=True), name="zone_axis_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} ({self.pcode})"


class LocalityQuerySet(models.QuerySet):
    def search(self, text: str) -> LocalityQuerySet:
        """Localities whose Latin or Arabic name contains the text (case and marks folded)."""
        needle = normalize_name(text)
        if not needle:
            return self.none()
        return self.filter(search_name__contains=needle)

    def starting_first(self, text: str) -> LocalityQuerySet:
        """Order names that start with the text before the others, then by name (the Arabic name
        for a query in Arabic script), as a gazetteer search box should."""
        needle = normalize_name(text)
        # search_name begins with the folded Latin name; the Arabic name is folded here.
        starts = Q(search_name__startswith=needle) | Q(folded_name_ar__startswith=needle)
        by_name = ("name_ar", "name_en") if _ARABIC_LETTER.search(needle) else ("name_en",)
        return (
            self.alias(folded_name_ar=NameFold("name_ar"))
            .alias(starts=Case(When(starts, then=Value(0)), default=Value(1)))
            .order_by("starts", *by_name, "wof_id")
        )


class Locality(models.Model):
    """A village or town of the gazetteer (Who's On First with GeoNames points)."""

    wof_id = models.BigIntegerField(_("Who's On First id"), unique=True)
    name_en = models.CharField(_("name (Latin script)"), max_length=200)
    name_ar = models.CharField(_("name (Arabic)"), max_length=200, blank=True)
    geonames_id = models.BigIntegerField(_("GeoNames id"), null=True, blank=True)
    wikidata_id = models.CharField(_("Wikidata id"), max_length=32, blank=True)
    location = models.PointField(_("location"), srid=4326, spatial_index=True)
    adm1_pcode = models.CharField(_("governorate P-code"), max_length=16, blank=True)
    adm2_pcode = models.CharField(_("district P-code"), max_length=16, blank=True)
    adm3_pcode = models.CharField(_("sub-district P-code"), max_length=16, blank=True)
    search_name = models.TextField(
        _("search key"),
        editable=False,
        help_text=_("Both names, lower-cased, Arabic diacritics and letter variants folded."),
    )

    objects = LocalityQuerySet.as_manager()

    class Meta:
        verbose_name = _("locality")
        verbose_name_plural = _("localities")
        ordering = ["name_en"]
        indexes = [
            GinIndex(
                name="locality_search_trgm",
                fields=["search_name"],
                opclasses=["gin_trgm_ops"],
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isvalid=True), name="locality_location_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name_en} / {self.name_ar}" if self.name_ar else self.name_en
