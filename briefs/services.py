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
from incidents.disclosure import grid_path
from incidents.models import Incident, ReviewStatus
from patrols.models import Patrol
from stats.privacy import SUPPRESS_BELOW, WITHHELD_MARK
from stats.trends import BASELINE_DAYS, verified_stats_sql, zone_trends

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
LEFT JOIN {stats} s
  ON s.zone_id = z.id AND {verified}
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


def _zones(day: datetime.date, *, grid: bool = False) -> list[dict]:
    """Every zone's figures of the day; `grid` from the grid statistics (by the zones of the
    incidents' grid points), for readers who may not see exact locations."""
    with connection.cursor() as cursor:
        cursor.execute(
            verified_stats_sql(ZONE_DAY_SQL, grid=grid),
            {
                "day": day,
                "before": day - datetime.timedelta(days=1),
                "baseline_start": day - datetime.timedelta(days=BASELINE_DAYS),
            },
        )
        columns = [col.name for col in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    flags = {trend.zone_id: trend.escalation for trend in zone_trends(as_of=day, grid=grid)}
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


def _notable(start, end, *, grid: bool = False) -> list[dict]:
    """The most harmful verified incidents of the day; `grid` as readers who may not see exact
    locations read them (incidents.disclosure): the grid point's zone and corridor membership
    (which also break ties), the gazetteer's place name."""
    corridor = grid_path("in_corridor") if grid else "in_corridor"
    incidents = (
        Incident.objects.filter(
            review_status=ReviewStatus.VERIFIED, occurred_at__gte=start, occurred_at__lt=end
        )
        .select_related(
            "sub_event_type",
            "event_type",
            *(("coarse_subdistrict", "coarse_locality") if grid else ("subdistrict",)),
        )
        .annotate(
            harm=F("killed_civilians")
            + F("killed_combatants")
            + F("injured_civilians")
            + F("injured_combatants")
        )
        .order_by("-harm", f"-{corridor}", "occurred_at", "id")[:NOTABLE_INCIDENTS]
    )
    rows = []
    for incident in incidents:
        zone = incident.coarse_subdistrict if grid else incident.subdistrict
        point = incident.location_coarse if grid else incident.location
        rows.append(
            {
                "id": str(incident.client_uuid),
                "occurred_at": incident.occurred_at.isoformat(),
                "event_type": incident.event_type.name,
                "sub_type": incident.sub_event_type.name,
                "sub_type_code": incident.sub_event_type.slug,
                "place_name": incident.public_place_name if grid else incident.place_name,
                "zone": zone.pcode if zone else None,
                "zone_name_en": zone.name_en if zone else "",
                "zone_name_ar": zone.name_ar if zone else "",
                "killed": incident.killed,
                "injured": incident.injured,
                "in_corridor": incident.coarse_in_corridor if grid else incident.in_corridor,
                "location": [point.x, point.y],
                "location_coarse": [incident.location_coarse.x, incident.location_coarse.y],
            }
        )
    return rows


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


def _counts_headline(data: dict) -> str:
    totals = data["totals"]
    return ngettext(
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


def _withheld_counts_headline(data: dict) -> str:
    """The same, for a reader some of whose totals are withheld (briefs.selectors)."""
    totals = data["totals"]

    def shown(key: str) -> str:
        return WITHHELD_MARK if totals[key] is None else str(totals[key])

    daily = totals["baseline_daily"]
    return gettext(
        "%(day)s: %(n)s verified incidents (%(before)s the day before, %(baseline)s a day on "
        "average over 28 days); %(killed)s killed, %(injured)s injured."
    ) % {
        "day": data["day"],
        "n": shown("incidents"),
        "before": shown("day_before"),
        # A withheld 28-day count (1 or 2) is a daily average below SUPPRESS_BELOW / 28.
        "baseline": f"<{SUPPRESS_BELOW / BASELINE_DAYS:.2f}" if daily is None else daily,
        "killed": shown("killed"),
        "injured": shown("injured"),
    }


def headline(data: dict) -> str:
    """The brief's first sentence in the active language, from the figures in `data` (a
    reader's figures, some withheld, name the withheld ones in `totals["suppressed"]`)."""
    totals, patrols = data["totals"], data["patrol_counts"]
    withheld = totals.get("suppressed")
    text = _withheld_counts_headline(data) if withheld else _counts_headline(data)
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


def _picture(day: datetime.date, start, end, *, grid: bool) -> dict:
    """The figures of the day for one audience: staff (exact), or `grid` for everyone else."""
    zones = _zones(day, grid=grid)
    governorates = [zone for zone in zones if zone["kind"] == "governorate"]
    alerts = dict(
        Alert.objects.for_readers(exact=not grid)
        .filter(created_at__gte=start, created_at__lt=end)
        .values_list("kind")
        .annotate(n=Count("id"))
        .values_list("kind", "n")
    )
    totals = {
        key: sum(zone[key] for zone in governorates)
        for key in ("incidents", "day_before", "baseline", "killed", "injured")
    }
    totals["baseline_daily"] = round(totals["baseline"] / BASELINE_DAYS, 2)
    return {
        "totals": totals,
        "zones": zones,
        "notable": _notable(start, end, grid=grid),
        "alerts": alerts,
    }


def _headlines(data: dict) -> dict[str, str]:
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out[code] = headline(data)
    return out


@transaction.atomic
def brief_build(day: datetime.date) -> DailyBrief:
    """Write (or rewrite) the brief of `day` from the current statistics: the staff's figures,
    and under "grid" those of readers who may not see exact locations (by the zones of the
    incidents' grid points, PRODUCT.md "Do no harm" 6; briefs.selectors hands them out)."""
    start, end = _day_bounds(day)
    patrols = _patrols(day)
    status_counts = {}
    for patrol in patrols:
        status_counts[patrol["status"]] = status_counts.get(patrol["status"], 0) + 1
    common = {
        "day": day.isoformat(),
        "patrols": patrols,
        "patrol_counts": {"total": len(patrols), **status_counts},
    }
    data = {**common, **_picture(day, start, end, grid=False)}
    data["headline"] = _headlines(data)
    grid = _picture(day, start, end, grid=True)
    grid["headline"] = _headlines({**common, **grid})
    data["grid"] = grid
    brief, _created = DailyBrief.objects.update_or_create(
        day=day, defaults={"data": data, "generated_at": timezone.now()}
    )
    return brief
