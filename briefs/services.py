"""Write the daily brief: per zone, the day's verified incidents against the day before and the
28-day baseline; notable incidents; patrols; alerts. Counts come from the zone statistics (so the
brief agrees with the zone pages); the lists are a few bounded queries.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, F
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from alerts.models import Alert
from briefs.models import DailyBrief
from incidents.models import Incident, ReviewStatus
from patrols.models import Patrol
from stats.trends import BASELINE_DAYS, zone_trends

NOTABLE_INCIDENTS = 10
BRIEF_ZONE_KINDS = ("governorate", "district", "security_corridor")

ZONE_DAY_SQL = """
SELECT z.id, z.pcode, z.kind, z.name_en, z.name_ar, z.parent_id,
       COALESCE(sum(s.incidents) FILTER (WHERE s.day = %(day)s), 0) AS today,
       COALESCE(sum(s.incidents) FILTER (WHERE s.day = %(before)s), 0) AS day_before,
       COALESCE(sum(s.incidents) FILTER (WHERE s.day < %(day)s), 0) AS baseline,
       COALESCE(sum(s.killed) FILTER (WHERE s.day = %(day)s), 0) AS killed,
       COALESCE(sum(s.injured) FILTER (WHERE s.day = %(day)s), 0) AS injured
FROM zones_zone z
LEFT JOIN stats_zonedaystat s
  ON s.zone_id = z.id AND s.review_status = 'verified'
 AND s.day >= %(baseline_start)s AND s.day <= %(day)s
GROUP BY z.id
ORDER BY z.kind, z.pcode
"""


def _day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
    end = timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time())
    )
    return start, end


def _zones(day: datetime.date) -> list[dict]:
    with connection.cursor() as cursor:
        cursor.execute(
            ZONE_DAY_SQL,
            {
                "day": day,
                "before": day - datetime.timedelta(days=1),
                "baseline_start": day - datetime.timedelta(days=BASELINE_DAYS),
            },
        )
        columns = [col.name for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    flags = {trend.zone_id: trend.escalation for trend in zone_trends(as_of=day)}
    zones = []
    for row in rows:
        active = row["today"] or row["day_before"]
        if row["kind"] not in BRIEF_ZONE_KINDS and not active:
            continue  # sub-districts only when something happened there
        zones.append(
            {
                "pcode": row["pcode"],
                "kind": row["kind"],
                "name_en": row["name_en"],
                "name_ar": row["name_ar"],
                "incidents": int(row["today"]),
                "day_before": int(row["day_before"]),
                "baseline": int(row["baseline"]),
                "baseline_daily": round(int(row["baseline"]) / BASELINE_DAYS, 2),
                "killed": int(row["killed"]),
                "injured": int(row["injured"]),
                "escalation": flags.get(row["id"], False),
            }
        )
    return zones


def _notable(start, end) -> list[dict]:
    incidents = (
        Incident.objects.filter(
            review_status=ReviewStatus.VERIFIED, occurred_at__gte=start, occurred_at__lt=end
        )
        .select_related("sub_event_type", "event_type", "subdistrict")
        .annotate(
            harm=F("killed_civilians")
            + F("killed_combatants")
            + F("injured_civilians")
            + F("injured_combatants")
        )
        .order_by("-harm", "-in_corridor", "occurred_at", "id")[:NOTABLE_INCIDENTS]
    )
    return [
        {
            "id": str(incident.client_uuid),
            "occurred_at": incident.occurred_at.isoformat(),
            "event_type": incident.event_type.name,
            "sub_type": incident.sub_event_type.name,
            "sub_type_code": incident.sub_event_type.slug,
            "place_name": incident.place_name,
            "zone": incident.subdistrict.pcode if incident.subdistrict else None,
            "zone_name_en": incident.subdistrict.name_en if incident.subdistrict else "",
            "zone_name_ar": incident.subdistrict.name_ar if incident.subdistrict else "",
            "killed": incident.killed,
            "injured": incident.injured,
            "in_corridor": incident.in_corridor,
            "location": [incident.location.x, incident.location.y],
            "location_coarse": [incident.location_coarse.x, incident.location_coarse.y],
        }
        for incident in incidents
    ]


def _patrols(day: datetime.date) -> list[dict]:
    patrols = (
        Patrol.objects.filter(date=day)
        .select_related("route")
        .defer("track", "route__geom")
        .with_event_count()
        .order_by("planned_start", "id")
    )
    return [
        {
            "id": patrol.pk,
            "route": patrol.route.name_en,
            "route_ar": patrol.route.name_ar,
            "forces": patrol.forces,
            "status": patrol.status,
            "planned_start": patrol.planned_start.isoformat() if patrol.planned_start else None,
            "actual_start": patrol.actual_start.isoformat() if patrol.actual_start else None,
            "actual_end": patrol.actual_end.isoformat() if patrol.actual_end else None,
            "events": patrol.events_count,
        }
        for patrol in patrols
    ]


def headline(data: dict) -> str:
    """The brief's first sentence in the active language."""
    totals, patrols = data["totals"], data["patrol_counts"]
    text = ngettext(
        "%(day)s: %(n)d verified incident (%(before)d the day before, %(baseline)s a day on "
        "average over 28 days); %(killed)d killed, %(injured)d injured.",
        "%(day)s: %(n)d verified incidents (%(before)d the day before, %(baseline)s a day on "
        "average over 28 days); %(killed)d killed, %(injured)d injured.",
        totals["incidents"],
    ) % {
        "day": data["day"],
        "n": totals["incidents"],
        "before": totals["day_before"],
        "baseline": totals["baseline_daily"],
        "killed": totals["killed"],
        "injured": totals["injured"],
    }
    text += " " + ngettext(
        "%(n)d patrol (%(cut)d cut short).", "%(n)d patrols (%(cut)d cut short).", patrols["total"]
    ) % {"n": patrols["total"], "cut": patrols.get("cut_short", 0)}
    escalating = [zone for zone in data["zones"] if zone["escalation"]]
    if escalating:
        arabic = translation.get_language() == "ar"
        names = ", ".join(
            (zone["name_ar"] if arabic and zone["name_ar"] else zone["name_en"])
            for zone in escalating
        )
        text += " " + gettext("Escalation flagged in: %(zones)s.") % {"zones": names}
    return text


@transaction.atomic
def brief_build(day: datetime.date) -> DailyBrief:
    """Write (or rewrite) the brief of `day` from the current statistics."""
    start, end = _day_bounds(day)
    zones = _zones(day)
    governorates = [zone for zone in zones if zone["kind"] == "governorate"]
    patrols = _patrols(day)
    status_counts = {}
    for patrol in patrols:
        status_counts[patrol["status"]] = status_counts.get(patrol["status"], 0) + 1
    alerts = dict(
        Alert.objects.filter(created_at__gte=start, created_at__lt=end)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    data = {
        "day": day.isoformat(),
        "totals": {
            key: sum(zone[key] for zone in governorates)
            for key in ("incidents", "day_before", "baseline", "killed", "injured")
        },
        "zones": zones,
        "notable": _notable(start, end),
        "patrols": patrols,
        "patrol_counts": {"total": len(patrols), **status_counts},
        "alerts": alerts,
    }
    data["totals"]["baseline_daily"] = round(data["totals"]["baseline"] / BASELINE_DAYS, 2)
    data["headline"] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            data["headline"][code] = headline(data)
    brief, _created = DailyBrief.objects.update_or_create(
        day=day, defaults={"data": data, "generated_at": timezone.now()}
    )
    return brief
