"""Pages that join several apps: a zone with its incidents and camps, a camp with the incidents
near it. They live in the project package because `zones` and `camps` may not know `incidents`
(STYLE.md: dependencies point one way)."""

from __future__ import annotations

import datetime
from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, get_language_bidi
from django.utils.translation import gettext as _

from accounts.audit import no_exact_locations
from accounts.permissions import ALL_ROLES
from accounts.roles import Role, role_of, sees_exact_locations
from camps.models import Camp
from camps.selectors import camps_in_zone
from common.maps import map_config
from incidents.disclosure import filters_on_grid
from incidents.models import EventType
from incidents.selectors import (
    DEFAULT_RADII_M,
    DEFAULT_WINDOWS_DAYS,
    PERIODS,
    counted_incidents,
    incident_counts_by_type_and_period,
    incident_counts_near,
)
from monitoring.views import TYPE_COLOURS
from stats.privacy import withhold
from zones.models import Zone, ZoneKind

LATEST_INCIDENTS = 20
ZONE_CAMPS_MAX = 100
# Degrees; about 100 m: plenty for a page map, and a governorate's outline stays small.
ZONE_OUTLINE_SIMPLIFY = 0.001


def _check_reader(request) -> Role:
    """Signed-in users with a role read these pages, as they read the API; others get 403."""
    role = role_of(request.user)
    if role not in ALL_ROLES:
        raise PermissionDenied
    return role


def _zone_name(zone: Zone, arabic: bool) -> str:
    return (zone.name_ar or zone.name_en) if arabic else zone.name_en


def _month_after(day: datetime.date) -> datetime.date:
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def _period_starts(first: datetime.date, last: datetime.date, period: str) -> list[datetime.date]:
    """Every period from the first to the last, so that months without incidents show as 0."""
    starts, current = [], first
    while current <= last:
        starts.append(current)
        current = (
            _month_after(current) if period == "month" else current + datetime.timedelta(days=7)
        )
    return starts


def _type_chart(rows: list[dict], event_types: list[EventType], period: str) -> dict:
    """Chart.js data: one dataset per event type that occurs, one label per period."""
    if not rows:
        return {"labels": [], "datasets": []}
    tz = timezone.get_current_timezone()
    counts: dict[int, dict[datetime.date, int]] = defaultdict(dict)
    for row in rows:
        counts[row["event_type"]][row["period"].astimezone(tz).date()] = row["n"]
    days = [day for by_day in counts.values() for day in by_day]
    starts = _period_starts(min(days), max(days), period)
    label_format = "%Y-%m" if period == "month" else "%Y-%m-%d"
    datasets = []
    for index, event_type in enumerate(event_types):
        if event_type.pk not in counts:
            continue
        by_day = counts[event_type.pk]
        datasets.append(
            {
                "label": _(event_type.name),
                "colour": TYPE_COLOURS[index % len(TYPE_COLOURS)],
                "data": [by_day.get(start, 0) for start in starts],
            }
        )
    return {"labels": [start.strftime(label_format) for start in starts], "datasets": datasets}


def _chart_rows(chart: dict) -> list[tuple[str, list]]:
    """The chart's figures as table rows (period, one value per dataset), for the table that
    stands beside the chart for screen readers and for readers without JavaScript."""
    return [
        (label, [dataset["data"][index] for dataset in chart["datasets"]])
        for index, label in enumerate(chart["labels"])
    ]


@login_required
@no_exact_locations
def zone_page(request, pcode: str):
    """A zone: its outline on a map, incidents by event type per month (or week), its camps and
    its latest incidents, as far as the reader's role may see them."""
    _check_reader(request)
    arabic = get_language_bidi()
    zone = get_object_or_404(
        Zone.objects.defer("geom", "axis").select_related("parent__parent"), pcode=pcode
    )
    period = request.GET.get("period")
    if period not in PERIODS:
        period = "month"

    # Readers who may not see exact locations count and list by the grid point's zones, and read
    # the gazetteer's place names (incidents.disclosure).
    grid = filters_on_grid(request.user)
    incidents = counted_incidents(request.user).in_zone(zone, grid=grid)
    event_types = list(EventType.objects.order_by("position", "name"))
    chart = _type_chart(
        incident_counts_by_type_and_period(incidents, period=period), event_types, period
    )
    total = sum(sum(dataset["data"]) for dataset in chart["datasets"])
    # The one small-count rule (stats.privacy); a reporter's counts are of their own reports.
    total = withhold(total, viewer=request.user, own_reports=True)
    for dataset in chart["datasets"]:
        dataset["data"] = [
            withhold(n, viewer=request.user, own_reports=True) for n in dataset["data"]
        ]
    place_fields = (
        (
            "coarse_locality__name_en",
            "coarse_locality__name_ar",
            "coarse_subdistrict__name_en",
            "coarse_subdistrict__name_ar",
        )
        if grid
        else ("place_name",)
    )
    latest = list(
        incidents.select_related(
            "sub_event_type",
            "event_type",
            *(("coarse_locality", "coarse_subdistrict") if grid else ()),
        )
        .only(
            "client_uuid",
            "occurred_at",
            *place_fields,
            "review_status",
            "killed_civilians",
            "killed_combatants",
            "injured_civilians",
            "injured_combatants",
            "sub_event_type__name",
            "event_type__name",
        )
        .order_by("-occurred_at", "-id")[:LATEST_INCIDENTS]
    )
    language = get_language()
    for incident in latest:
        incident.shown_place_name = (
            incident.public_place_name_in(language) if grid else incident.place_name
        )
    camps = list(
        camps_in_zone(zone)
        .with_latest_population()
        .defer("boundary")
        .order_by("name_en", "site_id")[: ZONE_CAMPS_MAX + 1]
    )
    children = list(
        Zone.objects.filter(parent=zone)
        .only("pcode", "name_en", "name_ar", "kind")
        .order_by("name_en")
    )
    # Governorate, then district: the parents came with the zone (select_related).
    ancestors = [zone.parent.parent, zone.parent] if zone.parent else []
    ancestors = [ancestor for ancestor in ancestors if ancestor]

    page_map = {
        "outlineUrl": reverse("zone-detail", kwargs={"pcode": zone.pcode})
        + f"?format=geojson&simplify={ZONE_OUTLINE_SIMPLIFY}",
        # View, raster tiles and the reference basemap beneath them (static/js/basemap.js).
        "map": map_config(),
        "camps": [
            {
                "lat": round(camp.location.y, 5),
                "lon": round(camp.location.x, 5),
                "name": (camp.name_ar or camp.name_en) if arabic else camp.name_en,
                "url": reverse("camp-page", kwargs={"site_id": camp.site_id}),
            }
            for camp in camps[:ZONE_CAMPS_MAX]
            if camp.location
        ],
        "strings": {
            "failed": _("The zone outline could not be loaded."),
            "zone": _zone_name(zone, arabic),
        },
    }
    chart_config = {
        **chart,
        "stacked": True,
        "strings": {"incidents": _("Incidents"), "period": _("Period")},
    }
    return render(
        request,
        "zones/zone_detail.html",
        {
            "zone": zone,
            "zone_name": _zone_name(zone, arabic),
            "ancestors": ancestors,
            "children": children,
            "is_admin_area": zone.kind != ZoneKind.SECURITY_CORRIDOR,
            "period": period,
            "chart": chart,
            "chart_rows": _chart_rows(chart),
            "chart_config": chart_config,
            "total": total,
            "latest": latest,
            "latest_cap": LATEST_INCIDENTS,
            "camps": camps[:ZONE_CAMPS_MAX],
            "camps_truncated": len(camps) > ZONE_CAMPS_MAX,
            "map_config": page_map,
            "shows_status": role_of(request.user) in (Role.ANALYST, Role.ADMIN),
        },
    )


def _anchor(request) -> tuple[datetime.datetime, datetime.date | None, bool]:
    """The end of the counting windows: now, or the end of the `?at=YYYY-MM-DD` day (Damascus
    time). Returns (anchor, the day asked for, whether the parameter was refused)."""
    raw = request.GET.get("at", "").strip()
    if not raw:
        return timezone.now(), None, False
    try:
        day = datetime.date.fromisoformat(raw)
    except ValueError:
        return timezone.now(), None, True
    if not datetime.date(2000, 1, 1) <= day <= timezone.localdate():
        return timezone.now(), None, True
    end = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    return timezone.make_aware(end), day, False


@login_required
@no_exact_locations
def camp_page(request, site_id: str):
    """A camp: its population over time and the incidents within 1, 3 and 5 km over the last 7
    and 30 days (before `?at=` when given), counted as the reader's role may see them."""
    _check_reader(request)
    arabic = get_language_bidi()
    camp = get_object_or_404(
        Camp.objects.with_population_history().defer("boundary"), site_id=site_id
    )
    at, at_day, at_refused = _anchor(request)
    counts = None
    if camp.location:
        counts = incident_counts_near(
            point=camp.location,
            user=request.user,
            at=at,
            radii_m=DEFAULT_RADII_M,
            windows_days=DEFAULT_WINDOWS_DAYS,
        )
    history = sorted(camp.populations.all(), key=lambda figure: figure.date)
    pcodes = [code for code in (camp.adm1_pcode, camp.adm2_pcode, camp.adm3_pcode) if code]
    by_pcode = {
        zone.pcode: zone
        for zone in Zone.objects.filter(pcode__in=pcodes).only("pcode", "name_en", "name_ar")
    }
    zones = [by_pcode[code] for code in pcodes if code in by_pcode]
    rows = (
        [
            {
                "radius_km": radius // 1000,
                "counts": [
                    withhold(counts[radius][days], viewer=request.user, own_reports=True)
                    for days in DEFAULT_WINDOWS_DAYS
                ],
            }
            for radius in DEFAULT_RADII_M
        ]
        if counts
        else []
    )
    chart_config = {
        "labels": [figure.date.isoformat() for figure in history],
        "datasets": [
            {
                "label": _("Individuals"),
                "colour": "#0072b2",
                "data": [figure.individuals for figure in history],
            },
            {
                "label": _("Households"),
                "colour": "#e69f00",
                "data": [figure.households for figure in history],
            },
        ],
        "stacked": False,
        "strings": {"incidents": _("People"), "period": _("Date")},
    }
    page_map = None
    if camp.location:
        page_map = {
            "lat": round(camp.location.y, 5),
            "lon": round(camp.location.x, 5),
            "radii": list(DEFAULT_RADII_M),
            "map": map_config(),
            "strings": {
                "camp": (camp.name_ar or camp.name_en) if arabic else camp.name_en,
                "radius": _("%(n)s km"),
            },
        }
    return render(
        request,
        "camps/camp_detail.html",
        {
            "camp": camp,
            "camp_name": (camp.name_ar or camp.name_en) if arabic else camp.name_en,
            "zones": zones,
            "history": list(reversed(history)),
            "latest": history[-1] if history else None,
            "windows": DEFAULT_WINDOWS_DAYS,
            "rows": rows,
            "at": at,
            "at_day": at_day,
            "at_refused": at_refused,
            "coarse": not sees_exact_locations(request.user),
            "chart_config": chart_config,
            "map_config": page_map,
        },
    )
