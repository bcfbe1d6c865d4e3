"""The JSON of an alert, for the API, webhooks and e-mail, trimmed by audience.

Partners (and partner webhooks) get the alerts raised on grid points (alerts.models.AlertBasis)
and what partner feeds give: the incident's location snapped to the grid, the grid point's zone,
and no distance computed from an exact point: a near-camp alert says the rule's band ("within
10 km", `within_km`), never how far the incident was (with the grid cell, "0 km" would place it
within 500 m of a camp whose location is public); no distance to the M4 either. Staff get exact
locations and distances. E-mail travels further than the app: it carries the partners' fields.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from alerts.models import Alert, AlertKind

# Detail keys a partner may see; any other number stays with staff.
PARTNER_DETAIL_KEYS = frozenset(
    {
        "sub_type",
        "sub_type_code",
        "zone_pcode",
        "zone_kind",
        "zone_name_en",
        "zone_name_ar",
        "camp_site_id",
        "camp_name_en",
        "camp_name_ar",
        "population",
        "camps_within",
        "within_km",
        "killed",
        "injured",
        "as_of",
        "recent",
        "baseline",
        "expected",
        "p_value",
        "recent_killed",
        "forces",
        "route",
        "route_ar",
        "date",
        "events",
    }
)


def _point(geom) -> dict | None:
    if geom is None:
        return None
    return {"type": "Point", "coordinates": [round(geom.x, 6), round(geom.y, 6)]}


def alert_summaries(alert: Alert, *, exact: bool = True) -> dict[str, str]:
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out[code] = alert.summary(exact=exact)
    return out


def alert_payload(alert: Alert, *, exact: bool) -> dict:
    """The alert as JSON-ready data; `exact` only for analysts, admins and staff webhooks."""
    detail = alert.figures(exact=exact)
    if "within_m" in detail:
        detail["within_km"] = round(detail["within_m"] / 1000, 1)
    if exact and "distance_m" in detail:
        detail["distance_km"] = round(detail["distance_m"] / 1000, 1)
    if not exact:
        detail = {k: v for k, v in detail.items() if k in PARTNER_DETAIL_KEYS}
    incident = alert.incident
    data = {
        "id": str(alert.uuid),
        "kind": alert.kind,
        "kind_label": str(AlertKind(alert.kind).label),
        "created_at": alert.created_at.isoformat(),
        "occurred_at": alert.occurred_at.isoformat(),
        "summary": alert_summaries(alert, exact=exact),
        "detail": detail,
        "incident": None,
        "patrol": str(alert.patrol_id) if alert.patrol_id else None,
        "zone": alert.detail.get("zone_pcode"),
        "camp": alert.detail.get("camp_site_id"),
        "url": settings.SITE_URL.rstrip("/") + reverse("alert-page", args=[alert.uuid]),
    }
    if incident is not None:
        data["incident"] = {
            "id": str(incident.client_uuid),
            "location": _point(incident.location if exact else incident.location_coarse),
            "location_is_exact": exact,
            "url": settings.SITE_URL.rstrip("/")
            + reverse("incident-page", args=[incident.client_uuid]),
        }
    return data


def alert_email(alert: Alert) -> tuple[str, str]:
    """Subject and body of the alert e-mail, in English and Arabic (the reader's language is not
    known); locations as for partners, since e-mail travels further than the app."""
    summaries = alert_summaries(alert, exact=False)
    payload = alert_payload(alert, exact=False)
    with translation.override("en"):
        subject = gettext("[Ceasefire Monitor] %(summary)s") % {"summary": summaries["en"]}
    lines = [summaries["en"], "", summaries.get("ar", ""), "", payload["url"], ""]
    lines.append(json.dumps(payload["detail"], ensure_ascii=False, indent=2))
    return subject[:200], "\n".join(lines)
