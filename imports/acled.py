"""The ACLED CSV format as the import reads it: the header, the staging table, and the SQL that
checks the rows and turns them into incidents.

The import is the inverse of the ACLED export (incidents.exports.acled_csv), so a file exported
here imports back to the same values:

- `event_date` (2020-03-06, or ACLED's older "06 March 2020") becomes midnight of that day in the
  project's time zone; `time_precision` 1/2/3 becomes day/week/month and `geo_precision` 1/2/3
  town/near a town/larger region (empty means 1).
- `fatalities`: ACLED does not split civilians from combatants. They are counted as civilians
  killed when `civilian_targeting` is set (ACLED sets it when civilians were the target), else as
  combatants killed. Injured stay 0 (ACLED does not count them).
- `actor1` gives the alleged perpetrator (our export's actor names, and ACLED's names for the
  Syrian, Russian and Turkish forces, HTS, the SNA and the SDF; anything else is "unknown").
- `tags` written by our export give back the weapon, the target and the synthetic mark; otherwise
  the target is "civilians" when `civilian_targeting` is set, else "unknown".
- `source` is split on ";" into the sources; `notes` is the description; `location` the place name.
  The apostrophe our exports put before text starting with = + - @ (spreadsheet formulas) is
  removed again.
- `event_id_cnty` is the incident's external id. Each imported incident gets a client UUID derived
  from it (an RFC 4122 name-based UUID, version 3, that PostgreSQL computes with md5), so importing
  again, anywhere, gives the same UUID. An id of our own export (`SYRCM-<uuid>`) keeps its UUID.

Every other column (year, actor2, inter codes, admin names, iso, timestamp, ...) is ignored: zones
come from the point, computed as for incidents entered by hand.
"""

from __future__ import annotations

import csv
import re
import uuid
from dataclasses import dataclass

from django.utils.translation import gettext as _

from incidents.dates import earliest_occurred_at
from incidents.exports import ACLED_ACTORS, ACLED_ID_PREFIX, FORMULA_PREFIXES, TARGET_TAGS
from incidents.models import Side, Target, Weapon
from incidents.services import ZONE_COLUMNS as INCIDENT_ZONE_COLUMNS
from incidents.services import ZONES_OF_POINTS_SQL

# Columns the import cannot do without; the others may be missing (their defaults are used).
REQUIRED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "event_type",
    "sub_event_type",
    "latitude",
    "longitude",
)
OPTIONAL_COLUMNS = (
    "time_precision",
    "geo_precision",
    "location",
    "source",
    "notes",
    "fatalities",
    "actor1",
    "civilian_targeting",
    "tags",
)
MAX_COLUMNS = 500
MAX_HEADER_BYTES = 64 * 1024
EXTERNAL_ID_MAX_LENGTH = 64  # Incident.external_id
PLACE_NAME_MAX_LENGTH = 200  # Incident.place_name
SOURCE_MAX_LENGTH = 500  # each of Incident.sources

# The namespace of the client UUIDs of imported events: uuid3(ACLED_NAMESPACE, event_id_cnty).
ACLED_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://acleddata.com/data/event_id_cnty")
OWN_ID_RE = (
    "^" + re.escape(ACLED_ID_PREFIX) + "-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-"
    "[0-9a-f]{12})$"
)
# Decimal degrees, as ACLED writes them ("36.6096", "-0.5"); no exponents, no NaN or Infinity.
NUMBER_RE = r"^[-+]?([0-9]{1,3}(\.[0-9]{0,20})?|\.[0-9]{1,20})$"
COUNT_RE = r"^[0-9]{1,9}$"
ISO_DATE_RE = r"^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})$"
ISO_DATE_FAST_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
NAMED_DATE_RE = r"^([0-9]{1,2})[ -]([A-Za-z]{3,9})[ -]([0-9]{4})$"
MONTHS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]
FIRST_YEAR = 1900  # a year before this is a typing mistake, not a date
# Spreadsheet formula guard of our exports: an apostrophe before one of FORMULA_PREFIXES.
GUARD_RE = "^'[" + re.escape("".join(FORMULA_PREFIXES)) + "]"

# actor1 -> alleged perpetrator, first match wins (ILIKE patterns): our export's names exactly,
# then ACLED's names for the forces and groups of this area.
ACTOR_PATTERNS: list[tuple[str, str]] = [
    *(
        (name.replace("%", r"\%").replace("_", r"\_"), side)
        for side, (name, _inter) in ACLED_ACTORS.items()
    ),
    ("Military Forces of Syria%", Side.GOVERNMENT),
    ("Police Forces of Syria%", Side.GOVERNMENT),
    ("NDF: National Defense Forces%", Side.GOVERNMENT),
    ("Military Forces of Russia%", Side.RUSSIA),
    ("Wagner Group%", Side.RUSSIA),
    ("Military Forces of Turkey%", Side.TURKEY),
    ("%Tahrir al-Sham%", Side.HTS),
    ("HTS:%", Side.HTS),
    ("%Syrian National Army%", Side.SNA),
    ("%Syrian Democratic Forces%", Side.SDF),
    ("Unidentified Armed Group%", Side.UNKNOWN),
]
# "target: displacement camp" in our export's tags -> Target.CAMP, and so on.
TARGETS_BY_TAG = {tag: target for target, tag in TARGET_TAGS.items()}


class ImportFileError(Exception):
    """The file as a whole cannot be imported (not CSV, not UTF-8, required columns missing).
    The message is for the person who gave the file."""


@dataclass(frozen=True)
class Header:
    """The file's columns: `staging` are the staging table's column names, one per column of the
    file in order; `columns` maps each ACLED column the import reads to its staging column."""

    staging: tuple[str, ...]
    columns: dict[str, str]

    def expression(self, name: str) -> str:
        """SQL for the column's text in row `s`, or NULL when the file has no such column."""
        column = self.columns.get(name)
        return f"s.{column}" if column else "NULL::text"


def header_parse(first_line: bytes | str) -> Header:
    """Read the header line: ACLED's column names in any order, with extra columns ignored."""
    if isinstance(first_line, bytes):
        try:
            first_line = first_line.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                _("The file is not UTF-8 text. Save it as “CSV UTF-8” and try again.")
            ) from exc
    first_line = first_line.lstrip("\ufeff")
    if not first_line.strip():
        raise ImportFileError(_("The file is empty: the first line must name ACLED's columns."))
    if "\x00" in first_line:
        raise ImportFileError(_("This is not a CSV file."))
    names = [name.strip().lower() for name in next(csv.reader([first_line]), [])]
    if len(names) > MAX_COLUMNS:
        raise ImportFileError(
            _("The file has %(n)d columns; an ACLED file has about 30.") % {"n": len(names)}
        )
    missing = [name for name in REQUIRED_COLUMNS if name not in names]
    if missing:
        raise ImportFileError(
            _(
                "The file lacks ACLED's required columns: %(missing)s. The first line must name "
                "the columns (event_id_cnty, event_date, event_type, sub_event_type, latitude, "
                "longitude, ...), separated by commas."
            )
            % {"missing": ", ".join(missing)}
        )
    known = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
    repeated = sorted({name for name in names if name in known and names.count(name) > 1})
    if repeated:
        raise ImportFileError(
            _("These columns appear more than once: %(names)s.") % {"names": ", ".join(repeated)}
        )
    staging = tuple(f"c{number}" for number in range(1, len(names) + 1))
    columns = {name: staging[index] for index, name in enumerate(names) if name in known}
    return Header(staging=staging, columns=columns)


def staging_create_sql(header: Header) -> str:
    columns = ", ".join(f"{name} text" for name in header.staging)
    return (
        "CREATE TEMP TABLE acled_staging ("
        f"row_no bigint GENERATED ALWAYS AS IDENTITY, {columns}) ON COMMIT DROP"
    )


def copy_sql(header: Header) -> str:
    # The header line was read already; COPY reads the rest of the stream.
    return (
        f"COPY acled_staging ({', '.join(header.staging)}) FROM STDIN "
        "WITH (FORMAT csv, HEADER false, ENCODING 'UTF8')"
    )


# HDX's ACLED files carry HXL hashtags (#event+code, ...) as their second line.
def drop_hxl_row_sql(header: Header) -> str:
    event_id = header.expression("event_id_cnty")
    # Identifiers here are ours (c1, c2, ...), never the file's column names.
    return (
        "DELETE FROM acled_staging s "  # noqa: S608
        f"WHERE s.row_no = 1 AND left(btrim({event_id}), 1) = '#'"  # nosec B608
    )


def _unguard(expression: str) -> str:
    return (
        f"CASE WHEN {expression} ~ %(guard_re)s THEN substr({expression}, 2) ELSE {expression} END"
    )


def _utc_iso(expression: str) -> str:
    """A timestamptz as Python's isoformat() of the UTC time (incidents.history's JSON values)."""
    utc = f"({expression} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        f"|| CASE WHEN date_trunc('second', {utc}) <> {utc} THEN to_char({utc}, '.US') ELSE '' END "
        "|| '+00:00'"
    )


def snapshot_sql(alias: str, *, event_type_slug: str, sub_event_type_slug: str) -> str:
    """The tracked fields an import can change, as incidents.history.incident_snapshot writes
    them (ISO UTC times, [lon, lat] to 7 decimals, taxonomy slugs), for the change history."""
    a = alias
    return f"""jsonb_build_object(
        'occurred_at', {_utc_iso(f"{a}.occurred_at")},
        'time_precision', {a}.time_precision,
        'location', jsonb_build_array(
            round(ST_X({a}.location)::numeric, 7), round(ST_Y({a}.location)::numeric, 7)),
        'location_precision', {a}.location_precision,
        'place_name', {a}.place_name,
        'event_type', {event_type_slug},
        'sub_event_type', {sub_event_type_slug},
        'weapon', {a}.weapon,
        'perpetrator_side', {a}.perpetrator_side,
        'target', {a}.target,
        'killed_civilians', {a}.killed_civilians,
        'killed_combatants', {a}.killed_combatants,
        'description', {a}.description,
        'sources', to_jsonb({a}.sources),
        'is_synthetic', {a}.is_synthetic)"""


# The incident columns an import writes from the file; a row is "unchanged" when they all equal
# the stored incident's.
CONTENT_COLUMNS = (
    "occurred_at",
    "time_precision",
    "location",
    "location_precision",
    "place_name",
    "event_type_id",
    "sub_event_type_id",
    "weapon",
    "perpetrator_side",
    "target",
    "killed_civilians",
    "killed_combatants",
    "description",
    "sources",
    "is_synthetic",
)
# The zone columns (of the exact point and of the grid point), as the hand-entry SQL gives them.
ZONE_COLUMNS = tuple(INCIDENT_ZONE_COLUMNS)


def _content(alias: str) -> str:
    return "(" + ", ".join(f"{alias}.{column}" for column in CONTENT_COLUMNS) + ")"


def parse_sql(header: Header) -> str:
    """One statement reads every staged row into `acled_rows`: each value parsed (never cast
    where a cast could fail: the patterns are checked first), the incident's values built, and
    `reason` set to the first rule the row breaks (NULL for a row to import)."""
    col = header.expression
    unguarded_location = _unguard("btrim(b.location_text)")
    unguarded_notes = _unguard("btrim(b.notes_text)")
    unguarded_source = _unguard("b.source_text")
    # The SQL is built from constants and our own column names; every value is a parameter.
    return f"""
CREATE TEMP TABLE acled_rows ON COMMIT DROP AS
WITH raw AS (
    SELECT s.row_no,
           btrim({col("event_id_cnty")}) AS event_id,
           btrim({col("event_date")}) AS event_date_text,
           btrim({col("latitude")}) AS latitude_text,
           btrim({col("longitude")}) AS longitude_text,
           btrim({col("event_type")}) AS event_type_text,
           btrim({col("sub_event_type")}) AS sub_event_type_text,
           nullif(btrim({col("time_precision")}), '') AS time_precision_text,
           nullif(btrim({col("geo_precision")}), '') AS geo_precision_text,
           nullif(btrim({col("fatalities")}), '') AS fatalities_text,
           coalesce({col("location")}, '') AS location_text,
           coalesce({col("source")}, '') AS source_text,
           coalesce({col("notes")}, '') AS notes_text,
           coalesce(btrim({col("actor1")}), '') AS actor1_text,
           coalesce(btrim({col("civilian_targeting")}), '') AS civilian_targeting_text,
           coalesce({col("tags")}, '') AS tags_text
    FROM acled_staging s
),
last_rows AS (
    -- The last row of each event id (a hash aggregate: no sort of the wide rows).
    SELECT event_id, max(row_no) AS last_row_no FROM raw GROUP BY event_id
),
parsed AS (
    -- Each value is computed once per row in its own LATERAL (OFFSET 0 keeps the planner from
    -- copying the expression into every place that reads it).
    SELECT r.*,
           dt.event_date,
           dt.occurred_at,
           pt.location,
           f.fatalities,
           r.row_no < l.last_row_no AS is_duplicate,
           u.client_uuid,
           et.id AS event_type_id,
           et.slug AS event_type_slug,
           st.id AS sub_event_type_id,
           st.slug AS sub_event_type_slug,
           st.event_type_id AS sub_event_type_parent_id,
           cur.id AS current_id,
           cur.created_at AS current_created_at,
           cur.deleted_at AS current_deleted_at,
           CASE WHEN position('weapon: ' IN r.tags_text) > 0
                THEN (regexp_match(r.tags_text, 'weapon: ([a-z_]+)'))[1] END AS weapon_tag,
           CASE WHEN position('target: ' IN r.tags_text) > 0
                THEN btrim((regexp_match(r.tags_text, 'target: ([^;]+)'))[1]) END AS target_tag
    FROM raw r
    LEFT JOIN last_rows l ON l.event_id = r.event_id
    LEFT JOIN incidents_eventtype et ON lower(et.name) = lower(r.event_type_text)
    LEFT JOIN incidents_subeventtype st ON lower(st.name) = lower(r.sub_event_type_text)
    LEFT JOIN incidents_incident cur ON cur.external_id = r.event_id
    CROSS JOIN LATERAL (
        SELECT CASE WHEN x.fast THEN substr(r.event_date_text, 1, 4)::int
                    ELSE coalesce(x.iso[1], x.named[3])::int END AS y,
               CASE WHEN x.fast THEN substr(r.event_date_text, 6, 2)::int
                    ELSE coalesce(x.iso[2]::int,
                                  array_position(%(months)s::text[], lower(x.named[2])),
                                  array_position(%(month_abbreviations)s::text[],
                                                 lower(x.named[2]))) END AS m,
               CASE WHEN x.fast THEN substr(r.event_date_text, 9, 2)::int
                    ELSE coalesce(x.iso[3], x.named[1])::int END AS d
        FROM (
            -- regexp_match costs more than ~: only dates not written YYYY-MM-DD need it.
            SELECT fast,
                   CASE WHEN NOT fast THEN regexp_match(r.event_date_text, %(iso_date_re)s)
                   END AS iso,
                   CASE WHEN NOT fast THEN regexp_match(r.event_date_text, %(named_date_re)s)
                   END AS named
            FROM (SELECT coalesce(r.event_date_text ~ %(iso_date_fast_re)s, FALSE) AS fast
                  OFFSET 0) fast
            OFFSET 0
        ) x
        OFFSET 0
    ) ymd
    CROSS JOIN LATERAL (
        SELECT day AS event_date, (day::timestamp AT TIME ZONE %(time_zone)s) AS occurred_at
        FROM (
            SELECT CASE WHEN ymd.m BETWEEN 1 AND 12
                         AND ymd.y BETWEEN %(first_year)s AND 9999
                         AND ymd.d BETWEEN 1 AND CASE
                             WHEN ymd.m = 2 AND mod(ymd.y, 4) = 0
                                  AND (mod(ymd.y, 100) <> 0 OR mod(ymd.y, 400) = 0) THEN 29
                             WHEN ymd.m = 2 THEN 28
                             WHEN ymd.m IN (4, 6, 9, 11) THEN 30
                             ELSE 31 END
                        THEN make_date(ymd.y, ymd.m, ymd.d) END AS day
            OFFSET 0
        ) checked
        OFFSET 0
    ) dt
    CROSS JOIN LATERAL (
        SELECT CASE WHEN c.lat BETWEEN -90 AND 90 AND c.lon BETWEEN -180 AND 180
                    THEN ST_SetSRID(ST_MakePoint(c.lon, c.lat), 4326) END AS location
        FROM (
            SELECT CASE WHEN r.latitude_text ~ %(number_re)s
                        THEN r.latitude_text::float8 END AS lat,
                   CASE WHEN r.longitude_text ~ %(number_re)s
                        THEN r.longitude_text::float8 END AS lon
            OFFSET 0
        ) c
        OFFSET 0
    ) pt
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.fatalities_text IS NULL THEN 0
                    WHEN r.fatalities_text ~ %(count_re)s THEN r.fatalities_text::int
               END AS fatalities
        OFFSET 0
    ) f
    CROSS JOIN LATERAL (
        SELECT CASE WHEN r.event_id ~ %(own_id_re)s
                    THEN substr(r.event_id, %(own_id_start)s)::uuid
                    ELSE overlay(overlay(h PLACING '3' FROM 13 FOR 1)
                                 PLACING substr('89ab89ab89ab89ab',
                                                position(substr(h, 17, 1) IN '0123456789abcdef'),
                                                1)
                                 FROM 17 FOR 1)::uuid
               END AS client_uuid
        FROM (SELECT md5(%(namespace)s::bytea || convert_to(coalesce(r.event_id, ''), 'UTF8'))
                     AS h OFFSET 0) md
        OFFSET 0
    ) u
)
SELECT b.row_no,
       b.event_id,
       CASE
           WHEN b.event_id IS NULL OR b.event_id = '' THEN 'missing_id'
           WHEN length(b.event_id) > {EXTERNAL_ID_MAX_LENGTH} THEN 'id_too_long'
           WHEN b.is_duplicate THEN 'duplicate_id'
           WHEN b.event_date IS NULL THEN 'bad_date'
           WHEN b.occurred_at < %(earliest_occurred_at)s THEN 'early_date'
           WHEN b.event_date > %(today)s
                OR b.occurred_at > b.current_created_at + interval '10 minutes' THEN 'future_date'
           WHEN b.location IS NULL THEN 'bad_coordinates'
           WHEN NOT ST_Covers((SELECT ST_Union(z.geom) FROM zones_zone z
                               WHERE z.kind = 'governorate'), b.location) THEN 'outside_area'
           WHEN b.event_type_id IS NULL THEN 'unknown_event_type'
           WHEN b.sub_event_type_id IS NULL
                OR b.sub_event_type_parent_id <> b.event_type_id THEN 'unknown_sub_event_type'
           WHEN b.fatalities IS NULL THEN 'bad_fatalities'
           WHEN b.time_precision_text NOT IN ('1', '2', '3')
                OR b.geo_precision_text NOT IN ('1', '2', '3') THEN 'bad_precision'
           WHEN b.current_deleted_at IS NOT NULL THEN 'deleted'
           WHEN b.current_id IS NULL AND EXISTS (
                SELECT 1 FROM incidents_incident o WHERE o.client_uuid = b.client_uuid)
                THEN 'local_report'
       END AS reason,
       CASE
           WHEN b.event_date IS NULL OR b.event_date > %(today)s
                OR b.occurred_at < %(earliest_occurred_at)s THEN b.event_date_text
           ELSE concat_ws(', ', b.latitude_text, b.longitude_text)
       END AS where_when_text,
       b.event_type_text,
       b.sub_event_type_text,
       b.fatalities_text,
       concat_ws(', ', 'time_precision ' || b.time_precision_text,
                 'geo_precision ' || b.geo_precision_text) AS precision_text,
       b.current_id,
       b.client_uuid,
       b.occurred_at,
       CASE b.time_precision_text WHEN '2' THEN 'week' WHEN '3' THEN 'month' ELSE 'day' END
           AS time_precision,
       b.location,
       CASE b.geo_precision_text WHEN '2' THEN 'near_town' WHEN '3' THEN 'region' ELSE 'town' END
           AS location_precision,
       left({unguarded_location}, {PLACE_NAME_MAX_LENGTH}) AS place_name,
       b.event_type_id,
       b.event_type_slug,
       b.sub_event_type_id,
       b.sub_event_type_slug,
       CASE WHEN b.weapon_tag = ANY(%(weapons)s::text[]) THEN b.weapon_tag ELSE '' END AS weapon,
       coalesce((SELECT a.side FROM unnest(%(actor_patterns)s::text[], %(actor_sides)s::text[])
                     WITH ORDINALITY AS a(pattern, side, n)
                 WHERE b.actor1_text ILIKE a.pattern ORDER BY a.n LIMIT 1),
                %(unknown_side)s) AS perpetrator_side,
       coalesce((SELECT t.target FROM unnest(%(target_tags)s::text[], %(targets)s::text[])
                     AS t(tag, target) WHERE t.tag = b.target_tag),
                CASE WHEN b.civilian_targeting_text <> '' THEN %(civilians)s END,
                %(unknown_target)s) AS target,
       CASE WHEN b.civilian_targeting_text <> '' THEN b.fatalities ELSE 0 END AS killed_civilians,
       CASE WHEN b.civilian_targeting_text <> '' THEN 0 ELSE b.fatalities END AS killed_combatants,
       {unguarded_notes} AS description,
       ARRAY(SELECT left(btrim(part), {SOURCE_MAX_LENGTH})
             FROM unnest(string_to_array({unguarded_source}, ';'))
                  WITH ORDINALITY AS parts(part, n)
             WHERE btrim(part) <> '' ORDER BY n)::varchar({SOURCE_MAX_LENGTH})[] AS sources,
       position('synthetic demo data' IN b.tags_text) > 0 AS is_synthetic
FROM parsed b
"""  # noqa: S608  # nosec B608


def parse_params(*, today, time_zone: str) -> dict:
    return {
        "months": MONTHS,
        "month_abbreviations": [month[:3] for month in MONTHS],
        "iso_date_re": ISO_DATE_RE,
        "iso_date_fast_re": ISO_DATE_FAST_RE,
        "named_date_re": NAMED_DATE_RE,
        "first_year": FIRST_YEAR,
        "number_re": NUMBER_RE,
        "count_re": COUNT_RE,
        "own_id_re": OWN_ID_RE,
        "own_id_start": len(ACLED_ID_PREFIX) + 2,
        "namespace": ACLED_NAMESPACE.bytes,
        "guard_re": GUARD_RE,
        "time_zone": time_zone,
        "today": today,
        "earliest_occurred_at": earliest_occurred_at(),
        "weapons": [weapon.value for weapon in Weapon],
        "actor_patterns": [pattern for pattern, _side in ACTOR_PATTERNS],
        "actor_sides": [str(side) for _pattern, side in ACTOR_PATTERNS],
        "unknown_side": Side.UNKNOWN.value,
        "target_tags": list(TARGETS_BY_TAG),
        "targets": [str(target) for target in TARGETS_BY_TAG.values()],
        "civilians": Target.CIVILIANS.value,
        "unknown_target": Target.UNKNOWN.value,
    }


REJECTION_VALUE_SQL = """
CASE reason
    WHEN 'bad_date' THEN where_when_text
    WHEN 'early_date' THEN where_when_text
    WHEN 'future_date' THEN where_when_text
    WHEN 'bad_coordinates' THEN where_when_text
    WHEN 'outside_area' THEN where_when_text
    WHEN 'unknown_event_type' THEN event_type_text
    WHEN 'unknown_sub_event_type' THEN event_type_text || ' / ' || sub_event_type_text
    WHEN 'bad_fatalities' THEN fatalities_text
    WHEN 'bad_precision' THEN precision_text
    ELSE ''
END
"""

# Built from constants only (here and below); every value is a parameter.
REJECTIONS_SQL = f"""
SELECT row_no + 1, left(coalesce(event_id, ''), 100), reason,
       left(coalesce({REJECTION_VALUE_SQL}, ''), 200)
FROM acled_rows WHERE reason IS NOT NULL ORDER BY row_no LIMIT %(limit)s
"""  # noqa: S608  # nosec B608

REJECTIONS_STORE_SQL = f"""
INSERT INTO imports_importrejection (job_id, row_number, event_id, reason, value)
{REJECTIONS_SQL.replace("SELECT row_no + 1", "SELECT %(job_id)s, row_no + 1", 1)}
"""

REJECTIONS_CSV_SQL = f"""
COPY (SELECT row_no + 1 AS row, event_id AS event_id_cnty, reason,
             {REJECTION_VALUE_SQL} AS value
      FROM acled_rows WHERE reason IS NOT NULL ORDER BY row_no)
TO STDOUT WITH (FORMAT csv, HEADER true)
"""  # noqa: S608  # nosec B608

_BEFORE = snapshot_sql(
    "cur",
    event_type_slug="(SELECT slug FROM incidents_eventtype WHERE id = cur.event_type_id)",
    sub_event_type_slug=(
        "(SELECT slug FROM incidents_subeventtype WHERE id = cur.sub_event_type_id)"
    ),
)
_AFTER = snapshot_sql(
    "b", event_type_slug="b.event_type_slug", sub_event_type_slug="b.sub_event_type_slug"
)
_ZONES = ZONES_OF_POINTS_SQL.replace("{points}", "batch")
_SET = ",\n        ".join(f"{c} = EXCLUDED.{c}" for c in CONTENT_COLUMNS + ZONE_COLUMNS)

# Rows are written in slices of the file (by row number) so that progress can be shown; each
# slice is the same set-based statement, and all of them are one transaction.
UPSERT_SQL = f"""
WITH batch AS MATERIALIZED (
    SELECT p.row_no AS id, p.*,
           CASE WHEN cur.id IS NOT NULL THEN {_BEFORE} END AS before
    FROM acled_rows p
    LEFT JOIN incidents_incident cur ON cur.id = p.current_id
    WHERE p.reason IS NULL AND p.row_no BETWEEN %(first_row)s AND %(last_row)s
      AND (cur.id IS NULL OR {_content("cur")} IS DISTINCT FROM {_content("p")})
),
zoned AS ({_ZONES}),
upserted AS (
    INSERT INTO incidents_incident AS i (
        occurred_at, time_precision, location, location_precision, place_name,
        event_type_id, sub_event_type_id, weapon, observation_method, explosions_count,
        direction, distance_estimate_m, perpetrator_side, target, target_description,
        killed_civilians, killed_combatants, injured_civilians, injured_combatants,
        description, sources, review_status, review_note, reviewed_at, reviewed_by_id,
        reporter_id, client_uuid, submission_digest, external_id, is_synthetic,
        created_at, updated_at, verified_at,
        {", ".join(ZONE_COLUMNS)}
    )
    SELECT b.occurred_at, b.time_precision, b.location, b.location_precision, b.place_name,
           b.event_type_id, b.sub_event_type_id, b.weapon, '', NULL,
           '', NULL, b.perpetrator_side, b.target, '',
           b.killed_civilians, b.killed_combatants, 0, 0,
           b.description, b.sources, %(review_status)s, '', %(reviewed_at)s, %(reviewed_by)s,
           %(user_id)s, b.client_uuid, '', b.event_id, b.is_synthetic,
           clock_timestamp(), clock_timestamp(), %(verified_at)s,
           {", ".join(f"z.{source}" for source in INCIDENT_ZONE_COLUMNS.values())}
    FROM batch b JOIN zoned z ON z.id = b.id
    ON CONFLICT (external_id) DO UPDATE SET
        {_SET},
        updated_at = EXCLUDED.updated_at
    WHERE {_content("i")} IS DISTINCT FROM {_content("EXCLUDED")}
    RETURNING i.id, i.external_id, (i.xmax = 0) AS inserted
),
history AS (
    INSERT INTO incidents_incidentchange (incident_id, at, user_id, action, fields)
    SELECT u.id, clock_timestamp(), %(user_id)s, %(history_action)s,
           CASE WHEN u.inserted OR b.before IS NULL THEN '{{}}'::jsonb ELSE (
               SELECT coalesce(jsonb_object_agg(
                          old.key, jsonb_build_object('old', old.value, 'new', new.value)),
                          '{{}}'::jsonb)
               FROM jsonb_each(b.before) old
               JOIN jsonb_each({_AFTER}) new ON new.key = old.key
               WHERE old.value IS DISTINCT FROM new.value) END
    FROM upserted u JOIN batch b ON b.event_id = u.external_id
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM upserted
"""  # noqa: S608  # nosec B608
