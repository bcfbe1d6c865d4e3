"""Truce-violation reports: the ACLED-compatible taxonomy, the incident record, its attachments."""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.db.models import F, Q
from django.db.models.functions import Concat
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from incidents.dates import earliest_occurred_at
from zones.models import Zone


class EventType(models.Model):
    """ACLED event type (Battles, Explosions/Remote violence, ...)."""

    slug = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    disorder_type = models.CharField(_("disorder type"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("event type")
        verbose_name_plural = _("event types")
        ordering = ["position", "name"]

    @property
    def label(self) -> str:
        """The name in the reader's language (the stored name is ACLED's English, kept as it is
        for exports and the ACLED import; incidents.taxonomy marks each for translation)."""
        return gettext(self.name)

    def __str__(self) -> str:
        return self.label


class SubEventType(models.Model):
    """ACLED sub-event type, under exactly one event type."""

    event_type = models.ForeignKey(
        EventType, verbose_name=_("event type"), on_delete=models.PROTECT, related_name="sub_types"
    )
    slug = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    disorder_type = models.CharField(_("disorder type"), max_length=100)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("sub-event type")
        verbose_name_plural = _("sub-event types")
        ordering = ["event_type__position", "position", "name"]

    @property
    def label(self) -> str:
        """The name in the reader's language (the stored name is ACLED's English, kept as it is
        for exports and the ACLED import; incidents.taxonomy marks each for translation)."""
        return gettext(self.name)

    def __str__(self) -> str:
        return self.label


class TimePrecision(models.TextChoices):
    MINUTE = "minute", _("Exact time")
    HOUR = "hour", _("Within the hour")
    DAY = "day", _("Day (ACLED 1)")
    WEEK = "week", _("Week (ACLED 2)")
    MONTH = "month", _("Month (ACLED 3)")


class LocationPrecision(models.TextChoices):
    EXACT = "exact", _("Exact (GPS or map)")
    TOWN = "town", _("In the town (ACLED 1)")
    NEAR_TOWN = "near_town", _("Near the town / part of a region (ACLED 2)")
    REGION = "region", _("Larger region (ACLED 3)")


class ReviewStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    UNDER_REVIEW = "under_review", _("Under review")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")
    DUPLICATE = "duplicate", _("Duplicate")


# The review queue shows these unless asked for others.
OPEN_REVIEW_STATUSES = (ReviewStatus.SUBMITTED, ReviewStatus.UNDER_REVIEW)


class Side(models.TextChoices):
    GOVERNMENT = "government", _("Syrian government and allied forces")
    RUSSIA = "russia", _("Russian forces")
    TURKEY = "turkey", _("Turkish forces")
    SNA = "sna", _("Syrian National Army")
    HTS = "hts", _("Hay'at Tahrir al-Sham")
    OTHER_ARMED_GROUP = "other_armed_group", _("Other armed group")
    SDF = "sdf", _("Syrian Democratic Forces")
    UNKNOWN = "unknown", _("Unknown")


class Target(models.TextChoices):
    CIVILIANS = "civilians", _("Civilians")
    CIVILIAN_INFRASTRUCTURE = "civilian_infrastructure", _("Civilian infrastructure")
    CAMP = "camp", _("Displacement camp")
    MILITARY = "military", _("Military position")
    PATROL = "patrol", _("Joint patrol")
    OBSERVATION_POST = "observation_post", _("Observation post")
    UNKNOWN = "unknown", _("Unknown")


class Weapon(models.TextChoices):
    ARTILLERY = "artillery", _("Artillery")
    MORTAR = "mortar", _("Mortar")
    ROCKET = "rocket", _("Rockets / MLRS")
    MISSILE = "missile", _("Guided missile")
    AIRCRAFT = "aircraft", _("Aircraft")
    DRONE = "drone", _("Drone")
    SMALL_ARMS = "small_arms", _("Small arms / machine guns")
    ATGM = "atgm", _("Anti-tank guided missile")
    IED = "ied", _("IED / landmine")
    OTHER = "other", _("Other")
    UNKNOWN = "unknown", _("Unknown")


class Direction(models.TextChoices):
    N = "N", _("North")
    NE = "NE", _("North-east")
    E = "E", _("East")
    SE = "SE", _("South-east")
    S = "S", _("South")
    SW = "SW", _("South-west")
    W = "W", _("West")
    NW = "NW", _("North-west")


class ObservationMethod(models.TextChoices):
    SEEN = "seen", _("Seen")
    HEARD = "heard", _("Heard")
    SEEN_AND_HEARD = "seen_and_heard", _("Seen and heard")
    REPORTED = "reported", _("Reported by others")


# Partners and anonymous readers get locations snapped to this grid (degrees), deterministically:
# jitter at random would be undone by averaging repeated reads (PRODUCT.md, "Do no harm" 1).
COARSE_GRID_DEGREES = 0.05

# The search key of an incident, computed by PostgreSQL: Arabic letter variants and marks folded,
# apostrophes and hyphens dropped, lower case. zones.text.fold_for_search does the same in Python.
_SEARCH_TEXT_SQL = (
    "lower(regexp_replace(translate(%(text)s, 'أإآٱىئؤة', 'ااااييوه'), "
    "'[\u064b-\u065f\u0670\u0640''‘’`ʿʾ-]', '', 'g'))"
)


class SearchFold(models.Func):
    function = ""
    template = _SEARCH_TEXT_SQL % {"text": "%(expressions)s"}
    output_field = models.TextField()


class SnapToGrid(models.Func):
    function = "ST_SnapToGrid"
    template = f"%(function)s(%(expressions)s, {COARSE_GRID_DEGREES})"


class WithinMetres(models.Func):
    """ST_DWithin on the spheroid: true metres, whatever the latitude."""

    output_field = models.BooleanField()

    def __init__(self, column: str, lon: float, lat: float, radius_m: float):
        super().__init__(
            F(column),
            models.Value(float(lon)),
            models.Value(float(lat)),
            models.Value(float(radius_m)),
        )

    def as_sql(self, compiler, connection, **extra_context):
        (geom, geom_params), (lon, lon_params), (lat, lat_params), (radius, radius_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        sql = (
            f"ST_DWithin({geom}::geography, "
            f"ST_SetSRID(ST_MakePoint({lon}, {lat}), 4326)::geography, {radius})"
        )
        return sql, (*geom_params, *lon_params, *lat_params, *radius_params)


# Half-width in degrees of the box that prefilters DUPLICATE_RADIUS_M on the GiST index: 2 km is
# 0.018 degrees of latitude and 0.022 of longitude at 36 N; the margin covers the whole area.
_DUPLICATE_BOX_DEGREES = 0.03
DUPLICATE_RADIUS_M = 2_000
DUPLICATE_WINDOW = datetime.timedelta(days=1)


class GeographyWithin(models.Func):
    """Two points within `radius_m` true metres (ST_DWithin on geography), after a bounding-box
    test that the geometry GiST index answers."""

    output_field = models.BooleanField()

    def __init__(self, left, right, *, radius_m: float, box_degrees: float):
        super().__init__(left, right, models.Value(float(radius_m)), models.Value(box_degrees))

    def as_sql(self, compiler, connection, **extra_context):
        (a, a_params), (b, b_params), (r, r_params), (d, d_params) = (
            compiler.compile(expression) for expression in self.source_expressions
        )
        sql = f"({a} && ST_Expand({b}, {d}) AND ST_DWithin({a}::geography, {b}::geography, {r}))"
        return sql, (*a_params, *b_params, *d_params, *a_params, *b_params, *r_params)


class IncidentQuerySet(models.QuerySet):
    def live(self) -> IncidentQuerySet:
        return self.filter(deleted_at__isnull=True)

    def verified(self) -> IncidentQuerySet:
        return self.filter(review_status=ReviewStatus.VERIFIED)

    def visible_to(self, user) -> IncidentQuerySet:
        """What each role may read (PRODUCT.md): analysts and admins everything, reporters their
        own reports, partners verified reports; anyone else nothing."""
        from accounts.roles import Role, role_of

        role = role_of(user)
        if role in (Role.ANALYST, Role.ADMIN):
            return self
        if role == Role.REPORTER:
            return self.filter(reporter=user)
        if role == Role.PARTNER:
            return self.verified()
        return self.none()

    def for_api(self, *, grid: bool = False) -> IncidentQuerySet:
        """Everything the API serializers read, joined in the one query; `grid` for readers of
        the grid view (incidents.disclosure), who read the grid point's zones and locality."""
        from incidents.disclosure import GRID_RELATED

        related = (
            "event_type",
            "sub_event_type",
            "governorate",
            "district",
            "subdistrict",
            "duplicate_of",
            "reporter",
            "reviewed_by",
        )
        return self.select_related(*related, *(GRID_RELATED if grid else ()))

    def near(self, *, lon: float, lat: float, radius_m: float, coarse: bool = False):
        """Within radius_m true metres of (lon, lat): a bounding-box prefilter on the GiST index,
        then the exact test on the spheroid."""
        import math

        from django.contrib.gis.geos import Polygon

        column = "location_coarse" if coarse else "location"
        dlat = radius_m / 110_574 + 1e-9
        dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01)) + 1e-9
        box = Polygon.from_bbox((lon - dlon, lat - dlat, lon + dlon, lat + dlat))
        box.srid = 4326
        exact = WithinMetres(column, lon, lat, radius_m)
        return self.filter(**{f"{column}__bboverlaps": box}).filter(exact)

    def between(self, start: datetime.datetime, end: datetime.datetime) -> IncidentQuerySet:
        return self.filter(occurred_at__gte=start, occurred_at__lt=end)

    def in_zone(self, zone: Zone, *, grid: bool = False) -> IncidentQuerySet:
        """Incidents in a zone, by the zones stored at write time (no spatial query here); `grid`
        by the zones of the grid point, for readers of the grid view (incidents.disclosure)."""
        from incidents.disclosure import grid_path
        from zones.models import ZoneKind

        if zone.kind == ZoneKind.SECURITY_CORRIDOR:
            return self.in_corridor(grid=grid)
        column = {
            ZoneKind.GOVERNORATE: "governorate",
            ZoneKind.DISTRICT: "district",
            ZoneKind.SUBDISTRICT: "subdistrict",
        }.get(zone.kind)
        if column is None:  # agreement zones not stored with incidents (yet): nothing in them
            return self.none()
        return self.filter(**{grid_path(column) if grid else column: zone})

    def in_corridor(self, *, grid: bool = False, inside: bool = True) -> IncidentQuerySet:
        from incidents.disclosure import grid_path

        return self.filter(**{grid_path("in_corridor") if grid else "in_corridor": inside})

    def synthetic(self) -> IncidentQuerySet:
        return self.filter(is_synthetic=True)

    def open_for_review(self) -> IncidentQuerySet:
        return self.filter(review_status__in=OPEN_REVIEW_STATUSES)

    def possible_originals(self) -> IncidentQuerySet:
        """Reports another one may duplicate: not rejected and not themselves duplicates."""
        return self.exclude(review_status__in=(ReviewStatus.REJECTED, ReviewStatus.DUPLICATE))

    def _duplicate_window(self, *, location, occurred_at, sub_event_type) -> IncidentQuerySet:
        return self.possible_originals().filter(
            GeographyWithin(
                F("location"),
                location,
                radius_m=DUPLICATE_RADIUS_M,
                box_degrees=_DUPLICATE_BOX_DEGREES,
            ),
            sub_event_type=sub_event_type,
            occurred_at__gte=occurred_at - DUPLICATE_WINDOW,
            occurred_at__lte=occurred_at + DUPLICATE_WINDOW,
        )

    def duplicate_candidates(self, incident: Incident) -> IncidentQuerySet:
        """Likely duplicates of a report, nearest first, in one query: same sub-event type, within
        2 km (true metres) and one day of it, not itself, not rejected or already a duplicate."""
        from django.contrib.gis.db.models.functions import Distance

        point = models.Value(incident.location, output_field=models.PointField(srid=4326))
        return (
            self._duplicate_window(
                location=point,
                occurred_at=incident.occurred_at,
                sub_event_type=incident.sub_event_type_id,
            )
            .exclude(pk=incident.pk)
            .annotate(distance_m=Distance("location", incident.location, spheroid=True))
            .order_by("distance_m", "-occurred_at", "id")
        )

    def with_duplicate_candidate_count(self) -> IncidentQuerySet:
        """Annotate `duplicate_candidates` (as `duplicate_candidates` finds them) with a correlated
        subquery, so a whole page of the queue is counted in its own single query."""
        from django.db.models import Func, OuterRef, Subquery

        count = (
            Incident.objects.all()
            ._duplicate_window(
                location=OuterRef("location"),
                occurred_at=OuterRef("occurred_at"),
                sub_event_type=OuterRef("sub_event_type_id"),
            )
            .exclude(pk=OuterRef("pk"))
            .order_by()
            .annotate(n=Func(F("pk"), function="COUNT"))
            .values("n")
        )
        return self.annotate(
            duplicate_candidate_count=Subquery(count, output_field=models.IntegerField())
        )


class IncidentManager(models.Manager.from_queryset(IncidentQuerySet)):
    """Hides deleted incidents; `Incident.all_objects` sees them (sync feeds need tombstones)."""

    def get_queryset(self) -> IncidentQuerySet:
        return super().get_queryset().filter(deleted_at__isnull=True)


class Incident(models.Model):
    # When
    occurred_at = models.DateTimeField(_("date and time"), db_index=True)
    time_precision = models.CharField(
        _("time precision"), max_length=16, choices=TimePrecision.choices, default=TimePrecision.DAY
    )
    # Where
    location = models.PointField(_("location"), srid=4326, spatial_index=True)
    location_precision = models.CharField(
        _("location precision"),
        max_length=16,
        choices=LocationPrecision.choices,
        default=LocationPrecision.TOWN,
    )
    place_name = models.CharField(_("place name"), max_length=200, blank=True)
    locality = models.ForeignKey(
        "zones.Locality",
        verbose_name=_("locality"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # What
    event_type = models.ForeignKey(
        EventType, verbose_name=_("event type"), on_delete=models.PROTECT
    )
    sub_event_type = models.ForeignKey(
        SubEventType, verbose_name=_("sub-event type"), on_delete=models.PROTECT
    )
    weapon = models.CharField(_("weapon"), max_length=32, choices=Weapon.choices, blank=True)
    # SMM-style observation
    observation_method = models.CharField(
        _("how it was observed"), max_length=32, choices=ObservationMethod.choices, blank=True
    )
    explosions_count = models.PositiveIntegerField(_("number of explosions"), null=True, blank=True)
    direction = models.CharField(
        _("direction from the observer"), max_length=2, choices=Direction.choices, blank=True
    )
    distance_estimate_m = models.PositiveIntegerField(
        _("estimated distance (m)"), null=True, blank=True
    )
    # Who
    perpetrator_side = models.CharField(
        _("alleged perpetrator"), max_length=32, choices=Side.choices, default=Side.UNKNOWN
    )
    target = models.CharField(
        _("target"), max_length=32, choices=Target.choices, default=Target.UNKNOWN
    )
    target_description = models.CharField(_("target details"), max_length=300, blank=True)
    # Harm
    killed_civilians = models.PositiveIntegerField(_("civilians killed"), default=0)
    killed_combatants = models.PositiveIntegerField(_("combatants killed"), default=0)
    injured_civilians = models.PositiveIntegerField(_("civilians injured"), default=0)
    injured_combatants = models.PositiveIntegerField(_("combatants injured"), default=0)
    # Account
    description = models.TextField(_("description"), blank=True)
    sources = ArrayField(
        models.CharField(max_length=500), verbose_name=_("sources"), default=list, blank=True
    )
    # Review
    review_status = models.CharField(
        _("review status"),
        max_length=16,
        choices=ReviewStatus.choices,
        default=ReviewStatus.SUBMITTED,
        db_index=True,
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    review_note = models.TextField(_("review note"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reviewed by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    # Provenance
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_incidents",
    )
    client_uuid = models.UUIDField(_("client UUID"), unique=True, default=uuid.uuid4)
    submission_digest = models.CharField(
        _("submission digest"),
        max_length=64,
        blank=True,
        editable=False,
        help_text=_("SHA-256 of the submitted content: a repeat with the same UUID must match it."),
    )
    external_id = models.CharField(
        _("external id (ACLED event_id_cnty)"), max_length=64, unique=True, null=True, blank=True
    )
    is_synthetic = models.BooleanField(
        _("synthetic (demo)"), default=False, help_text=_("Generated demo data, not a real report.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True, db_index=True)
    # Zones, assigned at write time by incidents.services.incident_zones_assign
    governorate = models.ForeignKey(
        Zone,
        verbose_name=_("governorate"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    district = models.ForeignKey(
        Zone,
        verbose_name=_("district"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    subdistrict = models.ForeignKey(
        Zone,
        verbose_name=_("sub-district"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    in_corridor = models.BooleanField(_("in the M4 security corridor"), default=False)
    distance_to_m4_m = models.FloatField(_("distance to the M4 (m)"), null=True, blank=True)
    # The same zones for the grid point that partners see (location_coarse), assigned by the same
    # statement: what a partner reads or filters on is never finer than the grid (PRODUCT.md,
    # "Do no harm" 6; incidents.disclosure).
    coarse_governorate = models.ForeignKey(
        Zone,
        verbose_name=_("governorate of the grid point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    coarse_district = models.ForeignKey(
        Zone,
        verbose_name=_("district of the grid point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    coarse_subdistrict = models.ForeignKey(
        Zone,
        verbose_name=_("sub-district of the grid point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    coarse_in_corridor = models.BooleanField(
        _("grid point in the M4 security corridor"), default=False, db_default=False
    )
    coarse_locality = models.ForeignKey(
        "zones.Locality",
        verbose_name=_("gazetteer locality of the grid point"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The nearest locality within 5 km of the grid point: partners read its name."),
    )
    # What partners read in place of the description, once an analyst approved it (verifying).
    public_summary = models.TextField(
        _("shareable summary"),
        blank=True,
        default="",
        db_default="",  # bulk writers in SQL (imports, benchmark data) leave it out
        help_text=_(
            "Shown to partners instead of the description. Approved by an analyst when verifying; "
            "empty until then. Name no person, source, street or building."
        ),
    )
    # Derived by PostgreSQL, never written by the application.
    location_coarse = models.GeneratedField(
        expression=SnapToGrid("location"),
        output_field=models.PointField(srid=4326),
        db_persist=True,
        verbose_name=_("location snapped to the grid"),
    )
    search_text = models.GeneratedField(
        expression=SearchFold(
            Concat("place_name", models.Value(" "), "description", output_field=models.TextField())
        ),
        output_field=models.TextField(),
        db_persist=True,
    )
    public_search_text = models.GeneratedField(
        expression=SearchFold("public_summary"),
        output_field=models.TextField(),
        db_persist=True,
    )
    verified_at = models.DateTimeField(_("first verified at"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted at"), null=True, blank=True, db_index=True)

    objects = IncidentManager()
    all_objects = IncidentQuerySet.as_manager()

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(location__isvalid=True), name="incident_location_valid"
            ),
            models.CheckConstraint(
                condition=Q(occurred_at__lte=F("created_at") + datetime.timedelta(minutes=10)),
                name="incident_not_in_future",
            ),
            # The database's copy of the bound that submissions and imports check first
            # (incidents.dates), so no path (a raw statement, a future import) stores year 1.
            models.CheckConstraint(
                condition=Q(occurred_at__gte=earliest_occurred_at()),
                name="incident_not_before_conflict",
            ),
            models.CheckConstraint(
                condition=Q(duplicate_of__isnull=True) | Q(review_status=ReviewStatus.DUPLICATE),
                name="incident_duplicate_has_status",
            ),
        ]
        base_manager_name = "all_objects"
        indexes = [
            GistIndex(fields=["location_coarse"], name="incident_location_coarse_gist"),
            GinIndex(
                fields=["search_text"], name="incident_search_trgm", opclasses=["gin_trgm_ops"]
            ),
            models.Index(fields=["occurred_at", "id"], name="incident_occurred_cursor"),
            models.Index(fields=["updated_at", "id"], name="incident_sync_cursor"),
            models.Index(fields=["subdistrict", "occurred_at"], name="incident_subdistrict_time"),
            models.Index(
                fields=["coarse_subdistrict", "occurred_at"], name="incident_coarse_subd_time"
            ),
            GinIndex(
                fields=["public_search_text"],
                name="incident_public_search_trgm",
                opclasses=["gin_trgm_ops"],
            ),
            models.Index(fields=["review_status", "-created_at"], name="incident_review_queue"),
            # The alert sweep reads the incidents verified in the last day.
            models.Index(
                fields=["verified_at"],
                name="incident_verified_at",
                condition=Q(verified_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.sub_event_type} {self.occurred_at:%Y-%m-%d} {self.place_name}".strip()

    @property
    def public_place_name(self) -> str:
        """The place name partners read: the gazetteer's locality for the grid point, else the
        grid point's sub-district; never the free text a reporter typed."""
        if self.coarse_locality_id is not None:
            return self.coarse_locality.name_en
        if self.coarse_subdistrict_id is not None:
            return self.coarse_subdistrict.name_en
        return ""

    def public_place_name_in(self, language: str) -> str:
        """As public_place_name, in Arabic where the gazetteer has the Arabic name."""
        if language == "ar":
            for place in (self.coarse_locality, self.coarse_subdistrict):
                if place is not None:
                    return place.name_ar or place.name_en
            return ""
        return self.public_place_name

    @property
    def killed(self) -> int:
        return self.killed_civilians + self.killed_combatants

    @property
    def injured(self) -> int:
        return self.injured_civilians + self.injured_combatants


class IncidentChange(models.Model):
    """One change to an incident: who, when, what (each field's old and new value). Append-only:
    PRODUCT.md "Do no harm" 4 requires that edits keep their history."""

    class Action(models.TextChoices):
        CREATED = "created", _("Submitted")
        REVIEWED = "reviewed", _("Review decision")
        EDITED = "edited", _("Classification edited")
        ADMIN_EDITED = "admin_edited", _("Edited in the administration")
        DELETED = "deleted", _("Deleted")
        IMPORTED = "imported", _("Imported (ACLED)")

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="changes"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # {"field": {"old": ..., "new": ...}} with JSON values (codes, ids, ISO times).
    fields = models.JSONField(_("changed fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("incident change")
        verbose_name_plural = _("incident changes")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["incident", "-at"], name="incident_change_history")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.incident_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("Incident changes are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Incident changes are append-only.")


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never carries the uploader's file name (it can identify a device or person).
    return f"attachments/{instance.incident.client_uuid}/{uuid.uuid4().hex}.{instance.extension}"


class Attachment(models.Model):
    """A photo attached to a report, stored only after its metadata (EXIF, GPS) was removed."""

    incident = models.ForeignKey(
        Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path)
    content_type = models.CharField(_("content type"), max_length=32)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    size_bytes = models.PositiveIntegerField(_("size (bytes)"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at"]

    def __str__(self) -> str:
        return self.file.name

    @property
    def extension(self) -> str:
        return {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp"}[self.content_type]
