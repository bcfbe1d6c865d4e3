"""Vector tiles of incidents over HTTP, against the bare ST_AsMVT query for the same tile.

A fixed, seeded set of about 500 tiles from zoom 6 to 14, each around an incident drawn at random
(so tiles lie where the incidents are), is fetched as the dashboard fetches them:
`/tiles/incidents/{z}/{x}/{y}.pbf` with an API key, from the web server the Procfile starts, as an
analyst (exact locations, an audit event per tile) and as a partner (verified reports on the grid).
The baseline is a hand-written ST_AsMVT statement on a psycopg2 connection of its own: the same
columns, the same envelope (ST_TileEnvelope, 64-pixel buffer) and bounding-box filter, the same
order and cap.

    .venv/bin/python bench/tiles_bench.py [--tiles 500] [--tile-repeats 1]

Every tile is checked: the API's bytes equal the baseline's (else both are decoded and their
features compared).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as bench/tiles_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import django_setup

    django_setup()

from django.db import connection

from bench import harness, server

NAME = "tiles"
TITLE = "vector tiles"
RESULTS_FILE = harness.BENCH_DIR / "RESULTS-tiles.md"
ROLES = ("analyst", "partner")
ZOOMS = range(6, 15)
EXTENT = 4096
BUFFER = 64
MAX_FEATURES = 50_000

# The baseline, by hand: the buffered tile's bounding box in WGS84 for the index (from the
# slippy-map formulas, as any tile server computes it), the features newest first, at most
# MAX_FEATURES of them.
BARE_SQL = f"""
SELECT ST_AsMVT(t, 'incidents', {EXTENT}, 'mvt_geom')
FROM (
    SELECT ST_AsMVTGeom(ST_Transform(i.{{location}}, 3857), ST_TileEnvelope(%(z)s, %(x)s, %(y)s),
                        {EXTENT}, {BUFFER}, true) AS mvt_geom,
           i.client_uuid::text AS uuid,
           to_char(i.occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') AS occurred_at,
           et.slug AS event_type,
           st.slug AS sub_event_type,
           i.review_status,
           (i.killed_civilians + i.killed_combatants)::integer AS killed,
           (i.injured_civilians + i.injured_combatants)::integer AS injured
    FROM incidents_incident i
    JOIN incidents_eventtype et ON et.id = i.event_type_id
    JOIN incidents_subeventtype st ON st.id = i.sub_event_type_id
    WHERE i.deleted_at IS NULL {{visible}}
      AND i.{{location}} && ST_MakeEnvelope(%(minlon)s, %(minlat)s, %(maxlon)s, %(maxlat)s, 4326)
    ORDER BY i.occurred_at DESC, i.id DESC
    LIMIT {MAX_FEATURES}
) t
"""  # noqa: S608 (constants and our own column names; the tile is parameters)
BARE_SQL_BY_ROLE = {
    "analyst": BARE_SQL.format(location="location", visible=""),
    "partner": BARE_SQL.format(
        location="location_coarse", visible="AND i.review_status = 'verified'"
    ),
}


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    @property
    def path(self) -> str:
        return f"/tiles/incidents/{self.z}/{self.x}/{self.y}.pbf"

    @property
    def params(self) -> dict:
        minlon, minlat, maxlon, maxlat = self.bounds(buffer=BUFFER / EXTENT)
        return {
            "z": self.z,
            "x": self.x,
            "y": self.y,
            "minlon": minlon,
            "minlat": minlat,
            "maxlon": maxlon,
            "maxlat": maxlat,
        }

    def bounds(self, *, buffer: float = 0.0) -> tuple[float, float, float, float]:
        """(minlon, minlat, maxlon, maxlat), widened by `buffer` tile widths."""
        n = 2**self.z

        def lon(tx: float) -> float:
            return tx / n * 360 - 180

        def lat(ty: float) -> float:
            return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

        return (
            max(lon(self.x - buffer), -180.0),
            max(lat(self.y + 1 + buffer), -85.0511287798),
            min(lon(self.x + 1 + buffer), 180.0),
            min(lat(self.y - buffer), 85.0511287798),
        )


@dataclass
class RoleResult:
    role: str
    api: list[float] = field(default_factory=list)
    bare: list[float] = field(default_factory=list)
    api_by_zoom: dict[int, list[float]] = field(default_factory=dict)
    bare_by_zoom: dict[int, list[float]] = field(default_factory=dict)
    sizes: list[int] = field(default_factory=list)
    features: list[int] = field(default_factory=list)  # decoded, for the tiles compared so
    truncated: int = 0
    byte_equal: int = 0
    same_features: int = 0
    mismatches: list[str] = field(default_factory=list)


def tile_of(lon: float, lat: float, z: int) -> Tile:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    rad = math.radians(lat)
    y = int((1 - math.asinh(math.tan(rad)) / math.pi) / 2 * n)
    return Tile(z, min(max(x, 0), n - 1), min(max(y, 0), n - 1))


def tiles_draw(*, count: int, seed: int) -> list[Tile]:
    """Up to `count` distinct tiles, zoom uniform over ZOOMS, each the tile of an incident drawn
    at random; low zooms hold few distinct tiles over the area, so the draw stops after enough
    repeats."""
    rng = random.Random(f"bench-tiles:{seed}")  # noqa: S311 (a sample, not secrets)
    tiles: list[Tile] = []
    seen: set[Tile] = set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM incidents_incident WHERE deleted_at IS NULL")
        low, high = cursor.fetchone()
        if low is None:
            return []
        attempts = 0
        while len(tiles) < count and attempts < count * 20:
            attempts += 1
            cursor.execute(
                "SELECT ST_X(location), ST_Y(location) FROM incidents_incident "
                "WHERE id >= %s AND deleted_at IS NULL ORDER BY id LIMIT 1",
                [rng.randint(low, high)],
            )
            lon, lat = cursor.fetchone()
            tile = tile_of(lon, lat, rng.choice(ZOOMS))
            if tile not in seen:
                seen.add(tile)
                tiles.append(tile)
    return tiles


def bare_tile(cursor, role: str, tile: Tile) -> bytes:
    cursor.execute(BARE_SQL_BY_ROLE[role], tile.params)
    return bytes(cursor.fetchone()[0] or b"")


def tile_features(body: bytes) -> list[tuple]:
    """The decoded features of the `incidents` layer: (uuid, properties, geometry), in order."""
    import mapbox_vector_tile

    if not body:
        return []
    layer = mapbox_vector_tile.decode(body).get("incidents", {"features": []})
    return [
        (
            f["properties"].get("uuid"),
            tuple(sorted(f["properties"].items())),
            str(f["geometry"]["coordinates"]),
        )
        for f in layer["features"]
    ]


def tiles_compare(api_body: bytes, bare_body: bytes) -> tuple[bool, str | None]:
    """(byte-equal, None) when equal; else decode both: (False, None) when the features are the
    same, or (False, what differs)."""
    if api_body == bare_body:
        return True, None
    api, bare = tile_features(api_body), tile_features(bare_body)
    if api == bare:
        return False, None
    if sorted(api) == sorted(bare):
        return False, None  # the same features in another order
    return False, f"{len(api)} features from the API, {len(bare)} from the baseline"


def role_measure(
    *,
    role: str,
    tiles: list[Tile],
    repeats: int,
    client,
    bare_connection,
    decode_sample: int = 50,
) -> RoleResult:
    """Each tile `repeats` times a side, the sides interleaved (A B for one tile, B A for the
    next, ...); the first answers of each tile are also compared (a tile of zoom 6 takes a second
    a side: there is no separate warm-up)."""
    result = RoleResult(role)
    with bare_connection.cursor() as cursor:
        for number, tile in enumerate(tiles):
            answers: dict[str, tuple] = {}

            def api(path=tile.path, answers=answers) -> None:
                answers.setdefault("api", client.get(path))

            def bare(tile=tile, answers=answers) -> None:
                answers.setdefault("bare", bare_tile(cursor, role, tile))

            cases = [("api", api), ("bare", bare)]
            if number % 2:
                cases.reverse()
            samples = harness.interleaved(cases, repeats=repeats)
            status, headers, api_body = answers["api"]
            if status != 200:
                result.mismatches.append(f"{tile.path}: HTTP {status} {api_body[:200]!r}")
                continue
            equal, problem = tiles_compare(api_body, answers["bare"])
            result.byte_equal += equal
            result.same_features += problem is None
            if problem:
                result.mismatches.append(f"{tile.path}: {problem}")
            if headers.get("x-tile-truncated") == "true":
                result.truncated += 1
            result.sizes.append(len(api_body))
            if number < decode_sample:
                result.features.append(len(tile_features(api_body)))
            result.api += samples["api"]
            result.bare += samples["bare"]
            result.api_by_zoom.setdefault(tile.z, []).extend(samples["api"])
            result.bare_by_zoom.setdefault(tile.z, []).extend(samples["bare"])
    return result


def measure(
    *, tiles: list[Tile], repeats: int, roles=ROLES, base_url: str | None = None
) -> list[RoleResult]:
    """Every role over every tile, against `base_url` (a running server) or, without one, Django's
    test client (the baseline then on Django's connection, which sees a test's rows)."""

    def work(role: str, client, bare_connection) -> RoleResult:
        return role_measure(
            role=role,
            tiles=tiles,
            repeats=repeats,
            client=client,
            bare_connection=bare_connection,
        )

    return server.by_role(roles, base_url=base_url, work=work)


# --- the figure --------------------------------------------------------------------------------


def run(
    *, data: harness.DataState, tile_repeats: int, tiles: int, seed: int, web_workers: int
) -> list[harness.Figure]:
    load_before = os.getloadavg()[0]
    drawn = tiles_draw(count=tiles, seed=seed)
    with server.web_server(workers=web_workers) as web:
        harness.say(
            f"Tiles: {len(drawn)} tiles x {len(ROLES)} roles, {tile_repeats} timed runs each side"
        )
        results = measure(tiles=drawn, repeats=tile_repeats, base_url=web.base_url)
        described = web.describe()
    figure = _figure(
        data=data, tiles=drawn, results=results, repeats=tile_repeats, described=described
    )
    figure.notes.append(harness.load_note(load_before))
    return [figure]


def _figure(
    *,
    data: harness.DataState,
    tiles: list[Tile],
    results: list[RoleResult],
    repeats: int,
    described: str,
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

    rows = []
    for r in results:
        check = (
            f"OK ({r.byte_equal}/{len(r.sizes)} byte-equal)"
            if not r.mismatches
            else f"MISMATCH ({len(r.mismatches)} tiles)"
        )
        rows.append([f"{r.role}, z 6-14", len(r.api), *cells(r.api, r.bare), check])
        for label, zooms in (("z 6-9", range(6, 10)), ("z 10-14", range(10, 15))):
            api = [t for z in zooms for t in r.api_by_zoom.get(z, [])]
            bare = [t for z in zooms for t in r.bare_by_zoom.get(z, [])]
            if api:
                rows.append([f"  {r.role}, {label}", len(api), *cells(api, bare), ""])
    by_zoom = Counter(t.z for t in tiles)
    first = results[0]
    notes = [
        f"{len(tiles)} distinct tiles (seeded), each the tile of a random incident at a zoom "
        "drawn from 6 to 14; per zoom: "
        + ", ".join(f"z{z} {by_zoom[z]}" for z in sorted(by_zoom))
        + " (few distinct tiles cover the area at low zooms).",
        "Tile sizes: "
        + "; ".join(
            f"{r.role} median {harness.median(r.sizes) / 1024:.0f} KiB, largest "
            f"{max(r.sizes) / 1024:.0f} KiB, {r.truncated} truncated at "
            f"{MAX_FEATURES:,} features"
            for r in results
        )
        + (
            f"; features in the first {len(first.features)} tiles (decoded): median "
            f"{harness.median(first.features):,.0f}, largest {max(first.features):,} ({first.role})"
            if first.features
            else ""
        )
        + ".",
        f"API: GET /tiles/incidents/z/x/y.pbf with an API key, from {described}; timed from "
        "sending the request to the last byte. Analysts' tiles with features write an audit "
        "event; every answer carries an ETag (a SHA-256 of the tile).",
        "Bare: one hand-written ST_AsMVT statement on a psycopg2 connection of its own: "
        "ST_AsMVTGeom over ST_TileEnvelope (extent 4096, buffer 64), the same seven columns, "
        "the && filter on the buffered tile's box in WGS84 (slippy-map formulas), newest "
        "first, at most "
        f"{MAX_FEATURES:,}; the tile's bytes fetched whole.",
        f"p50 and p95 over every tile's {repeats} timed run(s) a side, the two sides interleaved "
        "(A B for one tile, B A for the next); no separate warm-up (the figures before this one "
        "read the same table), the first answers of each side are the ones compared.",
        "Check: every tile's bytes from the API equal the baseline's (if not, both are decoded "
        "and their features compared).",
    ]
    for r in results:
        notes += [f"{r.role}: {problem}" for problem in r.mismatches[:5]]
    return harness.Figure(
        title=f"Vector tiles, {data.incidents:,} incidents",
        columns=[
            "caller",
            "samples",
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
    parser.add_argument("--tiles", type=int, default=500, help="distinct tiles (vector tiles)")
    parser.add_argument(
        "--tile-repeats", type=int, default=1, help="timed runs of each side per tile"
    )
    parser.add_argument(
        "--web-workers", type=int, default=server.DEFAULT_WORKERS, help="gunicorn workers"
    )
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    harness.figure_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
