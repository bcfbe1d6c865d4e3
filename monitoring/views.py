"""Project-level pages: the analysts' map dashboard and health."""

import redis
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Max, Min
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from accounts.audit import no_exact_locations
from accounts.roles import Role, role_of
from common.maps import map_config
from incidents.models import EventType, Incident, ReviewStatus, SubEventType
from monitoring.tasks import HEARTBEAT_KEY
from stats.privacy import WITHHELD_MARK, withheld_label
from zones.models import Zone, ZoneKind

# Okabe-Ito colours (distinguishable with the common colour-vision deficiencies), one per event
# type in taxonomy order; ACLED has six.
TYPE_COLOURS = ("#d55e00", "#0072b2", "#cc79a7", "#009e73", "#e69f00", "#56b4e9", "#000000")
# Below this many incidents in view the map fetches the points themselves; above, grid clusters.
POINT_LIMIT = 2000
# A placeholder UUID that the page script replaces with an incident's id to link to its page.
_UUID_PLACEHOLDER = "00000000-0000-0000-0000-000000000000"


def _zone_name(zone: Zone, arabic: bool) -> str:
    return (zone.name_ar or zone.name_en) if arabic else zone.name_en


def _zone_choices(arabic: bool) -> list[tuple[str, list[tuple[str, str]]]]:
    """The zone filter's options: the corridor, then governorates, districts, sub-districts."""
    zones = Zone.objects.only("pcode", "kind", "name_en", "name_ar").order_by("kind", "name_en")
    groups = {kind: [] for kind in ZoneKind.values}
    for zone in zones:
        groups[zone.kind].append((zone.pcode, f"{_zone_name(zone, arabic)} ({zone.pcode})"))
    order = (
        ZoneKind.SECURITY_CORRIDOR,
        ZoneKind.GOVERNORATE,
        ZoneKind.DISTRICT,
        ZoneKind.SUBDISTRICT,
    )
    return [(kind.label, groups[kind]) for kind in order if groups[kind]]


def _dashboard_config(request, role) -> dict:
    arabic = get_language_bidi()
    extent = Incident.objects.visible_to(request.user).aggregate(
        first=Min("occurred_at"), last=Max("occurred_at")
    )
    types = [
        {"code": t.slug, "name": t.label, "colour": TYPE_COLOURS[i % len(TYPE_COLOURS)]}
        for i, t in enumerate(EventType.objects.order_by("position", "name"))
    ]
    subdistrict_names = {
        zone.pcode: _zone_name(zone, arabic)
        for zone in Zone.objects.subdistricts().only("pcode", "name_en", "name_ar")
    }
    return {
        "role": role.value if role else "",
        "can_filter_status": role in (Role.ANALYST, Role.ADMIN),
        "can_see_patrols": role in (Role.ANALYST, Role.ADMIN, Role.PARTNER),
        "map": map_config(),
        "point_limit": POINT_LIMIT,
        "list_size": 50,
        "extent": {
            "first": extent["first"].date().isoformat() if extent["first"] else None,
            "last": extent["last"].date().isoformat() if extent["last"] else None,
        },
        "types": types,
        # The API gives ACLED's English names; the page shows each sub-type in its language.
        "sub_type_labels": {
            sub.slug: sub.label for sub in SubEventType.objects.only("slug", "name")
        },
        "statuses": {value: str(label) for value, label in ReviewStatus.choices},
        "subdistrict_names": subdistrict_names,
        "urls": {
            "clusters": reverse("incident-clusters"),
            "by_subdistrict": reverse("incident-subdistrict-counts"),
            "incidents": reverse("incident-list"),
            "zones": reverse("zone-list"),
            "routes": reverse("route-list"),
            "patrols": reverse("patrol-list"),
            "camps": reverse("camp-list"),
            "posts": reverse("observation-post-list"),
            "incident_page": reverse("incident-page", kwargs={"id": _UUID_PLACEHOLDER}),
            "uuid_placeholder": _UUID_PLACEHOLDER,
        },
        "strings": {
            "incidents": _("Incidents"),
            "subdistricts": _("Incidents per sub-district"),
            "corridor": _("M4 security corridor"),
            "route": _("M4 patrol route"),
            "patrols": _("Patrol tracks (period)"),
            "camps": _("Camps (by population)"),
            "posts": _("Observation posts"),
            "open": _("Open the report"),
            "legend": _("Legend"),
            "show_on_map": _("Show on the map"),
            "no_place": _("Place not named"),
            "count_one": _("%(n)s incident in view"),
            "count_many": _("%(n)s incidents in view"),
            "showing": _("showing the latest %(n)s"),
            "none": _("No incidents in view for these filters."),
            "loading": _("Loading…"),
            "failed": _("The map data could not be loaded. Try again."),
            "population": _("%(n)s people"),
            "population_unknown": _("Population unknown"),
            "posts_active": _("Active since %(d)s"),
            "per_subdistrict": _("%(n)s incidents in the period"),
            "withheld": withheld_label(),
            "withheld_mark": WITHHELD_MARK,
            "patrol": _("Patrol %(d)s"),
            "all_time": _("All dates"),
            "cluster": _("%(n)s incidents: zoom in to see them"),
            "approximate": _("Approximate location (0.05 degree grid)"),
        },
    }


@login_required
@no_exact_locations
def home(request):
    """The analysts' map dashboard. It holds no data: the page script reads the API with the
    session, so each role sees on the map exactly what the API gives it."""
    role = role_of(request.user)
    arabic = get_language_bidi()
    context = {
        "config": _dashboard_config(request, role),
        "zone_choices": _zone_choices(arabic),
        "statuses": ReviewStatus.choices,
        "can_filter_status": role in (Role.ANALYST, Role.ADMIN),
    }
    return render(request, "monitoring/home.html", context)


@never_cache
@no_exact_locations
def health(request):
    """Liveness for load balancers: answers when the database answers; reports the last heartbeat
    that beat scheduled and a worker ran (null when Redis is down or no worker has run one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    try:
        raw = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).get(HEARTBEAT_KEY)
        last_heartbeat = raw.decode() if raw else None
    except redis.RedisError:
        last_heartbeat = None
    return JsonResponse({"status": "ok", "worker_heartbeat": last_heartbeat})
