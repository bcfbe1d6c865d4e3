"""HTML pages of the patrols app: the list of patrols and a patrol's page (track, route, events).

Patrols are for analysts, admins and partners, as in the API; reporters get 403."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.audit import no_exact_locations
from accounts.roles import Role, role_of
from common.maps import map_config
from patrols.models import Patrol, PatrolEvent

PATROL_ROLES = frozenset({Role.ANALYST, Role.ADMIN, Role.PARTNER})
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def patrol_reader_required(view):
    """Anonymous visitors go to the sign-in page; signed-in users without the role get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_of(request.user) not in PATROL_ROLES:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _page_size(request) -> int:
    try:
        size = int(request.GET.get("page_size", PAGE_SIZE))
    except ValueError:
        size = PAGE_SIZE
    return max(1, min(size, MAX_PAGE_SIZE))


@patrol_reader_required
@no_exact_locations
def patrol_index(request):
    """Patrols, newest first, with their number of events; paged, at most 200 a page."""
    patrols = (
        Patrol.objects.select_related("route")
        .defer("track", "route__geom")
        .with_event_count()
        .order_by("-date", "-id")
    )
    status = request.GET.get("status")
    if status in Patrol.Status.values:
        patrols = patrols.filter(status=status)
    else:
        status = ""
    page = Paginator(patrols, _page_size(request)).get_page(request.GET.get("page"))
    return render(
        request,
        "patrols/patrol_index.html",
        {"page": page, "status": status, "statuses": Patrol.Status.choices},
    )


@patrol_reader_required
@no_exact_locations
def patrol_page(request, id: int):
    """One patrol: its track and route on a map (fetched from the API), its events in time order."""
    patrol = get_object_or_404(
        Patrol.objects.select_related("route").defer("route__geom").with_events(), pk=id
    )
    page_map = {
        "patrolUrl": reverse("patrol-detail", kwargs={"pk": patrol.pk}) + "?format=geojson",
        "routeUrl": reverse("route-detail", kwargs={"slug": patrol.route.slug}) + "?format=geojson",
        # View, raster tiles and the reference basemap beneath them (static/js/basemap.js).
        "map": map_config(),
        "kinds": {value: str(label) for value, label in PatrolEvent.Kind.choices},
        "strings": {
            "track": _("Actual track"),
            "route": _("Planned route"),
            "noTrack": _("No track was recorded for this patrol."),
            "failed": _("The map data could not be loaded."),
        },
    }
    return render(
        request,
        "patrols/patrol_detail.html",
        {"patrol": patrol, "events": list(patrol.events.all()), "map_config": page_map},
    )
