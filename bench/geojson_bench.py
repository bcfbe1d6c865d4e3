"""Bounding-box GeoJSON pages of the incident list over HTTP, against the same page in bare SQL.

A fixed, seeded set of boxes over where the incidents are, of many sizes (from a few features to
far more than a page holds), is asked for as the map and partner systems ask:
`/api/v1/incidents/?bbox=...&page_size=5000&format=geojson`, with an API key, from the web server
the Procfile starts, as an analyst (exact locations, every report, an audit event per page) and
as a partner (verified reports on the 0.05 degree grid). The baseline is one hand-written
statement on a psycopg2 connection of its own: the same filter, order and limit, the features
built by json_build_object and json_agg into the FeatureCollection's text. The API caps a page
at 1,000 features (common.pagination.MAX_PAGE_SIZE): up to 5,000 features are also measured as a
client gets them, the first page and its `next` links, against one statement with LIMIT 5,000.

    .venv/bin/python bench/geojson_bench.py [--boxes 40] [--repeats 3]

Each box's page is checked against the baseline's: the same feature ids in the same order, and
the same geometry and properties (times compared as instants).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import random
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

if __package__ in (None, ""):  # run as bench/geojson_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import django_setup

    django_setup()

from django.conf import settings
from django.db import connection

from bench import harness, server
from common.pagination import MAX_PAGE_SIZE

NAME = "geojson"
TITLE = "bounding-box GeoJSON pages"
RESULTS_FILE = harness.BENCH_DIR / "RESULTS-geojson.md"
PAGE_SIZE = 5000  # what the issue asks for; the API serves at most MAX_PAGE_SIZE of them
ROLES = ("analyst", "partner")
# Half the width of a box, in degrees: log-uniform between these (about 300 m to 30 km).
HALF_WIDTH_DEGREES = (0.003, 0.3)
# The server's parallel query setting (max_parallel_workers_per_gather), then none at all.
PARALLEL_MODES = ("server", "off")
DATETIME_PROPERTIES = ("occurred_at", "created_at", "updated_at", "reviewed_at")

# The baseline, by hand: what the page is, as one statement. Dates as PostgreSQL writes a
# timestamptz in JSON (ISO 8601, in the session's time zone: the site's on the benchmark's own
# connection; the check compares them as instants).
_COMMON_PROPERTIES = """
            'occurred_at', i.occurred_at,
            'time_precision', i.time_precision,
            'location_precision', i.location_precision,
            'event_type', et.slug,
            'event_type_name', et.name,
            'sub_event_type', st.slug,
            'sub_event_type_name', st.name,
            'weapon', i.weapon,
            'observation_method', i.observation_method,
            'explosions_count', i.explosions_count,
            'perpetrator_side', i.perpetrator_side,
            'target', i.target,
            'killed_civilians', i.killed_civilians,
            'killed_combatants', i.killed_combatants,
            'injured_civilians', i.injured_civilians,
            'injured_combatants', i.injured_combatants,
            'sources', i.sources,
            'review_status', i.review_status,
            'duplicate_of', dup.client_uuid,
            'is_synthetic', i.is_synthetic,
            'created_at', i.created_at,
            'updated_at', i.updated_at"""

# As recorded (analysts) or as the grid view shows it (partners: incidents.disclosure).
_EXACT_VIEW_PROPERTIES = """,
            'place_name', i.place_name,
            'target_description', i.target_description,
            'description', i.description,
            'public_summary', i.public_summary,
            'governorate', gov.pcode,
            'district', dis.pcode,
            'subdistrict', sub.pcode,
            'in_corridor', i.in_corridor"""
_GRID_VIEW_PROPERTIES = """,
            'place_name', COALESCE(cloc.name_en, csub.name_en, ''),
            'description', i.public_summary,
            'governorate', cgov.pcode,
            'district', cdis.pcode,
            'subdistrict', csub.pcode,
            'in_corridor', i.coarse_in_corridor"""

BARE_SQL = """
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', coalesce(json_agg(f.feature ORDER BY f.occurred_at DESC, f.id DESC), '[]'::json)
)::text
FROM (
    SELECT i.id, i.occurred_at, json_build_object(
        'id', i.client_uuid,
        'type', 'Feature',
        'geometry', json_build_object(
            'type', 'Point',
            'coordinates', json_build_array(
                round(ST_X(i.{location})::numeric, {decimals}),
                round(ST_Y(i.{location})::numeric, {decimals}))),
        'properties', json_build_object({properties})
    ) AS feature
    FROM (
        SELECT * FROM incidents_incident
        WHERE deleted_at IS NULL {visible}
          AND ST_Intersects({location}, ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s,
                                                        %(maxlat)s, 4326))
        ORDER BY occurred_at DESC, id DESC
        LIMIT %(limit)s
    ) i
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

BARE_SQL_BY_ROLE = {
    # Analysts: every report, exact location (6 decimals), observer and staff fields.
    "analyst": BARE_SQL.format(
        location="location",
        decimals=6,
        visible="",
        properties=_COMMON_PROPERTIES
        + _EXACT_VIEW_PROPERTIES
        + """,
            'direction', i.direction,
            'distance_estimate_m', i.distance_estimate_m,
            'distance_to_m4_m', i.distance_to_m4_m,
            'review_note', i.review_note,
            'reporter', rep.username,
            'reviewed_by', rev.username,
            'reviewed_at', i.reviewed_at""",
    ),
    # Partners: verified reports, the grid view (the grid location with 4 decimals, its zones,
    # the gazetteer's place name, the approved summary), no observer or staff fields.
    "partner": BARE_SQL.format(
        location="location_coarse",
        decimals=4,
        visible="AND review_status = 'verified'",
        properties=_COMMON_PROPERTIES
        + _GRID_VIEW_PROPERTIES
        + ",\n            'location_grid_degrees', 0.05",
    ),
}

COUNT_SQL = {
    "analyst": "SELECT count(*) FROM incidents_incident WHERE deleted_at IS NULL AND "
    "ST_Intersects(location, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
    "partner": "SELECT count(*) FROM incidents_incident WHERE deleted_at IS NULL AND "
    "review_status = 'verified' AND "
    "ST_Intersects(location_coarse, ST_MakeEnvelope(%s, %s, %s, %s, 4326))",
}


@dataclass(frozen=True)
class Box:
    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    @property
    def param(self) -> str:
        return f"{self.minlon},{self.minlat},{self.maxlon},{self.maxlat}"

    def sql_params(self, limit: int) -> dict:
        return {
            "minlon": self.minlon,
            "minlat": self.minlat,
            "maxlon": self.maxlon,
            "maxlat": self.maxlat,
            "limit": limit,
        }


@dataclass
class RoleResult:
    role: str
    mode: str = "server"  # the server's parallel query setting, or "off"
    api: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    features: list[int] = field(default_factory=list)  # per box, on the page
    matching: list[int] = field(default_factory=list)  # per box, in the box
    bytes: list[int] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    # Up to PAGE_SIZE features by following `next` links, against one statement with that LIMIT.
    walk_api: list[float] = field(default_factory=list)
    walk_bare: list[float] = field(default_factory=list)
    walk_features: list[int] = field(default_factory=list)
    walk_requests: list[int] = field(default_factory=list)


def boxes_draw(*, count: int, seed: int) -> list[Box]:
    """`count` boxes, each around an incident drawn at random (so boxes lie where the incidents
    are, dense or not), half-widths log-uniform over HALF_WIDTH_DEGREES, coordinates as a map
    client sends them (4 decimals)."""
    rng = random.Random(f"bench-geojson:{seed}")  # noqa: S311 (a sample, not secrets)
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM incidents_incident WHERE deleted_at IS NULL")
        low, high = cursor.fetchone()
        if low is None:
            return []
        boxes = []
        for _ in range(count):
            cursor.execute(
                "SELECT ST_X(location), ST_Y(location) FROM incidents_incident "
                "WHERE id >= %s AND deleted_at IS NULL ORDER BY id LIMIT 1",
                [rng.randint(low, high)],
            )
            lon, lat = cursor.fetchone()
            lo, hi = HALF_WIDTH_DEGREES
            half = lo * (hi / lo) ** rng.random()
            tall = half * rng.uniform(0.6, 1.0)
            boxes.append(
                Box(
                    round(lon - half, 4),
                    round(lat - tall, 4),
                    round(lon + half, 4),
                    round(lat + tall, 4),
                )
            )
    return boxes


def page_path(box: Box, *, page_size: int = PAGE_SIZE) -> str:
    query = urlencode({"bbox": box.param, "page_size": page_size, "format": "geojson"})
    return f"/api/v1/incidents/?{query}"


def bare_page(cursor, role: str, box: Box, limit: int) -> str:
    cursor.execute(BARE_SQL_BY_ROLE[role], box.sql_params(limit))
    return cursor.fetchone()[0]


NEXT_RE = re.compile(rb'"next":\s*("(?:[^"\\]|\\.)*"|null)')


def api_walk(client, box: Box, *, features: int = PAGE_SIZE) -> tuple[list[bytes], int]:
    """The pages a client reads to get up to `features` features of the box, following the
    `next` links (found at the start of each page, as the API writes it first); and the status
    of the last answer."""
    pages: list[bytes] = []
    path: str | None = page_path(box)
    while path:
        status, _headers, body = client.get(path)
        if status != 200:
            return pages, status
        pages.append(body)
        found = NEXT_RE.search(body, 0, 4096)
        link = json.loads(found.group(1)) if found else None
        if link is None or len(pages) * MAX_PAGE_SIZE >= features:
            break
        parts = urlsplit(link)
        path = f"{parts.path}?{parts.query}"
    return pages, 200


def walk_body(pages: list[bytes], features: int = PAGE_SIZE) -> str:
    """The walked pages' features (the first `features`) as one FeatureCollection's text."""
    collected = [f for page in pages for f in json.loads(page)["features"]][:features]
    return json.dumps({"type": "FeatureCollection", "features": collected})


def _normalized(feature: dict) -> dict:
    properties = dict(feature["properties"])
    for name in DATETIME_PROPERTIES:
        if properties.get(name) is not None:
            properties[name] = datetime.datetime.fromisoformat(properties[name])
    return {
        "id": feature["id"],
        "geometry": feature["geometry"],
        "properties": properties,
    }


def pages_compare(api_body: bytes | str, bare_body: str) -> str | None:
    """None when the two pages hold the same features in the same order, else what differs."""
    api = json.loads(api_body)
    bare = json.loads(bare_body)
    if api.get("type") != "FeatureCollection":
        return f"the API answered {str(api)[:200]}"
    api_ids = [f["id"] for f in api["features"]]
    bare_ids = [f["id"] for f in bare["features"]]
    if api_ids != bare_ids:
        return f"ids differ ({len(api_ids)} from the API, {len(bare_ids)} from the baseline)"
    for a, b in zip(api["features"], bare["features"], strict=True):
        left, right = _normalized(a), _normalized(b)
        if left != right:
            keys = sorted(
                set(left["properties"]) ^ set(right["properties"])
                or {
                    k
                    for k in left["properties"]
                    if left["properties"][k] != right["properties"].get(k)
                }
                or {"geometry"}
            )
            return f"feature {a['id']} differs in {', '.join(keys)}"
    return None


def role_measure(
    *,
    role: str,
    boxes: list[Box],
    repeats: int,
    client,
    bare_connection,
    count_matching: bool = True,
    walk: bool = True,
) -> RoleResult:
    """Each box: one untimed request of each side (the check), then `repeats` timed pairs,
    interleaved (A B, B A, ...); with `walk`, the same for up to PAGE_SIZE features through the
    `next` links against one statement with LIMIT PAGE_SIZE."""
    result = RoleResult(role)
    limit = min(PAGE_SIZE, MAX_PAGE_SIZE)
    with bare_connection.cursor() as cursor:
        if bare_connection is not connection:
            # Times as the API writes them, in the site's zone. Never on Django's connection
            # (the tests'), whose datetimes Django reads as UTC.
            cursor.execute("SET TIME ZONE %s", [settings.TIME_ZONE])
        for number, box in enumerate(boxes):
            path = page_path(box)
            status, _headers, api_body = client.get(path)
            if status != 200:
                result.mismatches.append(f"box {number}: HTTP {status} {api_body[:200]!r}")
                continue
            bare_body = bare_page(cursor, role, box, limit)
            problem = pages_compare(api_body, bare_body)
            if problem:
                result.mismatches.append(f"box {number} ({box.param}): {problem}")
            result.features.append(len(json.loads(api_body)["features"]))
            result.bytes.append(len(api_body))
            if count_matching:
                cursor.execute(COUNT_SQL[role], [box.minlon, box.minlat, box.maxlon, box.maxlat])
                result.matching.append(cursor.fetchone()[0])

            def api(path=path) -> None:
                client.get(path)

            def bare(box=box) -> None:
                bare_page(cursor, role, box, limit)

            samples = harness.interleaved([("api", api), ("bare", bare)], repeats=repeats)
            result.api += samples["api"]
            result.bare += samples["bare"]
            if not walk:
                continue

            pages, status = api_walk(client, box)
            if status != 200:
                result.mismatches.append(f"box {number}: HTTP {status} on a next page")
                continue
            walked = walk_body(pages)
            problem = pages_compare(walked, bare_page(cursor, role, box, PAGE_SIZE))
            if problem:
                result.mismatches.append(f"box {number} ({box.param}), walked: {problem}")
            result.walk_features.append(len(json.loads(walked)["features"]))
            result.walk_requests.append(len(pages))

            def api_pages(box=box) -> None:
                api_walk(client, box)

            def bare_all(box=box) -> None:
                bare_page(cursor, role, box, PAGE_SIZE)

            samples = harness.interleaved([("api", api_pages), ("bare", bare_all)], repeats=repeats)
            result.walk_api += samples["api"]
            result.walk_bare += samples["bare"]
    return result


def measure(
    *,
    boxes: list[Box],
    repeats: int,
    roles=ROLES,
    base_url: str | None = None,
    walk: bool = True,
    mode: str = "server",
) -> list[RoleResult]:
    """Every role over every box, against `base_url` (a running server) or, without one, Django's
    test client (the baseline then on Django's connection, which sees a test's rows)."""

    def work(role: str, client, bare_connection) -> RoleResult:
        result = role_measure(
            role=role,
            boxes=boxes,
            repeats=repeats,
            client=client,
            bare_connection=bare_connection,
            walk=walk,
        )
        result.mode = mode
        return result

    return server.by_role(roles, base_url=base_url, work=work)


# --- the figure --------------------------------------------------------------------------------


def run(
    *, data: harness.DataState, repeats: int, boxes: int, seed: int, web_workers: int
) -> list[harness.Figure]:
    load_before = os.getloadavg()[0]
    drawn = boxes_draw(count=boxes, seed=seed)
    results = []
    for mode in PARALLEL_MODES:
        # "off": every session of the database, the web server's and the baseline's, plans
        # without parallel workers (they take tens of milliseconds to start on 2 busy cores).
        value = "0" if mode == "off" else None
        with (
            harness.database_setting("max_parallel_workers_per_gather", value),
            server.web_server(workers=web_workers) as web,
        ):
            harness.say(
                f"GeoJSON ({mode} parallel query setting): {len(drawn)} boxes x {len(ROLES)} "
                f"roles, {repeats} timed runs each side"
            )
            results += measure(
                boxes=drawn,
                repeats=repeats,
                base_url=web.base_url,
                walk=mode == "server",
                mode=mode,
            )
            described = web.describe()
    figure = _figure(data=data, results=results, repeats=repeats, described=described)
    figure.notes.append(harness.load_note(load_before))
    return [figure]


def _figure(
    *, data: harness.DataState, results: list[RoleResult], repeats: int, described: str
) -> harness.Figure:
    def cells(api: list[float], bare: list[float]) -> list[str]:
        api50, api95 = harness.percentile(api, 50), harness.percentile(api, 95)
        bare50, bare95 = harness.percentile(bare, 50), harness.percentile(bare, 95)
        return [
            harness.seconds(api50),
            harness.seconds(bare50),
            harness.ratio(api50, bare50),
            harness.seconds(api95),
            harness.seconds(bare95),
            harness.ratio(api95, bare95),
        ]

    def sizes(features: list[int], full_at: int) -> str:
        full = sum(1 for n in features if n >= full_at)
        return f"{harness.median(features):,.0f} / {max(features):,} ({full} full)"

    rows = []
    workers = harness.server_setting("max_parallel_workers_per_gather")
    server_parallel = f"parallel workers {workers}"
    for r in results:
        check = "OK" if not r.mismatches else f"MISMATCH ({len(r.mismatches)} boxes)"
        where = "exact" if r.role == "analyst" else "grid"
        parallel = server_parallel if r.mode == "server" else "no parallel workers"
        rows.append(
            [
                f"{r.role} ({where} locations), one page, {parallel}",
                sizes(r.features, MAX_PAGE_SIZE),
                *cells(r.api, r.bare),
                check,
            ]
        )
        if r.walk_api:
            rows.append(
                [
                    f"{r.role}, up to {PAGE_SIZE:,} features by `next` links",
                    sizes(r.walk_features, PAGE_SIZE),
                    *cells(r.walk_api, r.walk_bare),
                    "",
                ]
            )
    first = results[0]
    boxes = len(first.features)
    notes = [
        f"{boxes} boxes drawn around random incidents (seeded), half-widths "
        f"{HALF_WIDTH_DEGREES[0]}-{HALF_WIDTH_DEGREES[1]} degrees; in them, "
        + "; ".join(
            f"{r.role}: {min(r.matching):,}-{max(r.matching):,} incidents "
            f"(median {harness.median(r.matching):,.0f})"
            for r in results
            if r.matching and r.mode == "server"
        )
        + ". The page: median / largest feature count (boxes whose page is full).",
        f"Asked with page_size={PAGE_SIZE:,}; the API caps every page at {MAX_PAGE_SIZE:,} "
        "(common.pagination.MAX_PAGE_SIZE, documented in the README), so no page holds more "
        f"than {MAX_PAGE_SIZE:,} features: 'one page' is that request against the baseline "
        f"with LIMIT {MAX_PAGE_SIZE:,}; 'up to {PAGE_SIZE:,} features' is what a client does "
        f"to get them, the first page and its `next` links (at most {PAGE_SIZE // MAX_PAGE_SIZE} "
        f"requests; median {harness.median(first.walk_requests or [0]):.0f}), against one "
        f"statement with LIMIT {PAGE_SIZE:,}.",
        f"API: GET /api/v1/incidents/?bbox=...&page_size={PAGE_SIZE}&format=geojson with an "
        f"API key, from {described}; timed from sending the request to the last byte of "
        "the answer (page sizes up to "
        f"{max(max(r.bytes) for r in results) / 1e6:.1f} MB). Analysts' pages write an audit "
        "event with the page's ids (exact locations read).",
        f"Parallel query: the server's setting (max_parallel_workers_per_gather {workers}: "
        "PostgreSQL starts worker processes for the page's ORDER BY ... LIMIT over the "
        "occurred_at index, the planner expecting a large part of the box's rows), then none "
        "for every session of the database (ALTER DATABASE ... SET "
        "max_parallel_workers_per_gather = 0, the web server started afresh; reset after).",
        "Bare: one hand-written statement on a psycopg2 connection of its own (same filter, "
        "ORDER BY occurred_at DESC, id DESC, LIMIT, same properties, json_build_object and "
        "json_agg into the FeatureCollection's text, fetched whole); no `next` link.",
        f"p50 and p95 over every box's {repeats} timed runs ({boxes * repeats} samples a side), "
        "the two sides interleaved (A B, B A, ...) after an untimed run of each (the check).",
        "Check: for every box the API's page (and the walked pages) has the baseline's feature "
        "ids in the same order and the same geometry and properties (times compared as "
        "instants).",
    ]
    for r in results:
        notes += [f"{r.role}: {problem}" for problem in r.mismatches[:5]]
    return harness.Figure(
        title=f"Bounding-box GeoJSON pages, {data.incidents:,} incidents",
        columns=[
            "caller",
            "features (median / max)",
            "API p50",
            "bare p50",
            "ratio",
            "API p95",
            "bare p95",
            "ratio",
            "check",
        ],
        rows=rows,
        notes=notes,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incidents", type=int, default=harness.DEFAULT_INCIDENTS)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--boxes", type=int, default=40, help="bounding boxes (GeoJSON)")
    parser.add_argument(
        "--web-workers", type=int, default=server.DEFAULT_WORKERS, help="gunicorn workers"
    )
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    harness.figure_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
