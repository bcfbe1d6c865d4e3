"""Query filters of the incident API; every one is documented in the OpenAPI schema."""

from __future__ import annotations

import datetime
import math

import django_filters
from django.contrib.gis.geos import Polygon
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from incidents.disclosure import filters_on_grid, grid_path, reads_exact
from incidents.models import EventType, Incident, ReviewStatus, SubEventType
from zones.models import Locality, Zone
from zones.text import fold_for_search

MAX_RADIUS_M = 100_000


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def parse_numbers(field: str, raw: str, count: int) -> list[float]:
    parts = raw.split(",")
    if len(parts) != count:
        raise _error(field, _("Expected %(n)d comma-separated numbers.") % {"n": count})
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise _error(field, _("Expected numbers.")) from None
    if not all(math.isfinite(n) for n in numbers):
        raise _error(field, _("Numbers must be finite."))
    return numbers


def parse_lon_lat(field: str, lon: float, lat: float) -> None:
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise _error(field, _("Longitude must be within -180..180 and latitude within -90..90."))


def parse_when(field: str, raw: str) -> datetime.datetime:
    """An ISO 8601 date or date-time; a date means its midnight UTC."""
    value = None
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is not None:
                value = datetime.datetime.combine(day, datetime.time(), tzinfo=datetime.UTC)
    except ValueError:
        value = None
    if value is None:
        raise _error(field, _("Expected an ISO 8601 date or date-time."))
    if timezone.is_naive(value):
        value = timezone.make_aware(value, datetime.UTC)
    try:
        # PostgreSQL takes offsets only up to 15:59; UTC is always understood.
        return value.astimezone(datetime.UTC)
    except OverflowError:
        raise _error(field, _("Date out of range.")) from None


class IncidentFilter(django_filters.FilterSet):
    bbox = django_filters.CharFilter(
        method="filter_bbox",
        label="Bounding box `minlon,minlat,maxlon,maxlat` (WGS84).",
    )
    occurred_after = django_filters.CharFilter(
        method="filter_occurred_after", label="Occurred at or after (ISO 8601 date or date-time)."
    )
    occurred_before = django_filters.CharFilter(
        method="filter_occurred_before", label="Occurred before (ISO 8601 date or date-time)."
    )
    type = django_filters.CharFilter(
        method="filter_type", label="Event type codes, comma-separated (see /api/v1/taxonomy/)."
    )
    sub_type = django_filters.CharFilter(
        method="filter_sub_type", label="Sub-event type codes, comma-separated."
    )
    review_status = django_filters.CharFilter(
        method="filter_review_status",
        label="Review statuses, comma-separated: " + ", ".join(ReviewStatus.values) + ".",
    )
    zone = django_filters.CharFilter(
        method="filter_zone",
        label="P-code of a zone; includes the zones below it (M4-SC: corridor).",
    )
    in_corridor = django_filters.CharFilter(
        method="filter_in_corridor", label="Inside the M4 security corridor: true or false."
    )
    near = django_filters.CharFilter(
        method="filter_near", label="`lon,lat`: only incidents within `radius_m` of this point."
    )
    radius_m = django_filters.NumberFilter(
        method="filter_noop",
        label=f"Radius for `near`, in metres (default 5000, at most {MAX_RADIUS_M}).",
    )
    updated_since = django_filters.CharFilter(
        method="filter_updated_since", label="Changed at or after (ISO 8601); for incremental sync."
    )
    q = django_filters.CharFilter(
        method="filter_q",
        label=(
            "Text in the place name or description (Arabic or English). Partners search what "
            "they read: the gazetteer's place name and the approved summary."
        ),
    )

    class Meta:
        model = Incident
        fields: list[str] = []

    @property
    def coarse(self) -> bool:
        """Whether the filters run on the grid view (incidents.disclosure): the grid point, its
        zones and corridor membership, the public text."""
        return filters_on_grid(getattr(self.request, "user", None))

    @property
    def location_column(self) -> str:
        return grid_path("location") if self.coarse else "location"

    def filter_in_corridor(self, queryset, name, value):
        flag = {"true": True, "1": True, "false": False, "0": False}.get(value.strip().lower())
        if flag is None:
            raise _error(name, _("Expected true or false."))
        return queryset.in_corridor(grid=self.coarse, inside=flag)

    def filter_noop(self, queryset, name, value):
        return queryset

    def filter_bbox(self, queryset, name, value):
        minlon, minlat, maxlon, maxlat = parse_numbers(name, value, 4)
        parse_lon_lat(name, minlon, minlat)
        parse_lon_lat(name, maxlon, maxlat)
        if minlon > maxlon or minlat > maxlat:
            raise _error(name, _("Expected minlon,minlat,maxlon,maxlat with min <= max."))
        box = Polygon.from_bbox((minlon, minlat, maxlon, maxlat))
        box.srid = 4326
        return queryset.filter(**{f"{self.location_column}__intersects": box})

    def filter_occurred_after(self, queryset, name, value):
        return queryset.filter(occurred_at__gte=parse_when(name, value))

    def filter_occurred_before(self, queryset, name, value):
        return queryset.filter(occurred_at__lt=parse_when(name, value))

    def filter_updated_since(self, queryset, name, value):
        return queryset.filter(updated_at__gte=parse_when(name, value))

    def _codes(self, name: str, value: str, model) -> list[str]:
        codes = [code.strip() for code in value.split(",") if code.strip()]
        known = set(model.objects.filter(slug__in=codes).values_list("slug", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown or not codes:
            raise _error(name, _("Unknown code(s): %(codes)s.") % {"codes": ", ".join(unknown)})
        return codes

    def filter_type(self, queryset, name, value):
        return queryset.filter(event_type__slug__in=self._codes(name, value, EventType))

    def filter_sub_type(self, queryset, name, value):
        return queryset.filter(sub_event_type__slug__in=self._codes(name, value, SubEventType))

    def filter_review_status(self, queryset, name, value):
        statuses = [status.strip() for status in value.split(",") if status.strip()]
        unknown = [status for status in statuses if status not in ReviewStatus.values]
        if unknown or not statuses:
            raise _error(name, _("Unknown status(es): %(s)s.") % {"s": ", ".join(unknown)})
        return queryset.filter(review_status__in=statuses)

    def filter_zone(self, queryset, name, value):
        zone = Zone.objects.filter(pcode=value.strip()).first()
        if zone is None:
            raise _error(name, _("Unknown P-code."))
        return queryset.in_zone(zone, grid=self.coarse)

    def filter_near(self, queryset, name, value):
        lon, lat = parse_numbers(name, value, 2)
        parse_lon_lat(name, lon, lat)
        raw_radius = self.data.get("radius_m", "5000")
        try:
            radius = float(raw_radius)
        except (TypeError, ValueError):
            raise _error("radius_m", _("Expected a number of metres.")) from None
        if not math.isfinite(radius) or not 0 < radius <= MAX_RADIUS_M:
            raise _error(
                "radius_m", _("Must be more than 0 and at most %(m)d.") % {"m": MAX_RADIUS_M}
            )
        return queryset.near(lon=lon, lat=lat, radius_m=radius, coarse=self.coarse)

    def filter_q(self, queryset, name, value):
        needle = fold_for_search(value.strip())
        if not needle:
            return queryset
        if len(needle) > 200:
            raise _error(name, _("At most 200 characters."))
        if not reads_exact(getattr(self.request, "user", None)):
            # Partners search what they read, never the description or the typed place name: a
            # match would tell what those say. (Reporters search their own reports' text.)
            localities = Locality.objects.search(value.strip()).values("id")
            subdistricts = Zone.objects.subdistricts().search(value.strip()).values("id")
            return queryset.filter(
                Q(public_search_text__contains=needle)
                | Q(coarse_locality__in=localities)
                | Q(coarse_locality__isnull=True, coarse_subdistrict__in=subdistricts)
            )
        return queryset.filter(search_text__contains=needle)
