"""Fill the statistics outbox from PostgreSQL, in the same transaction as every incident write.

Statement-level triggers with transition tables queue each (zone, day) touched by a statement,
once, whatever wrote it: a bulk import of a million rows queues its buckets in one INSERT ...
SELECT, not a million row triggers.
"""

from django.db import migrations

FORWARD = r"""
CREATE OR REPLACE FUNCTION stats_buckets(
    gov bigint, dist bigint, sub bigint, corridor boolean, occurred timestamptz
) RETURNS TABLE (zone_id bigint, day date) LANGUAGE sql STABLE AS $$
    SELECT z, (occurred AT TIME ZONE 'Asia/Damascus')::date
    FROM unnest(ARRAY[gov, dist, sub]) AS z
    WHERE z IS NOT NULL
    UNION ALL
    SELECT c.id, (occurred AT TIME ZONE 'Asia/Damascus')::date
    FROM zones_zone c
    WHERE corridor AND c.kind = 'security_corridor'
$$;

CREATE OR REPLACE FUNCTION stats_queue_incident_changes() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO stats_statsoutbox (zone_id, day, queued_at)
        SELECT DISTINCT b.zone_id, b.day, now()
        FROM new_rows n
        CROSS JOIN LATERAL stats_buckets(
            n.governorate_id, n.district_id, n.subdistrict_id, n.in_corridor, n.occurred_at) b
        WHERE n.deleted_at IS NULL;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO stats_statsoutbox (zone_id, day, queued_at)
        SELECT DISTINCT b.zone_id, b.day, now()
        FROM old_rows o
        CROSS JOIN LATERAL stats_buckets(
            o.governorate_id, o.district_id, o.subdistrict_id, o.in_corridor, o.occurred_at) b;
    ELSE
        -- Only rows whose counted content changed: editing a description queues nothing.
        INSERT INTO stats_statsoutbox (zone_id, day, queued_at)
        SELECT DISTINCT b.zone_id, b.day, now()
        FROM old_rows o
        JOIN new_rows n ON n.id = o.id
        CROSS JOIN LATERAL (
            SELECT * FROM stats_buckets(
                o.governorate_id, o.district_id, o.subdistrict_id, o.in_corridor, o.occurred_at)
            UNION
            SELECT * FROM stats_buckets(
                n.governorate_id, n.district_id, n.subdistrict_id, n.in_corridor, n.occurred_at)
        ) b
        WHERE (o.occurred_at, o.governorate_id, o.district_id, o.subdistrict_id, o.in_corridor,
               o.sub_event_type_id, o.review_status, o.killed_civilians, o.killed_combatants,
               o.injured_civilians, o.injured_combatants, o.deleted_at)
              IS DISTINCT FROM
              (n.occurred_at, n.governorate_id, n.district_id, n.subdistrict_id, n.in_corridor,
               n.sub_event_type_id, n.review_status, n.killed_civilians, n.killed_combatants,
               n.injured_civilians, n.injured_combatants, n.deleted_at);
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER stats_incident_insert AFTER INSERT ON incidents_incident
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_queue_incident_changes();
CREATE TRIGGER stats_incident_update AFTER UPDATE ON incidents_incident
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_queue_incident_changes();
CREATE TRIGGER stats_incident_delete AFTER DELETE ON incidents_incident
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION stats_queue_incident_changes();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS stats_incident_insert ON incidents_incident;
DROP TRIGGER IF EXISTS stats_incident_update ON incidents_incident;
DROP TRIGGER IF EXISTS stats_incident_delete ON incidents_incident;
DROP FUNCTION IF EXISTS stats_queue_incident_changes();
DROP FUNCTION IF EXISTS stats_buckets(bigint, bigint, bigint, boolean, timestamptz);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
        ("incidents", "0003_soft_delete_coarse_location_search"),
        ("zones", "0001_initial"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
