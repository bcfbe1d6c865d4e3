"""The alert rules. Each is one INSERT ... SELECT ... ON CONFLICT (key) DO NOTHING RETURNING id:
set-based, and safe to run any number of times, alone or concurrently (the unique key decides).

Rules look at what changed recently (incidents verified, patrols updated within the sweep window),
and only at events of the last ALERT_MAX_AGE_HOURS: importing last year's events raises nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from psycopg2 import sql
from psycopg2.extras import Json

from alerts.deliveries import deliveries_create
from alerts.models import Alert, AlertBasis
from stats.trends import RECENT_DAYS, zone_trends

# How far back the sweep looks for newly verified incidents and changed patrols. Longer than any
# plausible broker outage; the unique keys make the overlap free.
SWEEP_WINDOW = datetime.timedelta(hours=24)
NEAR_CAMP_SUB_TYPES = ["shelling-artillery-missile-attack", "air-drone-strike"]

# A rule over incidents runs once on the exact points (alerts for analysts and admins) and once on
# the grid points that everyone else sees (PRODUCT.md, "Do no harm" 6): the columns below are
# those of each view (incidents.disclosure), filled in as identifiers.
INCIDENT_VIEWS = {
    AlertBasis.EXACT: {
        "location": "location",
        "subdistrict": "subdistrict_id",
        "in_corridor": "in_corridor",
        "key": "",
    },
    AlertBasis.GRID: {
        "location": "location_coarse",
        "subdistrict": "coarse_subdistrict_id",
        "in_corridor": "coarse_in_corridor",
        "key": "grid:",
    },
}

# The near-camp band on the grid: an incident's grid point is at most half a cell's diagonal
# (3.6 km at 36 N) from the incident, so the grid rule widens the distance by GRID_MARGIN_M (5 km
# with the defaults: "within 10 km"). Every incident within the exact distance of a camp is then
# within the band from its grid point, and a partner's alert says no more than its grid point.
GRID_MARGIN_M = 5_000

CORRIDOR_SQL = """
INSERT INTO alerts_alert
    (uuid, kind, key, created_at, occurred_at, incident_id, zone_id, detail, basis)
SELECT gen_random_uuid(), 'corridor', 'corridor:' || %(key)s || i.client_uuid, now(),
       i.occurred_at, i.id, i.{subdistrict},
       jsonb_build_object(
           'sub_type', st.name, 'sub_type_code', st.slug,
           'zone_pcode', z.pcode, 'zone_name_en', z.name_en, 'zone_name_ar', z.name_ar,
           'killed', i.killed_civilians + i.killed_combatants,
           'injured', i.injured_civilians + i.injured_combatants)
       || CASE WHEN %(exact)s
               THEN jsonb_build_object('distance_to_m4_m', round(i.distance_to_m4_m))
               ELSE '{{}}'::jsonb END,
       %(basis)s
FROM incidents_incident i
JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id
LEFT JOIN zones_zone z ON z.id = i.{subdistrict}
WHERE i.{in_corridor} AND i.review_status = 'verified' AND i.deleted_at IS NULL
  AND i.verified_at >= %(since)s AND i.occurred_at >= %(oldest)s
ON CONFLICT (key) DO NOTHING
RETURNING id
"""

NEAR_CAMP_SQL = """
INSERT INTO alerts_alert
    (uuid, kind, key, created_at, occurred_at, incident_id, camp_id, zone_id, detail, basis)
SELECT gen_random_uuid(), 'near_camp', 'near_camp:' || %(key)s || i.client_uuid, now(),
       i.occurred_at, i.id, near.id, i.{subdistrict},
       jsonb_build_object(
           'sub_type', st.name, 'sub_type_code', st.slug,
           'zone_pcode', z.pcode, 'zone_name_en', z.name_en, 'zone_name_ar', z.name_ar,
           'camp_site_id', near.site_id, 'camp_name_en', near.name_en,
           'camp_name_ar', near.name_ar, 'population', near.individuals,
           'within_m', %(distance_m)s, 'camps_within', near.camps_within,
           'killed', i.killed_civilians + i.killed_combatants,
           'injured', i.injured_civilians + i.injured_combatants)
       || CASE WHEN %(exact)s
               THEN jsonb_build_object('distance_m', round(near.distance_m))
               ELSE '{{}}'::jsonb END,
       %(basis)s
FROM incidents_incident i
JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id
LEFT JOIN zones_zone z ON z.id = i.{subdistrict}
CROSS JOIN LATERAL (
    SELECT c.id, c.site_id, c.name_en, c.name_ar, pop.individuals,
           ST_Distance(c.location::geography, i.{location}::geography) AS distance_m,
           count(*) OVER () AS camps_within
    FROM camps_camp c
    CROSS JOIN LATERAL (
        SELECT p.individuals FROM camps_camppopulation p
        WHERE p.camp_id = c.id ORDER BY p.date DESC LIMIT 1
    ) pop
    WHERE c.location IS NOT NULL
      AND pop.individuals >= %(min_population)s
      AND ST_DWithin(c.location::geography, i.{location}::geography, %(distance_m)s)
    ORDER BY distance_m, c.id
    LIMIT 1
) near
WHERE st.slug = ANY(%(sub_types)s) AND i.review_status = 'verified' AND i.deleted_at IS NULL
  AND i.verified_at >= %(since)s AND i.occurred_at >= %(oldest)s
ON CONFLICT (key) DO NOTHING
RETURNING id
"""


def _incident_rule(template: str, basis: str) -> sql.Composed:
    """A rule's statement over one view of the incidents (INCIDENT_VIEWS)."""
    columns = INCIDENT_VIEWS[basis]
    names = ("location", "subdistrict", "in_corridor")
    return sql.SQL(template).format(**{name: sql.Identifier(columns[name]) for name in names})


PATROL_CUT_SHORT_SQL = """
INSERT INTO alerts_alert (uuid, kind, key, created_at, occurred_at, patrol_id, detail, basis)
SELECT gen_random_uuid(), 'patrol_cut_short', 'patrol_cut_short:' || p.id, now(),
       COALESCE(p.actual_end, p.actual_start, p.planned_start,
                p.date::timestamp AT TIME ZONE 'Asia/Damascus'),
       p.id,
       jsonb_build_object(
           'forces', p.forces, 'route', r.name_en, 'route_ar', r.name_ar,
           'date', p.date, 'notes', left(p.notes, 300),
           'events', (SELECT count(*) FROM patrols_patrolevent e WHERE e.patrol_id = p.id)),
       'none'
FROM patrols_patrol p
JOIN patrols_route r ON r.id = p.route_id
WHERE p.status = 'cut_short' AND p.updated_at >= %(since)s AND p.date >= %(oldest_date)s
ON CONFLICT (key) DO NOTHING
RETURNING id
"""

# An escalation alert for a zone is raised when its flag goes up; while the flag stays up no new
# alert, until a week after the last one. Staff's flags come from the exact statistics, everyone
# else's from the grid statistics (each basis its own alerts).
ESCALATION_SQL = """
INSERT INTO alerts_alert (uuid, kind, key, created_at, occurred_at, zone_id, detail, basis)
SELECT gen_random_uuid(), 'escalation', %(key)s, now(), now(), %(zone_id)s, %(detail)s, %(basis)s
WHERE NOT EXISTS (
    SELECT 1 FROM alerts_alert a
    WHERE a.kind = 'escalation' AND a.zone_id = %(zone_id)s AND a.basis = %(basis)s
      AND a.created_at > %(quiet_since)s
)
ON CONFLICT (key) DO NOTHING
RETURNING id
"""


def _insert(sql: str, params: dict) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def alerts_evaluate(*, now: datetime.datetime | None = None) -> list[Alert]:
    """Run every rule; return the alerts raised now (each with its deliveries queued)."""
    now = now or timezone.now()
    params = {
        "since": now - SWEEP_WINDOW,
        "oldest": now - datetime.timedelta(hours=settings.ALERT_MAX_AGE_HOURS),
    }
    with transaction.atomic():
        ids: list[int] = []
        for basis, view in INCIDENT_VIEWS.items():
            exact = basis == AlertBasis.EXACT
            on_view = {**params, "key": view["key"], "exact": exact, "basis": basis}
            ids += _insert(_incident_rule(CORRIDOR_SQL, basis), on_view)
            distance = settings.ALERT_CAMP_DISTANCE_M + (0 if exact else GRID_MARGIN_M)
            ids += _insert(
                _incident_rule(NEAR_CAMP_SQL, basis),
                {
                    **on_view,
                    "min_population": settings.ALERT_CAMP_MIN_POPULATION,
                    "distance_m": distance,
                    "sub_types": NEAR_CAMP_SUB_TYPES,
                },
            )
        ids += _insert(
            PATROL_CUT_SHORT_SQL,
            {"since": params["since"], "oldest_date": timezone.localdate(params["oldest"])},
        )
        ids += _escalations(now, basis=AlertBasis.EXACT)
        ids += _escalations(now, basis=AlertBasis.GRID)
        alerts = list(Alert.objects.filter(id__in=ids).order_by("id"))
        deliveries_create(alerts)
    return alerts


def _escalations(now: datetime.datetime, *, basis: str) -> list[int]:
    as_of = timezone.localdate(now)
    grid = basis == AlertBasis.GRID
    ids: list[int] = []
    trends = zone_trends(as_of=as_of, kinds=settings.ESCALATION_ALERT_ZONE_KINDS, grid=grid)
    for trend in trends:
        if not trend.escalation:
            continue
        detail = {
            "zone_pcode": trend.pcode,
            "zone_kind": trend.kind,
            "zone_name_en": trend.name_en,
            "zone_name_ar": trend.name_ar,
            "as_of": as_of.isoformat(),
            "recent": trend.recent,
            "baseline": trend.baseline,
            "expected": round(trend.expected, 1),
            "p_value": float(f"{trend.p_value:.3g}"),
            "recent_killed": trend.recent_killed,
        }
        ids += _insert(
            ESCALATION_SQL,
            {
                "key": f"escalation:{'grid:' if grid else ''}{trend.pcode}:{as_of.isoformat()}",
                "zone_id": trend.zone_id,
                "detail": Json(detail),
                "basis": basis,
                "quiet_since": now - datetime.timedelta(days=RECENT_DAYS),
            },
        )
    return ids
