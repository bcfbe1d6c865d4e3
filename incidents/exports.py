"""Incident exports: HXL-tagged CSV, RFC 7946 GeoJSON and ACLED-compatible CSV.

Columns and row generators only, no HTTP (the views are in incidents/api/exports.py). Rows are read
with `values()` and a server-side cursor, joined in the one query, and written out in small chunks,
so an export of any size holds one chunk of rows in memory.

`exact` decides what a row may carry (PRODUCT.md "Do no harm"): analysts and admins get exact
locations, the distance to the M4 and the review fields; everyone else gets the grid view of
incidents.disclosure (the grid point, its zones and corridor membership, the gazetteer's place name,
the approved summary as the description) and none of the rest, which is not even read from the
database. No export carries the reporter: rule 2 keeps reporter identity out of exports for every
role.
"""

from __future__ import annotations

import csv
import datetime
import io
import itertools
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db.models import F, FloatField, Func
from django.utils import timezone

from incidents.disclosure import GRID_WITHHELD, grid_expression, grid_path
from incidents.models import IncidentQuerySet, LocationPrecision, Side, Target, TimePrecision

CHUNK_SIZE = 2000  # rows per fetch from the server-side cursor
FLUSH_AT = 32 * 1024  # characters buffered before a chunk is handed to the server
EXACT_DECIMALS = 6  # about 0.1 m, as in the API
COARSE_DECIMALS = 4  # the grid is 0.05 degrees; more digits would only show float noise

# Spreadsheets run a cell that starts with one of these as a formula ("CSV injection"). Text that
# users wrote gets a leading apostrophe there, which spreadsheets hide (OWASP's advice).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class _X(Func):
    function = "ST_X"
    output_field = FloatField()


class _Y(Func):
    function = "ST_Y"
    output_field = FloatField()


@dataclass(frozen=True)
class Column:
    """One column of the HXL CSV and one property of the GeoJSON features."""

    name: str
    hxl: str
    sources: tuple[str, ...]
    get: Callable[[dict], Any]
    exact_only: bool = False  # analysts and admins only
    user_text: bool = False  # written by a user: guarded against spreadsheet formulas


def _field(
    name: str,
    hxl: str,
    source: str | None = None,
    *,
    convert: Callable[[Any], Any] | None = None,
    exact_only: bool = False,
    user_text: bool = False,
) -> Column:
    source = source or name
    if convert is None:

        def get(row):
            return row[source]
    else:

        def get(row):
            value = row[source]
            return None if value is None else convert(value)

    return Column(name, hxl, (source,), get, exact_only, user_text)


def _sum(name: str, hxl: str, *sources: str) -> Column:
    return Column(name, hxl, sources, lambda row: sum(row[source] for source in sources))


_ZONE = timezone.get_default_timezone()


def _iso(value: datetime.datetime) -> str:
    """ISO 8601 in the project's time zone (Asia/Damascus), as the JSON API writes it."""
    return value.astimezone(_ZONE).isoformat()


# Latitude and longitude are read as `lat` and `lon`, already rounded (see export_rows).
COLUMNS: tuple[Column, ...] = (
    _field("id", "#event+code", "client_uuid", convert=str),
    _field("occurred_at", "#date+occurred", convert=_iso),
    _field("time_precision", "#date+occurred+precision"),
    _field("event_type", "#event+type+code", "event_type__slug"),
    _field("event_type_name", "#event+type", "event_type__name"),
    _field("sub_event_type", "#event+type+sub+code", "sub_event_type__slug"),
    _field("sub_event_type_name", "#event+type+sub", "sub_event_type__name"),
    _field("place_name", "#loc+name", user_text=True),
    _field("latitude", "#geo+lat", "lat"),
    _field("longitude", "#geo+lon", "lon"),
    _field("location_precision", "#geo+precision"),
    _field("governorate", "#adm1+code", "governorate__pcode"),
    _field("governorate_name", "#adm1+name", "governorate__name_en"),
    _field("district", "#adm2+code", "district__pcode"),
    _field("district_name", "#adm2+name", "district__name_en"),
    _field("subdistrict", "#adm3+code", "subdistrict__pcode"),
    _field("subdistrict_name", "#adm3+name", "subdistrict__name_en"),
    _field("in_corridor", "#geo+in_corridor"),
    _field("distance_to_m4_m", "#geo+distance+m4"),
    _field("weapon", "#event+weapon"),
    _field("observation_method", "#event+observation+method"),
    _field("explosions_count", "#event+explosions+num"),
    # With the place, the observer's bearing and distance hint where the reporter stood.
    _field("direction", "#event+observation+direction"),
    _field("distance_estimate_m", "#event+observation+distance_m"),
    _field("perpetrator_side", "#group+perpetrator"),
    _field("target", "#event+target"),
    _field("target_description", "#description+target", user_text=True),
    _sum("killed", "#affected+killed", "killed_civilians", "killed_combatants"),
    _field("killed_civilians", "#affected+killed+civilians"),
    _field("killed_combatants", "#affected+killed+combatants"),
    _sum("injured", "#affected+injured", "injured_civilians", "injured_combatants"),
    _field("injured_civilians", "#affected+injured+civilians"),
    _field("injured_combatants", "#affected+injured+combatants"),
    _field("description", "#description", user_text=True),
    _field("public_summary", "#description+public", user_text=True),
    _field("sources", "#meta+source", user_text=True),
    _field("review_status", "#status"),
    _field("duplicate_of", "#event+code+duplicate_of", "duplicate_of__client_uuid", convert=str),
    _field("reviewed_by", "#meta+reviewed_by", "reviewed_by__username", exact_only=True),
    _field("reviewed_at", "#date+reviewed", convert=_iso, exact_only=True),
    _field("review_note", "#description+review", exact_only=True, user_text=True),
    _field("is_synthetic", "#meta+synthetic"),
    _field("created_at", "#date+reported", convert=_iso),
    _field("updated_at", "#date+updated", convert=_iso),
)


def columns_for(*, exact: bool) -> tuple[Column, ...]:
    """The columns a reader gets: without the review fields and what the grid view withholds
    (incidents.disclosure) unless `exact`."""
    return tuple(
        column
        for column in COLUMNS
        if exact or not (column.exact_only or column.name in GRID_WITHHELD)
    )


def export_rows(
    queryset: IncidentQuerySet, sources: Iterable[str], *, exact: bool
) -> Iterator[dict]:
    """The rows of an ordered incident queryset as dicts, `lon`/`lat` rounded, in one query.

    The query runs and its first chunk is fetched here, before any row is asked for: a database
    error (a bad value, a time-out) is then raised while the view can still answer with an error
    status, not in the middle of a download that already said 200.
    """
    column = "location" if exact else grid_path("location")
    decimals = EXACT_DECIMALS if exact else COARSE_DECIMALS
    names = sorted(set(sources) - {"lon", "lat"})
    if exact:
        values = queryset.values(*names, lon=_X(F(column)), lat=_Y(F(column)))
        renames: dict[str, str] = {}
    else:
        # Each field read from the grid view, under an alias, and handed on under its own name.
        renames = {f"grid_{index}": name for index, name in enumerate(names)}
        expressions = {alias: grid_expression(name) for alias, name in renames.items()}
        values = queryset.values(**expressions, lon=_X(F(column)), lat=_Y(F(column)))
    rows = values.iterator(chunk_size=CHUNK_SIZE)
    first = next(rows, None)
    records = itertools.chain([first], rows) if first is not None else iter(())
    return _rounded(records, decimals, renames)


def _rounded(rows: Iterator[dict], decimals: int, renames: dict[str, str]) -> Iterator[dict]:
    for row in rows:
        for alias, name in renames.items():
            row[name] = row.pop(alias)
        row["lon"] = round(row["lon"], decimals)
        row["lat"] = round(row["lat"], decimals)
        yield row


def _csv_cell(value: Any, *, user_text: bool = False) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = "; ".join(value)
    if user_text and isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _buffered_csv(header_rows: Iterable[list], rows: Iterable[list], bom: bool) -> Iterator[str]:
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerows(header_rows)
    for row in rows:
        writer.writerow(row)
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def hxl_csv(queryset: IncidentQuerySet, *, exact: bool) -> Iterator[str]:
    """CSV with a header row, the HXL hashtag row second, then one row per incident.

    It starts with a UTF-8 byte order mark: without it Excel reads Arabic text as Latin-1.
    """
    columns = columns_for(exact=exact)
    sources = {source for column in columns for source in column.sources}
    records = export_rows(queryset, sources, exact=exact)
    rows = (
        [_csv_cell(column.get(row), user_text=column.user_text) for column in columns]
        for row in records
    )
    header = [[column.name for column in columns], [column.hxl for column in columns]]
    return _buffered_csv(header, rows, bom=True)


def geojson(queryset: IncidentQuerySet, *, exact: bool) -> Iterator[str]:
    """An RFC 7946 FeatureCollection: [longitude, latitude] in WGS84, no `crs` member.

    Each feature has the incident's id as its `id` and the HXL CSV's columns as its properties.
    """
    columns = [
        column for column in columns_for(exact=exact) if column.sources[0] not in ("lat", "lon")
    ]
    sources = {source for column in columns for source in column.sources}
    return _feature_collection(export_rows(queryset, sources, exact=exact), columns)


def _feature_collection(records: Iterator[dict], columns: list[Column]) -> Iterator[str]:
    buffer = io.StringIO()
    buffer.write('{"type":"FeatureCollection","features":[')
    separator = "\n"
    for row in records:
        properties = {column.name: column.get(row) for column in columns}
        feature = {
            "type": "Feature",
            "id": properties["id"],
            "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
            "properties": properties,
        }
        buffer.write(separator)
        buffer.write(json.dumps(feature, ensure_ascii=False, separators=(",", ":")))
        separator = ",\n"
        if buffer.tell() >= FLUSH_AT:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    buffer.write("\n]}\n")
    yield buffer.getvalue()


# ACLED-compatible export ------------------------------------------------------------------------

ACLED_COLUMNS = (
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
)

ACLED_SOURCES = (
    "client_uuid",
    "external_id",
    "occurred_at",
    "time_precision",
    "sub_event_type__disorder_type",
    "event_type__name",
    "sub_event_type__name",
    "perpetrator_side",
    "target",
    "governorate__name_en",
    "district__name_en",
    "subdistrict__name_en",
    "place_name",
    "location_precision",
    "sources",
    "description",
    "killed_civilians",
    "killed_combatants",
    "weapon",
    "is_synthetic",
    "updated_at",
)

ACLED_ID_PREFIX = "SYRCM"  # SYR, as ACLED's own Syrian ids, and CM for Ceasefire Monitor
ACLED_ISO = 760
ACLED_REGION = "Middle East"
ACLED_COUNTRY = "Syria"
ACLED_SOURCE_SCALE = "Local partner-Other"  # our field monitors; left blank for imported events

ACLED_TIME_PRECISION = {
    TimePrecision.MINUTE: 1,
    TimePrecision.HOUR: 1,
    TimePrecision.DAY: 1,
    TimePrecision.WEEK: 2,
    TimePrecision.MONTH: 3,
}
ACLED_GEO_PRECISION = {
    LocationPrecision.EXACT: 1,
    LocationPrecision.TOWN: 1,
    LocationPrecision.NEAR_TOWN: 2,
    LocationPrecision.REGION: 3,
}
# A location snapped to the 0.05 degree grid (about 5 km) is at best "near a town".
COARSE_GEO_PRECISION = 2

# Actor names and ACLED inter codes (Codebook 2023: 1 state forces, 2 rebel groups, 3 political
# militias, 7 civilians, 8 external/other forces, which covers a state's forces abroad).
ACLED_ACTORS: dict[str, tuple[str, int]] = {
    Side.GOVERNMENT: ("Syrian government and allied forces", 1),
    Side.RUSSIA: ("Russian forces", 8),
    Side.TURKEY: ("Turkish forces", 8),
    Side.SNA: ("Syrian National Army", 2),
    Side.HTS: ("Hay'at Tahrir al-Sham", 2),
    Side.OTHER_ARMED_GROUP: ("Other armed group", 3),
    Side.SDF: ("Syrian Democratic Forces", 2),
    Side.UNKNOWN: ("Unidentified Armed Group (Syria)", 3),
}
CIVILIAN_TARGETS = frozenset({Target.CIVILIANS, Target.CAMP})
ACLED_CIVILIANS = ("Civilians (Syria)", 7)
TARGET_TAGS = {
    Target.CIVILIAN_INFRASTRUCTURE: "civilian infrastructure",
    Target.CAMP: "displacement camp",
    Target.MILITARY: "military position",
    Target.PATROL: "joint patrol",
    Target.OBSERVATION_POST: "observation post",
}


def acled_event_id(client_uuid, external_id: str | None) -> str:
    """An imported ACLED event keeps its id; our own reports get a stable one from their UUID
    (not the database id, which would tell partners how many unverified reports exist)."""
    return external_id or f"{ACLED_ID_PREFIX}-{client_uuid}"


def _acled_interaction(inter1: int, inter2: int) -> int:
    """ACLED's two-digit interaction code: the two inter codes, lower first; 10 x inter1 alone."""
    if not inter2:
        return inter1 * 10
    low, high = sorted((inter1, inter2))
    return low * 10 + high


def _acled_tags(row: dict) -> str:
    tags = []
    if row["weapon"]:
        tags.append(f"weapon: {row['weapon']}")
    if row["target"] in TARGET_TAGS:
        tags.append(f"target: {TARGET_TAGS[row['target']]}")
    if row["is_synthetic"]:
        tags.append("synthetic demo data")
    return "; ".join(tags)


def _guard(text: str) -> str:
    return _csv_cell(text, user_text=True)


def acled_row(row: dict, *, exact: bool) -> list:
    occurred = row["occurred_at"].astimezone(_ZONE)
    actor1, inter1 = ACLED_ACTORS.get(row["perpetrator_side"], ACLED_ACTORS[Side.UNKNOWN])
    actor2, inter2 = ACLED_CIVILIANS if row["target"] in CIVILIAN_TARGETS else ("", 0)
    geo_precision = ACLED_GEO_PRECISION.get(row["location_precision"], 3)
    if not exact:
        geo_precision = max(geo_precision, COARSE_GEO_PRECISION)
    return [
        _guard(acled_event_id(row["client_uuid"], row["external_id"])),
        occurred.date().isoformat(),
        occurred.year,
        ACLED_TIME_PRECISION.get(row["time_precision"], 1),
        row["sub_event_type__disorder_type"],
        row["event_type__name"],
        row["sub_event_type__name"],
        actor1,
        "",
        inter1,
        actor2,
        "",
        inter2,
        _acled_interaction(inter1, inter2),
        "Civilian targeting" if row["target"] in CIVILIAN_TARGETS else "",
        ACLED_ISO,
        ACLED_REGION,
        ACLED_COUNTRY,
        row["governorate__name_en"] or "",
        row["district__name_en"] or "",
        row["subdistrict__name_en"] or "",
        _guard(row["place_name"] or row["subdistrict__name_en"] or ""),
        row["lat"],
        row["lon"],
        geo_precision,
        _guard("; ".join(row["sources"])),
        "" if row["external_id"] else ACLED_SOURCE_SCALE,
        _guard(row["description"]),
        row["killed_civilians"] + row["killed_combatants"],
        _acled_tags(row),
        int(row["updated_at"].timestamp()),
    ]


def acled_csv(queryset: IncidentQuerySet, *, exact: bool) -> Iterator[str]:
    """ACLED's columns, in ACLED's order, one row per incident; UTF-8 without a byte order mark,
    so that the first column is `event_id_cnty` exactly, as tools joining ACLED data expect."""
    records = export_rows(queryset, ACLED_SOURCES, exact=exact)
    rows = (acled_row(row, exact=exact) for row in records)
    return _buffered_csv([list(ACLED_COLUMNS)], rows, bom=False)
