"""Synthetic benchmark data at scale: a million incidents and thousands of patrols, drawn in SQL.

demo.py builds a few thousand rows in Python, one object at a time; at a million that would take
an hour. Here Python only draws the small tables (how much happens on each day, how often each
locality is hit, what each sub-event type looks like) and PostgreSQL draws the rows themselves
(``generate_series`` and ``random()`` seeded with ``setseed``), in batches that are inserted in
time order and then given their zones by the project's own statement (``incident_zones_assign``).
The places, taxonomy and skew are demo.py's; every row is marked ``is_synthetic`` and carries
BENCH_SOURCE, which is how ``bench_data_remove`` finds it again.
"""

from __future__ import annotations

import calendar
import datetime
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import Point
from django.db import connection, transaction
from django.utils import timezone

from incidents.models import SubEventType
from incidents.services import incident_zones_assign
from monitoring import demo
from monitoring.reference import PATROL_ROUTE_SLUG
from patrols.models import Route
from stats.services import stats_rebuild
from zones.models import Locality, Zone

BENCH_SOURCE = "Synthetic benchmark data (manage.py generate_bench_data), not a real report"
PATROL_MARK = "[SYNTHETIC] [bench] "
LOCAL_TZ = "Asia/Damascus"

# The period: from the month of the 5 March 2020 protocol to yesterday (Damascus time).
FIRST_DAY = datetime.date(2020, 3, 1)
BATCH_ROWS = 100_000
# Reports dated in the last weeks are still being reviewed (demo.py does the same).
BACKLOG_DAYS = 45
# After 2021 (where demo.py's monthly weights end) the level stays near late 2021's.
LATER_MONTH_LEVEL = 3.0
BURSTS_PER_YEAR = 3


class BenchDataError(Exception):
    """The benchmark data cannot be written (the message says why and what to do)."""


@dataclass
class BenchReport:
    seed: int
    incidents: int = 0
    moved_to_locality: int = 0
    without_subdistrict: int = 0
    in_corridor: int = 0
    patrols: Counter = field(default_factory=Counter)
    patrol_events: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> list[str]:
        patrols = ", ".join(f"{status} {n}" for status, n in sorted(self.patrols.items()))
        timings = ", ".join(f"{step} {s:.1f} s" for step, s in self.seconds.items())
        return [
            f"Incidents: {self.incidents} (seed {self.seed}); in the M4 corridor "
            f"{self.in_corridor}; moved onto their locality {self.moved_to_locality}; "
            f"without a sub-district {self.without_subdistrict}",
            f"Patrols: {sum(self.patrols.values())} ({patrols or 'none'}); "
            f"events {self.patrol_events}",
            f"Timings: {timings}",
        ]


# --- the draws ---------------------------------------------------------------------------------

# One row per report: every random number is drawn once in `draws` (a CTE with volatile functions
# is evaluated once, in order, so setseed() makes the rows reproducible), then turned into values.
INCIDENTS_DRAW_SQL = """
CREATE TEMP TABLE bench_batch AS
WITH draws AS MATERIALIZED (
    SELECT d.day,
           width_bucket(random() * %(place_total)s, %(place_lows)s::float8[]) AS place_idx,
           random() AS r_type, random() AS r_hour, random() AS r_minute, random() AS r_tprec,
           random() AS r_dist, random() AS r_bearing, random() AS r_exact, random() AS r_weapon,
           random() AS r_target, random() AS r_tdesc, random() AS r_perp, random() AS r_obs,
           random() AS r_dir, random() AS r_obsdist, random() AS r_expl, random() AS r_kc,
           random() AS r_ic, random() AS r_kk, random() AS r_ik, random() AS r_lang,
           random() AS r_text, random() AS r_status, random() AS r_note, random() AS r_delay,
           random() AS r_review
    FROM unnest(%(days)s::date[], %(counts)s::int[]) AS d(day, n)
    CROSS JOIN LATERAL generate_series(1, d.n)
)
SELECT b.occurred_at,
       a.time_precision,
       ST_SetSRID(ST_MakePoint(
           round((p.lon + a.dist * sin(a.bearing) / (111320 * cos(radians(p.lat))))::numeric, 6),
           round((p.lat + a.dist * cos(a.bearing) / 111320)::numeric, 6)
       ), 4326) AS location,
       CASE WHEN w.r_exact < 0.15 THEN 'exact' WHEN a.dist < 800 THEN 'town' ELSE 'near_town'
       END AS location_precision,
       p.place_name,
       p.locality_id,
       s.event_type_id,
       s.sub_id AS sub_event_type_id,
       CASE WHEN s.weapons IS NULL THEN ''
            ELSE s.weapons[width_bucket(w.r_weapon * s.weapon_total, s.weapon_lows)] END AS weapon,
       CASE WHEN a.observed THEN (%(methods)s::text[])[
                width_bucket(w.r_obs / 0.6 * %(method_total)s, %(method_lows)s::float8[])]
            ELSE '' END AS observation_method,
       a.explosions_count,
       CASE WHEN a.observed THEN (%(directions)s::text[])[least(8, 1 + floor(w.r_dir * 8)::int)]
            ELSE '' END AS direction,
       CASE WHEN a.observed THEN 300 + least(76, floor(w.r_obsdist * 77)::int) * 100
       END AS distance_estimate_m,
       CASE WHEN p.area = 'aleppo' AND s.perps_aleppo IS NOT NULL
            THEN s.perps_aleppo[width_bucket(w.r_perp * s.perp_aleppo_total, s.perp_aleppo_lows)]
            ELSE s.perps[width_bucket(w.r_perp * s.perp_total, s.perp_lows)]
       END AS perpetrator_side,
       b.target,
       CASE WHEN b.target <> 'unknown' AND w.r_tdesc < 0.3
            THEN (%(details)s::text[])[least(10, 1 + floor(w.r_tdesc / 0.3 * 10)::int)]
            ELSE '' END AS target_description,
       CASE WHEN w.r_kc < s.kc_p
            THEN 1 + least(s.kc_max - 1, floor(w.r_kc / s.kc_p * s.kc_max)::int)
            ELSE 0 END AS killed_civilians,
       CASE WHEN w.r_kk < s.kk_p
            THEN 1 + least(s.kk_max - 1, floor(w.r_kk / s.kk_p * s.kk_max)::int)
            ELSE 0 END AS killed_combatants,
       CASE WHEN w.r_ic < s.ic_p
            THEN 1 + least(s.ic_max - 1, floor(w.r_ic / s.ic_p * s.ic_max)::int)
            ELSE 0 END AS injured_civilians,
       CASE WHEN w.r_ik < s.ik_p
            THEN 1 + least(s.ik_max - 1, floor(w.r_ik / s.ik_p * s.ik_max)::int)
            ELSE 0 END AS injured_combatants,
       %(mark)s || replace(replace(
           CASE WHEN a.arabic
                THEN s.texts_ar[least(cardinality(s.texts_ar),
                                      1 + floor(w.r_text * cardinality(s.texts_ar))::int)]
                ELSE s.texts_en[least(cardinality(s.texts_en),
                                      1 + floor(w.r_text * cardinality(s.texts_en))::int)] END,
           '{place}', CASE WHEN a.arabic THEN p.place_ar ELSE p.place_name END),
           '{n}', coalesce(a.explosions_count, 2 + floor(w.r_expl * 8)::int)::text
       ) AS description,
       a.review_status,
       CASE WHEN a.review_status = 'rejected'
            THEN %(mark)s || (%(reasons)s::text[])[least(3, 1 + floor(w.r_note * 3)::int)]
            ELSE '' END AS review_note,
       c.created_at,
       r.reviewed_at,
       CASE WHEN a.review_status = 'verified' THEN r.reviewed_at END AS verified_at
FROM draws w
JOIN bench_places p ON p.idx = w.place_idx
JOIN bench_group_types g ON g.grp = p.grp
JOIN bench_subtypes s ON s.sub_id = g.sub_ids[width_bucket(w.r_type * g.total, g.lows)]
CROSS JOIN LATERAL (
    SELECT %(max_offset)s * sqrt(w.r_dist) AS dist,
           2 * pi() * w.r_bearing AS bearing,
           CASE WHEN w.r_tprec < 0.30 THEN 'minute' WHEN w.r_tprec < 0.75 THEN 'hour' ELSE 'day'
           END AS time_precision,
           width_bucket(w.r_hour * %(hour_total)s, %(hour_lows)s::float8[]) - 1 AS hour,
           s.observed AND w.r_obs < 0.6 AS observed,
           CASE s.explosions
               WHEN 1 THEN least(60, 1 + floor(-ln(1 - w.r_expl) * 6)::int)
               WHEN 2 THEN 1 + least(3, floor(w.r_expl * 4)::int)
           END AS explosions_count,
           w.r_lang < 0.4 AS arabic,
           CASE WHEN w.day >= %(backlog_from)s THEN
                    CASE WHEN w.r_status < 0.40 THEN 'verified'
                         WHEN w.r_status < 0.70 THEN 'submitted'
                         WHEN w.r_status < 0.92 THEN 'under_review' ELSE 'rejected' END
                ELSE
                    CASE WHEN w.r_status < 0.74 THEN 'verified'
                         WHEN w.r_status < 0.81 THEN 'submitted'
                         WHEN w.r_status < 0.89 THEN 'under_review' ELSE 'rejected' END
           END AS review_status
) a
CROSS JOIN LATERAL (
    SELECT least(now(), (w.day + CASE a.time_precision
                                     WHEN 'minute'
                                         THEN make_time(a.hour, floor(w.r_minute * 60)::int, 0)
                                     WHEN 'hour' THEN make_time(a.hour, 0, 0)
                                     ELSE time '12:00' END) AT TIME ZONE %(tz)s) AS occurred_at,
           s.targets[width_bucket(w.r_target * s.target_total, s.target_lows)] AS target
) b
CROSS JOIN LATERAL (
    SELECT least(now(), b.occurred_at + interval '10 minutes'
                        + w.r_delay * interval '2870 minutes') AS created_at
) c
CROSS JOIN LATERAL (
    SELECT CASE WHEN a.review_status IN ('verified', 'rejected')
                THEN least(now(), c.created_at + interval '2 hours'
                                  + w.r_review * interval '94 hours')
           END AS reviewed_at
) r
"""

INCIDENTS_INSERT_SQL = """
WITH inserted AS (
    INSERT INTO incidents_incident (
        occurred_at, time_precision, location, location_precision, place_name, locality_id,
        event_type_id, sub_event_type_id, weapon, observation_method, explosions_count,
        direction, distance_estimate_m, perpetrator_side, target, target_description,
        killed_civilians, killed_combatants, injured_civilians, injured_combatants,
        description, review_status, review_note, created_at, reviewed_at, verified_at,
        sources, client_uuid, submission_digest, is_synthetic, updated_at, in_corridor)
    SELECT occurred_at, time_precision, location, location_precision, place_name, locality_id,
           event_type_id, sub_event_type_id, weapon, observation_method, explosions_count,
           direction, distance_estimate_m, perpetrator_side, target, target_description,
           killed_civilians, killed_combatants, injured_civilians, injured_combatants,
           description, review_status, review_note, created_at, reviewed_at, verified_at,
           ARRAY[%(source)s]::varchar[], gen_random_uuid(), '', TRUE, now(), FALSE
    FROM bench_batch
    ORDER BY occurred_at
    RETURNING id
)
SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM inserted
"""

# An offset can push a point near the edge of the area out of every sub-district: such reports
# are put back on their locality's point, which lies inside one (as demo.py does).
MOVE_TO_LOCALITY_SQL = """
UPDATE incidents_incident i
SET location = l.location, location_precision = 'town'
FROM zones_locality l
WHERE i.locality_id = l.id AND i.subdistrict_id IS NULL AND i.id = ANY(%(ids)s::bigint[])
RETURNING i.id
"""

# The same fallback for reports drawn for incident_submit, which refuses points outside the area.
BATCH_INTO_AREA_SQL = """
UPDATE bench_batch b
SET location = l.location, location_precision = 'town'
FROM zones_locality l
WHERE l.id = b.locality_id
  AND NOT (
      EXISTS (SELECT 1 FROM zones_zone z
              WHERE z.kind = 'governorate' AND ST_Covers(z.geom, b.location))
      AND EXISTS (SELECT 1 FROM zones_zone z
                  WHERE z.kind = 'subdistrict' AND ST_Intersects(z.geom, b.location)))
"""

PATROLS_DRAW_SQL = """
CREATE TEMP TABLE bench_patrol_batch AS
WITH route AS MATERIALIZED (
    SELECT ST_Transform(geom, 32637) AS line FROM patrols_route WHERE slug = %(route)s
),
draws AS MATERIALIZED (
    SELECT %(first_day)s::date + least(%(span)s - 1, floor(random() * %(span)s)::int) AS day,
           random() AS r_forces, random() AS r_status, random() AS r_hour, random() AS r_minute,
           random() AS r_duration, random() AS r_delay, random() AS r_fraction, random() AS r_kind,
           random() AS r_after, random() AS r_end, random() AS r_cancel
    FROM generate_series(1, %(count)s)
),
drawn AS (
    SELECT w.*,
           w.day < %(full_from)s AS early,
           CASE WHEN w.r_status < CASE WHEN w.day < %(full_from)s THEN 0.35 ELSE 0.07 END
                    THEN 'cut_short'
                WHEN w.r_status > 0.96 THEN 'cancelled'
                ELSE 'completed' END AS status,
           CASE WHEN w.r_forces < 0.90 THEN 'joint' WHEN w.r_forces < 0.95 THEN 'turkish'
                ELSE 'russian' END AS forces,
           ((w.day + make_time((ARRAY[8, 8, 9, 9, 10])[least(5, 1 + floor(w.r_hour * 5)::int)],
                               15 * least(3, floor(w.r_minute * 4)::int), 0))
            AT TIME ZONE %(tz)s) AS planned_start,
           interval '1 minute' * (150 + 10 * least(9, floor(w.r_duration * 10)::int)) AS duration
    FROM draws w
),
shaped AS (
    SELECT d.*,
           CASE WHEN d.status = 'completed' THEN 1.0
                WHEN d.early THEN 0.05 + 0.40 * d.r_fraction
                ELSE 0.2 + 0.65 * d.r_fraction END AS fraction,
           CASE WHEN d.early THEN
                    CASE WHEN d.r_kind < 0.45 THEN 'protest'
                         WHEN d.r_kind < 0.90 THEN 'blocked_road'
                         WHEN d.r_kind < 0.95 THEN 'ied' ELSE 'attack' END
                ELSE
                    CASE WHEN d.r_kind < 0.30 THEN 'blocked_road'
                         WHEN d.r_kind < 0.50 THEN 'protest'
                         WHEN d.r_kind < 0.75 THEN 'ied' ELSE 'attack' END
           END AS event_kind,
           d.planned_start + interval '5 minutes' * least(8, floor(d.r_delay * 9)::int)
               AS actual_start
    FROM drawn d
),
ordered AS (
    SELECT * FROM shaped ORDER BY day, planned_start, r_status
)
SELECT nextval(pg_get_serial_sequence('patrols_patrol', 'id')) AS id,
       o.*,
       CASE WHEN o.status = 'cancelled' THEN NULL
            WHEN o.status = 'completed'
                THEN o.actual_start + o.duration + interval '1 minute' * round(50 * o.r_end - 25)
            ELSE o.actual_start + o.duration * o.fraction
                 + interval '1 minute' * (30 + 60 * o.r_end)
       END AS actual_end,
       o.actual_start + o.duration * o.fraction AS stopped_at,
       t.track
FROM ordered o
CROSS JOIN route
CROSS JOIN LATERAL (
    -- A GPS-like track: the route (to where the patrol stopped) every 250 m, 6 m of jitter.
    SELECT ST_SnapToGrid(ST_Transform(ST_SetSRID(ST_MakeLine(
               ST_MakePoint(
                   ST_X(dp.geom) + CASE WHEN dp.path[1] IN (1, seg.n) THEN 0
                                        ELSE (random() * 2 - 1) * 6 END,
                   ST_Y(dp.geom) + CASE WHEN dp.path[1] IN (1, seg.n) THEN 0
                                        ELSE (random() * 2 - 1) * 6 END
               ) ORDER BY dp.path[1]), 32637), 4326), 0.000001) AS track
    FROM (
        SELECT part.line, ST_NPoints(part.line) AS n
        FROM (SELECT ST_Segmentize(ST_LineSubstring(route.line, 0, o.fraction), 250) AS line) part
        OFFSET 0  -- computed once per patrol, not once per point
    ) seg
    CROSS JOIN LATERAL ST_DumpPoints(seg.line) dp
    WHERE o.status <> 'cancelled'
) t
"""

PATROLS_INSERT_SQL = """
INSERT INTO patrols_patrol (
    id, route_id, date, forces, status, planned_start, planned_end, actual_start, actual_end,
    track, notes, is_synthetic, created_at, updated_at)
SELECT b.id, %(route_id)s, b.day, b.forces, b.status, b.planned_start, b.planned_start + b.duration,
       CASE WHEN b.status <> 'cancelled' THEN b.actual_start END, b.actual_end, b.track,
       %(mark)s || (%(forces_text)s::jsonb ->> b.forces) || ' patrol Trumba - Ain al-Hawr: '
       || CASE b.status
              WHEN 'completed' THEN 'completed the full route.'
              WHEN 'cancelled' THEN (%(cancel_reasons)s::text[])[
                  least(cardinality(%(cancel_reasons)s::text[]),
                        1 + floor(b.r_cancel * cardinality(%(cancel_reasons)s::text[]))::int)]
                  || '.'
              ELSE 'cut short after ' || round((ST_Length(b.track::geography) / 1000)::numeric, 1)
                   || ' km (' || (%(event_short)s::jsonb ->> b.event_kind) || ').'
          END,
       TRUE, now(), now()
FROM bench_patrol_batch b
ORDER BY b.id
"""

PATROL_EVENTS_INSERT_SQL = """
INSERT INTO patrols_patrolevent (patrol_id, kind, occurred_at, location, description)
SELECT b.id, b.event_kind, b.stopped_at, ST_EndPoint(b.track),
       %(mark)s || (%(event_text)s::jsonb ->> b.event_kind)
FROM bench_patrol_batch b
WHERE b.status = 'cut_short'
ORDER BY b.id
"""

REMOVE_SQL = {
    # duplicate_of is PROTECT: unlink first (a real report pointing at one still stops the removal).
    "duplicate links": """
        UPDATE incidents_incident SET duplicate_of_id = NULL
        WHERE duplicate_of_id IS NOT NULL
          AND is_synthetic AND sources @> ARRAY[%(source)s]::varchar[]""",
    "incident changes": """
        DELETE FROM incidents_incidentchange WHERE incident_id IN (
            SELECT id FROM incidents_incident
            WHERE is_synthetic AND sources @> ARRAY[%(source)s]::varchar[])""",
    "attachments": """
        DELETE FROM incidents_attachment WHERE incident_id IN (
            SELECT id FROM incidents_incident
            WHERE is_synthetic AND sources @> ARRAY[%(source)s]::varchar[])""",
    "incidents": """
        DELETE FROM incidents_incident
        WHERE is_synthetic AND sources @> ARRAY[%(source)s]::varchar[]""",
    "patrol events": """
        DELETE FROM patrols_patrolevent WHERE patrol_id IN (
            SELECT id FROM patrols_patrol WHERE is_synthetic AND starts_with(notes, %(mark)s))""",
    "patrols": """
        DELETE FROM patrols_patrol WHERE is_synthetic AND starts_with(notes, %(mark)s)""",
}

COUNT_BENCH_INCIDENTS_SQL = """
SELECT count(*) FROM incidents_incident
WHERE is_synthetic AND sources @> ARRAY[%(source)s]::varchar[]
"""

COUNT_BENCH_PATROLS_SQL = """
SELECT count(*) FROM patrols_patrol WHERE is_synthetic AND starts_with(notes, %(mark)s)
"""

BATCH_SUMMARY_SQL = """
SELECT count(*) FILTER (WHERE in_corridor), count(*) FILTER (WHERE subdistrict_id IS NULL)
FROM incidents_incident WHERE id = ANY(%(ids)s::bigint[])
"""

# What bench_reports_draw hands to incident_submit as drawn (after time, place and type).
REPORT_FIELDS_AS_DRAWN = (
    "weapon",
    "observation_method",
    "explosions_count",
    "direction",
    "distance_estimate_m",
    "perpetrator_side",
    "target",
    "target_description",
    "killed_civilians",
    "killed_combatants",
    "injured_civilians",
    "injured_combatants",
    "description",
)
OBSERVATION_METHODS = {"heard": 35, "seen_and_heard": 30, "seen": 10, "reported": 25}
REJECT_REASONS = [
    "Could not be corroborated by a second source.",
    "Location does not match the account.",
    "Outside the ceasefire area or not a violation.",
]
# Casualties by sub-event type: (chance, most) for civilians killed, civilians injured,
# combatants killed, combatants injured; demo.py's figures for the period after the ceasefire.
_HARM_EXPLOSIVE = ((0.05, 3), (0.12, 6), (0.04, 3), (0.06, 4))
HARM = {
    "shelling-artillery-missile-attack": _HARM_EXPLOSIVE,
    "air-drone-strike": _HARM_EXPLOSIVE,
    "grenade": _HARM_EXPLOSIVE,
    "armed-clash": ((0, 1), (0, 1), (0.4, 6), (0.5, 8)),
    "government-regains-territory": ((0, 1), (0, 1), (0.4, 6), (0.5, 8)),
    "remote-explosive-landmine-ied": ((0.12, 3), (0.25, 5), (0.05, 2), (0, 1)),
    "attack": ((0.5, 2), (0.4, 3), (0, 1), (0, 1)),
}
EXPLOSIVE = {"air-drone-strike", "remote-explosive-landmine-ied", "grenade"}
SHELLING = "shelling-artillery-missile-attack"


# --- entry points ------------------------------------------------------------------------------


def bench_data_generate(
    *,
    incidents: int,
    patrols: int,
    seed: int,
    end_day: datetime.date | None = None,
    batch_rows: int = BATCH_ROWS,
    rebuild_stats: bool = True,
    progress: Callable[[str], None] | None = None,
) -> BenchReport:
    """Add `incidents` synthetic incidents and `patrols` synthetic patrols, drawn in SQL.

    Each batch is its own transaction (when called outside one), so a million rows never sit in
    one transaction and an interrupted run keeps what it finished. The statistics outbox that the
    triggers fill is replaced by one full rebuild at the end.
    """
    say = progress or (lambda message: None)
    _reference_data_check()
    end_day = end_day or yesterday()
    report = BenchReport(seed=seed)
    started = time.perf_counter()
    if incidents > 0:
        _incidents_generate(
            count=incidents,
            seed=seed,
            end_day=end_day,
            batch_rows=batch_rows,
            report=report,
            say=say,
        )
        report.seconds["incidents"] = time.perf_counter() - started
    if patrols > 0:
        mark = time.perf_counter()
        _patrols_generate(count=patrols, seed=seed, end_day=end_day, report=report)
        report.seconds["patrols"] = time.perf_counter() - mark
        say(f"patrols: {patrols} in {report.seconds['patrols']:.1f} s")
    if not connection.in_atomic_block:
        mark = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (ANALYZE) incidents_incident")
            cursor.execute("VACUUM (ANALYZE) patrols_patrol")
        report.seconds["vacuum"] = time.perf_counter() - mark
        say(f"vacuum and analyze: {report.seconds['vacuum']:.1f} s")
    if rebuild_stats:
        mark = time.perf_counter()
        rows = stats_rebuild()
        report.seconds["statistics"] = time.perf_counter() - mark
        say(f"statistics rebuilt: {rows} rows in {report.seconds['statistics']:.1f} s")
    report.seconds["total"] = time.perf_counter() - started
    return report


def bench_data_remove() -> Counter:
    """Delete every row this module wrote (found by BENCH_SOURCE and PATROL_MARK); demo and real
    rows are never touched. The statistics are rebuilt afterwards."""
    removed: Counter = Counter()
    with transaction.atomic(), connection.cursor() as cursor:
        params = {"source": BENCH_SOURCE, "mark": PATROL_MARK}
        for label, sql in REMOVE_SQL.items():
            cursor.execute(sql, params)
            removed[label] = cursor.rowcount
    if removed["incidents"]:
        stats_rebuild()
    return Counter({label: n for label, n in removed.items() if n})


def bench_incident_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(COUNT_BENCH_INCIDENTS_SQL, {"source": BENCH_SOURCE})
        return cursor.fetchone()[0]


def bench_patrol_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute(COUNT_BENCH_PATROLS_SQL, {"mark": PATROL_MARK})
        return cursor.fetchone()[0]


def bench_reports_draw(
    *, count: int, seed: int, first_day: datetime.date, last_day: datetime.date
) -> list[dict[str, Any]]:
    """`count` reports as a reporter would submit them (incident_submit's `data`), drawn by the
    same SQL as the bulk rows, spread over first_day..last_day with the same daily skew."""
    tables = _draw_tables_create(seed=seed, end_day=last_day)
    days = _days(first_day, last_day)
    weights = [tables.day_weight.get(day, 1.0) for day in days]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [_seed_fraction(seed, "reports")])
        _batch_draw(cursor, tables=tables, days=days, counts=_apportion(count, weights))
        cursor.execute(BATCH_INTO_AREA_SQL)
        cursor.execute(
            """
            SELECT occurred_at, time_precision, ST_X(location), ST_Y(location), location_precision,
                   place_name, locality_id, sub_event_type_id, weapon, observation_method,
                   explosions_count, direction, distance_estimate_m, perpetrator_side, target,
                   target_description, killed_civilians, killed_combatants, injured_civilians,
                   injured_combatants, description
            FROM bench_batch ORDER BY occurred_at
            """
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE bench_batch")
    sub_types = SubEventType.objects.select_related("event_type").in_bulk()
    localities = Locality.objects.in_bulk({row[6] for row in rows})
    reports = []
    for (
        occurred_at,
        time_precision,
        lon,
        lat,
        location_precision,
        place_name,
        locality_id,
        sub_id,
        *rest,
    ) in rows:
        sub = sub_types[sub_id]
        reports.append(
            {
                "occurred_at": occurred_at,
                "time_precision": time_precision,
                "location": Point(lon, lat, srid=4326),
                "location_precision": location_precision,
                "place_name": place_name,
                "locality": localities[locality_id],
                "event_type": sub.event_type,
                "sub_event_type": sub,
                **dict(zip(REPORT_FIELDS_AS_DRAWN, rest, strict=True)),
                "sources": [BENCH_SOURCE],
            }
        )
    return reports


def yesterday() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


# --- incidents ---------------------------------------------------------------------------------


@dataclass
class _DrawTables:
    """The small tables the SQL draws from (temporary tables plus the large arrays it is given)."""

    place_lows: str
    place_total: float
    day_weight: dict[datetime.date, float]


def _reference_data_check() -> None:
    missing = []
    if not Zone.objects.subdistricts().exists():
        missing.append("sub-district zones")
    if not Route.objects.filter(slug=PATROL_ROUTE_SLUG).exists():
        missing.append(f"the patrol route '{PATROL_ROUTE_SLUG}'")
    if not Locality.objects.exists():
        missing.append("the locality gazetteer")
    if not SubEventType.objects.filter(slug=SHELLING).exists():
        missing.append("the ACLED event taxonomy")
    if missing:
        raise BenchDataError(
            "Reference data is missing (" + ", ".join(missing) + "). "
            "Run `manage.py migrate` and `manage.py load_reference_data` first."
        )


def _rng(seed: int, stream: str) -> random.Random:
    return random.Random(f"ceasefire-bench:{seed}:{stream}")  # noqa: S311 (synthetic data)


def _seed_fraction(seed: int, stream: str) -> float:
    """A setseed() argument in [-1, 1] for this seed and stream."""
    return _rng(seed, f"setseed:{stream}").uniform(-1, 1)


def _days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    return [first + datetime.timedelta(days=i) for i in range((last - first).days + 1)]


def _month_levels(
    rng: random.Random, days: Sequence[datetime.date]
) -> dict[tuple[int, int], float]:
    """Relative intensity per month: demo.py's for 2020-21 (the ceasefire drop, the Jabal
    al-Zawiya escalation of summer 2021), then a level near late 2021's with some noise."""
    levels = {}
    for year, month in sorted({(day.year, day.month) for day in days}):
        if year in demo.MONTH_WEIGHTS:
            levels[year, month] = demo.MONTH_WEIGHTS[year][month - 1]
        else:
            levels[year, month] = LATER_MONTH_LEVEL * rng.lognormvariate(0, 0.3)
    return levels


def _day_weights(seed: int, days: Sequence[datetime.date]) -> list[float]:
    """How much happens each day: the month's level, day-to-day noise, the last days of the
    offensive before the ceasefire, and a few bursts of escalation a year that fade over days."""
    rng = _rng(seed, "days")
    levels = _month_levels(rng, days)
    weights = []
    for day in days:
        weight = levels[day.year, day.month] / calendar.monthrange(day.year, day.month)[1]
        if (day.year, day.month) == (2020, 3):
            weight *= 6 if day < demo.CEASEFIRE_DAY else 0.6
        weights.append(weight * rng.lognormvariate(0, 0.35))
    bursts = max(1, round(len(days) / 365 * BURSTS_PER_YEAR))
    for _ in range(bursts):
        start = rng.randrange(len(days))
        length = rng.randint(2, 10)
        peak = rng.uniform(3, 12)
        for k in range(length):
            if start + k < len(days):
                weights[start + k] *= 1 + (peak - 1) * math.exp(-2 * k / length)
    return weights


def _apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` exactly (largest remainders)."""
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [math.floor(s) for s in shares]
    short = total - sum(counts)
    by_remainder = sorted(range(len(shares)), key=lambda i: (counts[i] - shares[i], i))
    for i in by_remainder[:short]:
        counts[i] += 1
    return counts


def _weighted_arrays(weights: dict[str, float]) -> tuple[list[str], list[float], float]:
    """Values, lower bounds and total of a weighted choice, for width_bucket() in SQL."""
    values, lows, total = [], [], 0.0
    for value, weight in weights.items():
        if weight > 0:
            values.append(str(value))
            lows.append(total)
            total += weight
    return values, lows, total


def _pg_array(values: Sequence[float]) -> str:
    return "{" + ",".join(repr(float(v)) for v in values) + "}"


def _draw_tables_create(*, seed: int, end_day: datetime.date) -> _DrawTables:
    """Fill the temporary tables the draw reads: places with their weights, the sub-event types
    by area group, and what each sub-event type looks like (weapons, targets, harm, text)."""
    rng = _rng(seed, "places")
    places = demo._places_by_area()
    rows, lows, total, idx = [], [], 0.0, 0
    for area, found in places.items():
        share = demo.AREA_SHARES[area] / len(found)
        for place in found:
            # A few towns take far more reports than their neighbours (front-line towns).
            weight = share * rng.lognormvariate(0, 1.0)
            idx += 1
            rows.append(
                {
                    "idx": idx,
                    "locality_id": place.id,
                    "place_name": place.name_en or place.name_ar,
                    "place_ar": place.name_ar or place.name_en,
                    "lon": place.lon,
                    "lat": place.lat,
                    "area": area,
                    "grp": "front" if area in demo.FRONT else area,
                }
            )
            lows.append(total)
            total += weight

    sub_types = {s.slug: s for s in SubEventType.objects.all()}
    group_rows = []
    for grp in ("front", "north", "aleppo", "other"):
        slugs, type_lows, type_total = _weighted_arrays(
            {slug: by_area[grp] for slug, by_area, _, _ in demo.INCIDENT_TYPES if slug in sub_types}
        )
        group_rows.append(
            {
                "grp": grp,
                "sub_ids": [sub_types[slug].pk for slug in slugs],
                "lows": type_lows,
                "total": type_total,
            }
        )
    type_rows = []
    for slug, _, weapons, targets in demo.INCIDENT_TYPES:
        if slug not in sub_types:
            continue
        row: dict[str, Any] = {
            "sub_id": sub_types[slug].pk,
            "event_type_id": sub_types[slug].event_type_id,
            "observed": slug in EXPLOSIVE or slug in (SHELLING, "armed-clash"),
            "explosions": 1 if slug == SHELLING else 2 if slug in EXPLOSIVE else 0,
            "texts_en": demo.TEXT_EN[slug],
            "texts_ar": demo.TEXT_AR[slug],
        }
        for prefix, table in (
            ("weapon", weapons),
            ("target", targets),
            ("perp", demo.PERPETRATORS[slug]),
            ("perp_aleppo", demo.PERPETRATORS_ALEPPO.get(slug, {})),
        ):
            values, value_lows, value_total = _weighted_arrays(table)
            column = "perps_aleppo" if prefix == "perp_aleppo" else f"{prefix}s"
            row[column] = values or None
            row[f"{prefix}_lows"] = value_lows or None
            row[f"{prefix}_total"] = value_total
        for column, (chance, most) in zip(
            ("kc", "ic", "kk", "ik"), HARM.get(slug, ((0, 1),) * 4), strict=True
        ):
            row[f"{column}_p"] = chance
            row[f"{column}_max"] = most
        type_rows.append(row)

    with connection.cursor() as cursor:
        cursor.execute(
            """
            DROP TABLE IF EXISTS bench_places, bench_group_types, bench_subtypes, bench_batch;
            CREATE TEMP TABLE bench_places (
                idx int PRIMARY KEY, locality_id bigint, place_name text, place_ar text,
                lon float8, lat float8, area text, grp text);
            CREATE TEMP TABLE bench_group_types (
                grp text PRIMARY KEY, sub_ids bigint[], lows float8[], total float8);
            CREATE TEMP TABLE bench_subtypes (
                sub_id bigint PRIMARY KEY, event_type_id bigint, observed boolean,
                explosions int, texts_en text[], texts_ar text[],
                weapons text[], weapon_lows float8[], weapon_total float8,
                targets text[], target_lows float8[], target_total float8,
                perps text[], perp_lows float8[], perp_total float8,
                perps_aleppo text[], perp_aleppo_lows float8[], perp_aleppo_total float8,
                kc_p float8, kc_max int, ic_p float8, ic_max int,
                kk_p float8, kk_max int, ik_p float8, ik_max int);
            """
        )
        for table, data in (
            ("bench_places", rows),
            ("bench_group_types", group_rows),
            ("bench_subtypes", type_rows),
        ):
            cursor.execute(
                f"INSERT INTO {table} SELECT * FROM json_populate_recordset(NULL::{table}, %s)",  # noqa: S608 (constant names)  # nosec B608
                [json.dumps(data, ensure_ascii=False)],
            )
            cursor.execute(f"ANALYZE {table}")

    days = _days(FIRST_DAY, end_day)
    return _DrawTables(
        place_lows=_pg_array(lows),
        place_total=total,
        day_weight=dict(zip(days, _day_weights(seed, days), strict=True)),
    )


def _batch_draw(
    cursor, *, tables: _DrawTables, days: Sequence[datetime.date], counts: Sequence[int]
) -> None:
    methods, method_lows, method_total = _weighted_arrays(OBSERVATION_METHODS)
    _, hour_lows, hour_total = _weighted_arrays(
        {str(hour): w for hour, w in enumerate(demo.HOUR_WEIGHTS)}
    )
    cursor.execute("DROP TABLE IF EXISTS bench_batch")
    cursor.execute(
        INCIDENTS_DRAW_SQL,
        {
            "days": [day.isoformat() for day in days],
            "counts": list(counts),
            "place_lows": tables.place_lows,
            "place_total": tables.place_total,
            "methods": methods,
            "method_lows": _pg_array(method_lows),
            "method_total": method_total,
            "directions": demo.DIRECTIONS,
            "details": demo.TARGET_DETAILS,
            "reasons": REJECT_REASONS,
            "hour_lows": _pg_array(hour_lows),
            "hour_total": hour_total,
            "max_offset": float(demo.MAX_OFFSET_M),
            "backlog_from": max(tables.day_weight) - datetime.timedelta(days=BACKLOG_DAYS),
            "mark": demo.MARK,
            "tz": LOCAL_TZ,
        },
    )


def _batches(
    days: Sequence[datetime.date], counts: Sequence[int], batch_rows: int
) -> list[tuple[list[datetime.date], list[int]]]:
    """Consecutive runs of days holding about batch_rows reports each (time order is kept)."""
    batches: list[tuple[list[datetime.date], list[int]]] = []
    current_days: list[datetime.date] = []
    current_counts: list[int] = []
    for day, n in zip(days, counts, strict=True):
        if n == 0:
            continue
        current_days.append(day)
        current_counts.append(n)
        if sum(current_counts) >= batch_rows:
            batches.append((current_days, current_counts))
            current_days, current_counts = [], []
    if current_days:
        batches.append((current_days, current_counts))
    return batches


def _incidents_generate(
    *,
    count: int,
    seed: int,
    end_day: datetime.date,
    batch_rows: int,
    report: BenchReport,
    say: Callable[[str], None],
) -> None:
    tables = _draw_tables_create(seed=seed, end_day=end_day)
    days = list(tables.day_weight)
    counts = _apportion(count, list(tables.day_weight.values()))
    batches = _batches(days, counts, batch_rows)
    for number, (batch_days, batch_counts) in enumerate(batches, start=1):
        mark = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            # JIT compiling these statements costs more than it saves (~0.4 s each).
            cursor.execute("SET LOCAL jit = off")
            cursor.execute("SELECT setseed(%s)", [_seed_fraction(seed, f"batch:{number}")])
            _batch_draw(cursor, tables=tables, days=batch_days, counts=batch_counts)
            cursor.execute(INCIDENTS_INSERT_SQL, {"source": BENCH_SOURCE})
            ids = cursor.fetchone()[0]
            cursor.execute("DROP TABLE bench_batch")
            cursor.execute("ANALYZE incidents_incident")
            inserted = time.perf_counter()
            incident_zones_assign(ids=ids)
            cursor.execute(MOVE_TO_LOCALITY_SQL, {"ids": ids})
            moved = [row[0] for row in cursor.fetchall()]
            if moved:
                incident_zones_assign(ids=moved)
            cursor.execute(BATCH_SUMMARY_SQL, {"ids": ids})
            in_corridor, without_subdistrict = cursor.fetchone()
        report.incidents += len(ids)
        report.moved_to_locality += len(moved)
        report.in_corridor += in_corridor
        report.without_subdistrict += without_subdistrict
        done = time.perf_counter()
        say(
            f"incidents: batch {number}/{len(batches)} "
            f"{batch_days[0]:%Y-%m-%d}..{batch_days[-1]:%Y-%m-%d}: {len(ids)} rows, "
            f"inserted in {inserted - mark:.1f} s, zones in {done - inserted:.1f} s "
            f"({report.incidents}/{count})"
        )


# --- patrols -----------------------------------------------------------------------------------


def _patrols_generate(
    *, count: int, seed: int, end_day: datetime.date, report: BenchReport
) -> None:
    route = Route.objects.get(slug=PATROL_ROUTE_SLUG)
    first = demo.FIRST_PATROL_DAY
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT setseed(%s)", [_seed_fraction(seed, "patrols")])
        cursor.execute("DROP TABLE IF EXISTS bench_patrol_batch")
        cursor.execute(
            PATROLS_DRAW_SQL,
            {
                "route": PATROL_ROUTE_SLUG,
                "first_day": first,
                "span": (end_day - first).days + 1,
                "count": count,
                "full_from": demo.FIRST_FULL_PATROL_DAY,
                "tz": LOCAL_TZ,
            },
        )
        text = {
            "mark": PATROL_MARK,
            "forces_text": json.dumps({str(k): v for k, v in demo.FORCES_TEXT.items()}),
            "event_short": json.dumps({str(k): v for k, v in demo.EVENT_SHORT.items()}),
            "event_text": json.dumps({str(k): v for k, v in demo.EVENT_TEXT.items()}),
            "cancel_reasons": demo.CANCEL_REASONS,
            "route_id": route.pk,
        }
        cursor.execute(PATROLS_INSERT_SQL, text)
        cursor.execute(PATROL_EVENTS_INSERT_SQL, text)
        report.patrol_events += cursor.rowcount
        cursor.execute("SELECT status, count(*) FROM bench_patrol_batch GROUP BY status")
        report.patrols.update(dict(cursor.fetchall()))
        cursor.execute("DROP TABLE bench_patrol_batch")
