"""The incident list as GeoJSON, built by PostgreSQL (json_build_object, json_agg): object-by-
object serialization was the bottleneck of 5,000-feature pages.

The output is the same as IncidentGeoSerializer's, field for field and role for role (tested
against it): partners get the grid view of incidents.disclosure (the grid location with 4
decimals, the grid point's zones, the gazetteer's place name, the approved summary as the
description) and no exact-only, reporter-only or staff fields; reporters no staff fields. Dates
are in the site's time zone as DRF writes them.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection

from accounts.roles import Role
from incidents.api.serializers import ALL_FIELDS, GRID_FIELDS, STAFF_FIELDS
from incidents.disclosure import GRID_PLACE_NAME_SQL, GRID_SOURCES
from incidents.models import COARSE_GRID_DEGREES


def _datetime(column: str) -> str:
    """As DRF's DateTimeField writes it: ISO 8601 in the site's time zone, microseconds only when
    there are any, "Z" for a zero offset. The zone is named in the SQL, never set on the session
    (a SET LOCAL would outlive this statement inside an outer transaction)."""
    local = f"({column} AT TIME ZONE %(tz)s)"
    offset = f"({local} - ({column} AT TIME ZONE 'UTC'))"
    return (
        f"CASE WHEN {column} IS NULL THEN NULL ELSE "
        f"to_char({local}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN mod(date_part('microseconds', {column})::bigint, 1000000) = 0 THEN '' "
        f"ELSE to_char({local}, '.US') END "
        f"|| CASE WHEN {offset} = interval '0' THEN 'Z' "
        f"WHEN {offset} < interval '0' THEN '-' || to_char(-{offset}, 'HH24:MI') "
        f"ELSE '+' || to_char({offset}, 'HH24:MI') END END"
    )


# Each property's SQL over the aliases of FEATURES_SQL below.
PROPERTY_SQL = {
    "occurred_at": _datetime("i.occurred_at"),
    "time_precision": "i.time_precision",
    "location_precision": "i.location_precision",
    "place_name": "i.place_name",
    "event_type": "et.slug",
    "event_type_name": "et.name",
    "sub_event_type": "st.slug",
    "sub_event_type_name": "st.name",
    "weapon": "i.weapon",
    "observation_method": "i.observation_method",
    "explosions_count": "i.explosions_count",
    "direction": "i.direction",
    "distance_estimate_m": "i.distance_estimate_m",
    "perpetrator_side": "i.perpetrator_side",
    "target": "i.target",
    "target_description": "i.target_description",
    "killed_civilians": "i.killed_civilians",
    "killed_combatants": "i.killed_combatants",
    "injured_civilians": "i.injured_civilians",
    "injured_combatants": "i.injured_combatants",
    "description": "i.description",
    "public_summary": "i.public_summary",
    "sources": "to_json(i.sources)",
    "review_status": "i.review_status",
    "duplicate_of": "dup.client_uuid",
    "governorate": "gov.pcode",
    "district": "dis.pcode",
    "subdistrict": "sub.pcode",
    "in_corridor": "i.in_corridor",
    "is_synthetic": "i.is_synthetic",
    "created_at": _datetime("i.created_at"),
    "updated_at": _datetime("i.updated_at"),
    "distance_to_m4_m": "i.distance_to_m4_m",
    "review_note": "i.review_note",
    "reporter": "rep.username",
    "reviewed_by": "rev.username",
    "reviewed_at": _datetime("i.reviewed_at"),
    "location_grid_degrees": repr(float(COARSE_GRID_DEGREES)),
}
assert set(PROPERTY_SQL) == set(ALL_FIELDS) - {"id", "location"}

# What the grid view (incidents.disclosure) reads in place of each field, over the same aliases.
GRID_PROPERTY_SQL = {
    "governorate": "cgov.pcode",
    "district": "cdis.pcode",
    "subdistrict": "csub.pcode",
    "in_corridor": "i.coarse_in_corridor",
    "place_name": GRID_PLACE_NAME_SQL,
    "description": "i.public_summary",
}
GRID_LOCATION_SQL = f"i.{GRID_SOURCES['location']}"
assert set(GRID_PROPERTY_SQL) == set(GRID_SOURCES) - {"location"}

FEATURES_SQL = """
SELECT coalesce(json_agg(f.feature ORDER BY f.ord), '[]'::json)::text
FROM (
    SELECT u.ord, json_build_object(
        'id', i.client_uuid,
        'type', 'Feature',
        'geometry', json_build_object(
            'type', 'Point',
            'coordinates', json_build_array(
                round(ST_X({location})::numeric, {precision}),
                round(ST_Y({location})::numeric, {precision}))),
        'properties', json_build_object({properties})
    ) AS feature
    FROM unnest(%(ids)s::bigint[]) WITH ORDINALITY AS u(id, ord)
    JOIN incidents_incident i ON i.id = u.id
    JOIN incidents_eventtype et ON et.id = i.event_type_id
    JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id
    LEFT JOIN zones_zone gov ON gov.id = i.governorate_id
    LEFT JOIN zones_zone dis ON dis.id = i.district_id
    LEFT JOIN zones_zone sub ON sub.id = i.subdistrict_id
    LEFT JOIN zones_zone cgov ON cgov.id = i.coarse_governorate_id
    LEFT JOIN zones_zone cdis ON cdis.id = i.coarse_district_id
    LEFT JOIN zones_zone csub ON csub.id = i.coarse_subdistrict_id
    LEFT JOIN zones_locality cloc ON cloc.id = i.coarse_locality_id
    LEFT JOIN incidents_incident dup ON dup.id = i.duplicate_of_id
    LEFT JOIN auth_user rep ON rep.id = i.reporter_id
    LEFT JOIN auth_user rev ON rev.id = i.reviewed_by_id
) f
"""


def _fields_for(role: Role | None) -> tuple[list[str], dict[str, str], str, int]:
    """The properties a role reads, their SQL, the location column and its precision (as
    RoleTrimmedMixin)."""
    if role in (Role.ANALYST, Role.ADMIN):
        drop = {"location_grid_degrees"}
        return [f for f in ALL_FIELDS if f not in drop], PROPERTY_SQL, "i.location", 6
    if role == Role.REPORTER:
        drop = {*STAFF_FIELDS, "location_grid_degrees"}
        return [f for f in ALL_FIELDS if f not in drop], PROPERTY_SQL, "i.location", 6
    return list(GRID_FIELDS), {**PROPERTY_SQL, **GRID_PROPERTY_SQL}, GRID_LOCATION_SQL, 4


def features_json(ids: list[int], role: Role | None) -> str:
    """The GeoJSON features of these incidents, in this order, as one JSON array's text."""
    fields, property_sql, location, precision = _fields_for(role)
    properties = ", ".join(
        f"'{name}', {property_sql[name]}" for name in fields if name not in ("id", "location")
    )
    sql = FEATURES_SQL.format(location=location, precision=precision, properties=properties)
    with connection.cursor() as cursor:
        cursor.execute(sql, {"ids": ids, "tz": settings.TIME_ZONE})
        return cursor.fetchone()[0]
