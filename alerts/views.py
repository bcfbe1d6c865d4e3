"""Alert pages: the list (newest first, by kind) and one alert."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from accounts.audit import exact_locations, exact_read
from accounts.roles import role_of, sees_exact_locations
from alerts.api.views import ALERT_READ_ROLES
from alerts.models import Alert, AlertKind
from alerts.payloads import alert_payload

PAGE_SIZE = 50


def _alerts_for(request):
    if role_of(request.user) not in ALERT_READ_ROLES:
        raise PermissionDenied
    return Alert.objects.visible_to(request.user).select_related("incident", "zone", "camp")


@login_required
@exact_locations
def alert_index(request):
    alerts = _alerts_for(request).order_by("-created_at", "-id")
    kind = request.GET.get("kind", "")
    if kind in AlertKind.values:
        alerts = alerts.filter(kind=kind)
    else:
        kind = ""
    page = Paginator(alerts, PAGE_SIZE).get_page(request.GET.get("page"))
    # Staff summaries carry the rules' exact figures (distances to camps): audited by incident.
    exact_read(
        request,
        object_ids=[alert.incident.client_uuid for alert in page.object_list if alert.incident_id],
    )
    return render(
        request,
        "alerts/alert_index.html",
        {
            "page": page,
            "kind": kind,
            "kinds": AlertKind.choices,
            "extra_query": f"kind={kind}" if kind else "",
        },
    )


@login_required
@exact_locations
def alert_page(request, uuid):
    alert = get_object_or_404(_alerts_for(request), uuid=uuid)
    exact = sees_exact_locations(request.user)
    exact_read(request, object_ids=[alert.incident.client_uuid] if alert.incident_id else [])
    return render(
        request,
        "alerts/alert_detail.html",
        {"alert": alert, "payload": alert_payload(alert, exact=exact), "exact": exact},
    )
