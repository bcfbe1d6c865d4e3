"""Reads of incidents that other apps' pages show: counts near a point, counts by type over time.

They take the reader's user and apply `Incident.objects.visible_to(user)`, so every page counts
only what that role may read; rejected reports and duplicates are never counted as incidents.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable

from django.contrib.gis.geos import Point
from django.db.models import Count, Q
from django.db.models.functions import Trunc

from accounts.roles import sees_exact_locations
from incidents.models import Incident, IncidentQuerySet, WithinMetres

DEFAULT_RADII_M = (1_000, 3_000, 5_000)
DEFAULT_WINDOWS_DAYS = (7, 30)
PERIODS = ("month", "week")


def counted_incidents(user) -> IncidentQuerySet:
    """What a page counts for this reader: visible to them, not rejected, not a duplicate."""
    return Incident.objects.visible_to(user).possible_originals()


def incident_counts_near(
    *,
    point: Point,
    user,
    at: datetime.datetime,
    radii_m: Iterable[int] = DEFAULT_RADII_M,
    windows_days: Iterable[int] = DEFAULT_WINDOWS_DAYS,
) -> dict[int, dict[int, int]]:
    """Incidents within each radius (true metres) of the point during each window of days
    before `at`, in one query: `{radius_m: {days: count}}`.

    Readers who may not see exact locations are counted on the coarse (grid-snapped) location,
    as every filter they run is (PRODUCT.md, "Do no harm" 1): the answer reveals no more than the
    coarse points would.
    """
    radii = sorted(set(radii_m))
    windows = sorted(set(windows_days))
    coarse = not sees_exact_locations(user)
    column = "location_coarse" if coarse else "location"
    lon, lat = point.x, point.y
    incidents = (
        counted_incidents(user)
        .near(lon=lon, lat=lat, radius_m=radii[-1], coarse=coarse)
        .between(at - datetime.timedelta(days=windows[-1]), at)
        .order_by()
    )
    aggregates = {
        f"r{radius}_d{days}": Count(
            "pk",
            filter=Q(WithinMetres(column, lon, lat, radius))
            & Q(occurred_at__gte=at - datetime.timedelta(days=days)),
        )
        for radius in radii
        for days in windows
    }
    row = incidents.aggregate(**aggregates)
    return {radius: {days: row[f"r{radius}_d{days}"] or 0 for days in windows} for radius in radii}


def incident_counts_by_type_and_period(
    incidents: IncidentQuerySet, *, period: str = "month"
) -> list[dict]:
    """One GROUP BY: `[{"period": datetime, "event_type": id, "n": count}, ...]` in time order,
    periods cut in the site's time zone (Damascus)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {PERIODS}")
    return list(
        incidents.order_by()
        .annotate(period=Trunc("occurred_at", period))
        .values("period", "event_type")
        .annotate(n=Count("pk"))
        .order_by("period", "event_type")
    )
