"""Shared pieces of the statistics tests: random incident activity and the independent check."""

import datetime
import random
import uuid

from django.contrib.gis.geos import Point
from django.db import connection

from incidents.models import Incident, ReviewStatus, SubEventType
from incidents.services import incident_delete, incident_review, incident_submit
from zones.models import Locality

# The expected numbers, written independently of stats/: one plain GROUP BY per zone kind.
EXPECTED_SQL = """
SELECT zone_id, day, sub_event_type_id, review_status,
       count(*), sum(killed), sum(injured)
FROM (
    SELECT z.zone_id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date AS day,
           i.sub_event_type_id, i.review_status,
           i.killed_civilians + i.killed_combatants AS killed,
           i.injured_civilians + i.injured_combatants AS injured
    FROM incidents_incident i,
         LATERAL (VALUES (i.governorate_id), (i.district_id), (i.subdistrict_id)) AS z(zone_id)
    WHERE i.deleted_at IS NULL AND z.zone_id IS NOT NULL
    UNION ALL
    SELECT c.id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date,
           i.sub_event_type_id, i.review_status,
           i.killed_civilians + i.killed_combatants, i.injured_civilians + i.injured_combatants
    FROM incidents_incident i JOIN zones_zone c ON c.kind = 'security_corridor'
    WHERE i.deleted_at IS NULL AND i.in_corridor
) t
GROUP BY 1, 2, 3, 4
ORDER BY 1, 2, 3, 4
"""

ACTUAL_SQL = """
SELECT zone_id, day, sub_event_type_id, review_status, incidents, killed, injured
FROM stats_zonedaystat ORDER BY 1, 2, 3, 4
"""


# The grid statistics, written independently too: verified incidents by their grid points' zones.
EXPECTED_GRID_SQL = """
SELECT zone_id, day, sub_event_type_id, count(*), sum(killed), sum(injured)
FROM (
    SELECT z.zone_id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date AS day,
           i.sub_event_type_id,
           i.killed_civilians + i.killed_combatants AS killed,
           i.injured_civilians + i.injured_combatants AS injured
    FROM incidents_incident i,
         LATERAL (VALUES (i.coarse_governorate_id), (i.coarse_district_id),
                         (i.coarse_subdistrict_id)) AS z(zone_id)
    WHERE i.deleted_at IS NULL AND i.review_status = 'verified' AND z.zone_id IS NOT NULL
    UNION ALL
    SELECT c.id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date, i.sub_event_type_id,
           i.killed_civilians + i.killed_combatants, i.injured_civilians + i.injured_combatants
    FROM incidents_incident i JOIN zones_zone c ON c.kind = 'security_corridor'
    WHERE i.deleted_at IS NULL AND i.review_status = 'verified' AND i.coarse_in_corridor
) t
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
"""

ACTUAL_GRID_SQL = """
SELECT zone_id, day, sub_event_type_id, incidents, killed, injured
FROM stats_zonedaygridstat ORDER BY 1, 2, 3
"""


def rows(sql: str) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]


def expected() -> list[tuple]:
    return rows(EXPECTED_SQL)


def actual() -> list[tuple]:
    return rows(ACTUAL_SQL)


def expected_grid() -> list[tuple]:
    return rows(EXPECTED_GRID_SQL)


def actual_grid() -> list[tuple]:
    return rows(ACTUAL_GRID_SQL)


def random_activity(rng: random.Random, *, reporter, analyst, creates: int = 60) -> list[Incident]:
    """Create, edit, review and delete incidents across many zones and days."""
    localities = list(Locality.objects.order_by("?")[:40].values_list("location", flat=True))
    sub_types = list(SubEventType.objects.select_related("event_type"))
    made = []
    base = datetime.datetime(2021, 3, 1, 12, tzinfo=datetime.UTC)
    for _ in range(creates):
        point = rng.choice(localities)
        sub = rng.choice(sub_types)
        data = {
            "occurred_at": base + datetime.timedelta(hours=rng.randrange(0, 24 * 20)),
            "location": Point(point.x, point.y, srid=4326),
            "event_type": sub.event_type,
            "sub_event_type": sub,
            "killed_civilians": rng.choice([0, 0, 0, 1, 2]),
            "injured_civilians": rng.choice([0, 0, 1, 3]),
            "killed_combatants": rng.choice([0, 0, 1]),
        }
        made.append(
            incident_submit(reporter=reporter, client_uuid=uuid.uuid4(), data=data).incident
        )
    for incident in rng.sample(made, creates // 3):
        incident_review(incident=incident, reviewer=analyst, status=ReviewStatus.VERIFIED)
    for incident in rng.sample(made, creates // 4):
        # Move in time (another day bucket) and change casualties; saved through the ORM.
        incident.refresh_from_db()
        incident.occurred_at -= datetime.timedelta(days=rng.randrange(1, 5))
        incident.injured_civilians += 1
        incident.save()
    for incident in rng.sample(made, creates // 6):
        incident_delete(incident=incident, user=analyst)
    for incident in rng.sample(made, creates // 10):
        Incident.all_objects.filter(pk=incident.pk).delete()
    return made
