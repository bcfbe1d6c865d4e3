"""Recompute zone statistics: set-based, from the incidents themselves, never by increments.

Every recomputation takes one transaction-level advisory lock, so two runs (a task sent twice, the
reconciler and a task at once, a full rebuild) follow each other: the later one reads after the
earlier one committed, and the numbers are the same however often and however concurrently the
work runs.
"""

from __future__ import annotations

from django.db import connection, transaction

STATS_LOCK_KEY = 72_400_001

# Buckets claimed from the outbox are recomputed from the incidents of that zone and local day,
# using the stored zone columns and the (zone column, occurred_at) indexes: the exact statistics
# by the exact point's zones, the grid statistics (verified incidents only) by the grid point's.
RECOMPUTE_CLAIMED_SQL = """
WITH claimed AS (
    DELETE FROM stats_statsoutbox RETURNING zone_id, day
),
buckets AS (
    SELECT DISTINCT c.zone_id, c.day, z.kind
    FROM claimed c JOIN zones_zone z ON z.id = c.zone_id
),
grid_fresh AS (
    SELECT b.zone_id, b.day, i.sub_event_type_id,
           count(*) AS incidents,
           sum(i.killed_civilians + i.killed_combatants) AS killed,
           sum(i.injured_civilians + i.injured_combatants) AS injured
    FROM buckets b
    JOIN incidents_incident i
      ON i.deleted_at IS NULL AND i.review_status = 'verified'
     AND i.occurred_at >= (b.day::timestamp AT TIME ZONE 'Asia/Damascus')
     AND i.occurred_at < ((b.day + 1)::timestamp AT TIME ZONE 'Asia/Damascus')
     AND CASE b.kind
             WHEN 'governorate' THEN i.coarse_governorate_id = b.zone_id
             WHEN 'district' THEN i.coarse_district_id = b.zone_id
             WHEN 'subdistrict' THEN i.coarse_subdistrict_id = b.zone_id
             WHEN 'security_corridor' THEN i.coarse_in_corridor
             ELSE false
         END
    GROUP BY b.zone_id, b.day, i.sub_event_type_id
),
grid_removed AS (
    DELETE FROM stats_zonedaygridstat s USING buckets b
    WHERE s.zone_id = b.zone_id AND s.day = b.day
      AND NOT EXISTS (
          SELECT 1 FROM grid_fresh f
          WHERE f.zone_id = s.zone_id AND f.day = s.day
            AND f.sub_event_type_id = s.sub_event_type_id
      )
),
grid_written AS (
    INSERT INTO stats_zonedaygridstat
        (zone_id, day, sub_event_type_id, incidents, killed, injured)
    SELECT zone_id, day, sub_event_type_id, incidents, killed, injured FROM grid_fresh
    ON CONFLICT (zone_id, day, sub_event_type_id) DO UPDATE
    SET incidents = EXCLUDED.incidents, killed = EXCLUDED.killed, injured = EXCLUDED.injured
),
fresh AS (
    SELECT b.zone_id, b.day, i.sub_event_type_id, i.review_status,
           count(*) AS incidents,
           sum(i.killed_civilians + i.killed_combatants) AS killed,
           sum(i.injured_civilians + i.injured_combatants) AS injured
    FROM buckets b
    JOIN incidents_incident i
      ON i.deleted_at IS NULL
     AND i.occurred_at >= (b.day::timestamp AT TIME ZONE 'Asia/Damascus')
     AND i.occurred_at < ((b.day + 1)::timestamp AT TIME ZONE 'Asia/Damascus')
     AND CASE b.kind
             WHEN 'governorate' THEN i.governorate_id = b.zone_id
             WHEN 'district' THEN i.district_id = b.zone_id
             WHEN 'subdistrict' THEN i.subdistrict_id = b.zone_id
             WHEN 'security_corridor' THEN i.in_corridor
             ELSE false
         END
    GROUP BY b.zone_id, b.day, i.sub_event_type_id, i.review_status
),
removed AS (
    -- Rows of these buckets that no incident backs any more (the others are upserted below;
    -- deleting and re-inserting the same key in one statement would collide).
    DELETE FROM stats_zonedaystat s USING buckets b
    WHERE s.zone_id = b.zone_id AND s.day = b.day
      AND NOT EXISTS (
          SELECT 1 FROM fresh f
          WHERE f.zone_id = s.zone_id AND f.day = s.day
            AND f.sub_event_type_id = s.sub_event_type_id AND f.review_status = s.review_status
      )
)
INSERT INTO stats_zonedaystat
    (zone_id, day, sub_event_type_id, review_status, incidents, killed, injured)
SELECT zone_id, day, sub_event_type_id, review_status, incidents, killed, injured FROM fresh
ON CONFLICT (zone_id, day, sub_event_type_id, review_status) DO UPDATE
SET incidents = EXCLUDED.incidents, killed = EXCLUDED.killed, injured = EXCLUDED.injured
"""

# The whole table from scratch: one GROUP BY over every incident and the zones it belongs to.
REBUILD_SQL = """
INSERT INTO stats_zonedaystat
    (zone_id, day, sub_event_type_id, review_status, incidents, killed, injured)
SELECT b.zone_id, b.day, i.sub_event_type_id, i.review_status,
       count(*),
       sum(i.killed_civilians + i.killed_combatants),
       sum(i.injured_civilians + i.injured_combatants)
FROM incidents_incident i
CROSS JOIN LATERAL stats_buckets(
    i.governorate_id, i.district_id, i.subdistrict_id, i.in_corridor, i.occurred_at) b
WHERE i.deleted_at IS NULL
GROUP BY b.zone_id, b.day, i.sub_event_type_id, i.review_status
"""


# The grid statistics from scratch: verified incidents by the zones of their grid points.
GRID_REBUILD_SQL = """
INSERT INTO stats_zonedaygridstat
    (zone_id, day, sub_event_type_id, incidents, killed, injured)
SELECT b.zone_id, b.day, i.sub_event_type_id,
       count(*),
       sum(i.killed_civilians + i.killed_combatants),
       sum(i.injured_civilians + i.injured_combatants)
FROM incidents_incident i
CROSS JOIN LATERAL stats_buckets(
    i.coarse_governorate_id, i.coarse_district_id, i.coarse_subdistrict_id,
    i.coarse_in_corridor, i.occurred_at) b
WHERE i.deleted_at IS NULL AND i.review_status = 'verified'
GROUP BY b.zone_id, b.day, i.sub_event_type_id
"""


def _lock(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [STATS_LOCK_KEY])


def stats_recompute_pending() -> int:
    """Recompute every (zone, day) waiting in the outbox. Returns the rows written.

    A drain touches a few hundred buckets, but the planner cannot know how many (the outbox's
    statistics lag, more so where autovacuum is off): left alone it may JIT-compile the statement
    (0.4 s for a 0.1 s query) or merge-join the whole statistics table. Index lookups per bucket
    are right for any realistic drain, so the statement runs with those choices set.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL enable_mergejoin = off")
        cursor.execute(RECOMPUTE_CLAIMED_SQL)
        return cursor.rowcount


def stats_rebuild() -> int:
    """Recompute everything: empty the tables and the outbox, then one GROUP BY each (the
    exact statistics, then the grid statistics). Returns the exact statistics' rows.

    TRUNCATE rather than DELETE: a rebuild replaces every row, and TRUNCATE leaves no dead rows
    behind. It locks the table against readers until the rebuild commits (seconds at a million
    incidents), which suits an operation run by hand or after an import; the keys are dropped
    and built again after the load, in the same transaction.
    """
    with transaction.atomic(), connection.cursor() as cursor:
        _lock(cursor)
        cursor.execute("DELETE FROM stats_statsoutbox")
        cursor.execute("TRUNCATE stats_zonedaystat, stats_zonedaygridstat")
        # Loading first and indexing after is a third faster than keeping the primary key and
        # the bucket key's indexes up to date row by row; the definitions come from the catalog.
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'stats_zonedaystat'::regclass AND contype IN ('p', 'u') "
            "ORDER BY contype"
        )
        keys = cursor.fetchall()
        for name, _definition in keys:
            cursor.execute(
                f"ALTER TABLE stats_zonedaystat DROP CONSTRAINT {connection.ops.quote_name(name)}"
            )
        cursor.execute(REBUILD_SQL)
        rows = cursor.rowcount
        for name, definition in keys:
            cursor.execute(
                f"ALTER TABLE stats_zonedaystat ADD CONSTRAINT "
                f"{connection.ops.quote_name(name)} {definition}"
            )
        cursor.execute(GRID_REBUILD_SQL)
        return rows


def stats_pending_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM stats_statsoutbox")
        return cursor.fetchone()[0]
