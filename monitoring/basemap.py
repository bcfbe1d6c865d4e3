"""The reference basemap: Mapbox vector tiles of the project's own public reference data (admin
areas and their names, the gazetteer's localities, the M4 line, the corridor, camps), so that
every map draws something useful where no tile server can be reached (offline, closed networks).

Never an incident and nothing about who asks: a tile is the same for every caller, so it is
public and long cached. Its version is a digest of the rows it draws and of the statement that
draws them; the service worker stores the tiles listed by `precache_urls()` under that version.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from psycopg2 import sql

from camps.models import Camp
from common.maps import BASEMAP_MAX_ZOOM, BASEMAP_MIN_ZOOM, basemap_data_max_zoom
from common.sql import sql_text
from patrols.models import Route
from zones.models import ADMIN_KINDS, Locality, Zone, ZoneKind
from zones.selectors import (
    OTHER_LOCALITY,
    SEAT_OF_DISTRICT,
    SEAT_OF_SUBDISTRICT,
    locality_seat_ranks,
)

MIN_ZOOM = BASEMAP_MIN_ZOOM
# Above this the client overzooms (enlarges the z14 tile): the reference data hold no detail a
# closer tile would show.
MAX_ZOOM = BASEMAP_MAX_ZOOM
# Tile coordinate units: a 256-pixel tile holds 1024 (a quarter pixel, half a pixel on a
# high-density screen); the tiles the client enlarges hold 4096: from the last zoom it reads
# (common.maps.basemap_data_max_zoom, z12 by default) or from z12, whichever comes first.
EXTENT = 1024
FINE_EXTENT = 4096
FINE_FROM_ZOOM = 12
# Geometry drawn beyond the tile's edge, as a fraction of the tile (strokes and dots across it).
BUFFER_FRACTION = 1 / 64
# Lines and areas are simplified to a quarter of a 256-pixel tile's pixel before clipping: finer
# than the reference data themselves (boundaries drawn at 1:100,000 or coarser).
SIMPLIFY_PIXELS = 0.25
# A village's label from zoom 11; a sub-district's seat from 8; a governorate's or district's
# seat from the first zoom.
LOCALITY_RANK_FROM_ZOOM = {SEAT_OF_DISTRICT: MIN_ZOOM, SEAT_OF_SUBDISTRICT: 8, OTHER_LOCALITY: 11}
# Earth's circumference at the equator in Web Mercator metres.
_WORLD_M = 2 * math.pi * 6378137
_VERSION_KEY = "monitoring:basemap-version"
# The reference data changes when an administrator loads or edits it: a web process notices
# within this many seconds (each process keeps its own copy of the digest).
VERSION_TTL_SECONDS = 300


def _fine_from_zoom() -> int:
    return min(FINE_FROM_ZOOM, basemap_data_max_zoom())


def _statement(name: str) -> sql.Composed:
    tables = {
        "zones": Zone._meta.db_table,
        "localities": Locality._meta.db_table,
        "routes": Route._meta.db_table,
        "camps": Camp._meta.db_table,
    }
    return sql.SQL(sql_text("monitoring", name)).format(
        **{key: sql.Identifier(table) for key, table in tables.items()}
    )


def _reference() -> dict:
    """The version and the localities' seat ranks, computed together and kept for a while."""
    reference = cache.get(_VERSION_KEY)
    if reference is None:
        with connection.cursor() as cursor:
            cursor.execute(_statement("basemap_digest"))
            (data_digest,) = cursor.fetchone()
        seats = locality_seat_ranks()
        # What else decides a tile's bytes: the statement, the settings it is given, the seats.
        drawing = (
            sql_text("monitoring", "basemap_tile"),
            (EXTENT, FINE_EXTENT, _fine_from_zoom(), BUFFER_FRACTION, SIMPLIFY_PIXELS),
            LOCALITY_RANK_FROM_ZOOM,
            sorted(seats.items()),
        )
        version = hashlib.sha256(f"{data_digest}:{drawing!r}".encode()).hexdigest()[:16]
        reference = {"version": version, "seat_ids": list(seats), "seat_ranks": [*seats.values()]}
        cache.set(_VERSION_KEY, reference, VERSION_TTL_SECONDS)
    return reference


def basemap_version() -> str:
    """BASEMAP_VERSION: changes whenever a tile would."""
    return _reference()["version"]


def forget_basemap_version() -> None:
    """Recompute the version on next use (after loading reference data in this process)."""
    cache.delete(_VERSION_KEY)


def is_tile(z: int, x: int, y: int) -> str | None:
    """None for a tile of the basemap, else the name of the coordinate that is out of range."""
    if not MIN_ZOOM <= z <= MAX_ZOOM:
        return "z"
    if not 0 <= x < 2**z:
        return "x"
    if not 0 <= y < 2**z:
        return "y"
    return None


def basemap_tile(z: int, x: int, y: int) -> bytes:
    """The tile's bytes (empty where the reference data has nothing), in one statement."""
    extent = FINE_EXTENT if z >= _fine_from_zoom() else EXTENT
    buffer = round(extent * BUFFER_FRACTION)
    reference = _reference()
    params = {
        "z": z,
        "x": x,
        "y": y,
        "extent": extent,
        "buffer": buffer,
        "margin": BUFFER_FRACTION,
        "tolerance": _WORLD_M / 2**z / 256 * SIMPLIFY_PIXELS,
        "admin_kinds": [str(kind) for kind in ADMIN_KINDS],
        "subdistrict": str(ZoneKind.SUBDISTRICT),
        "corridor_kind": str(ZoneKind.SECURITY_CORRIDOR),
        "seat_ids": reference["seat_ids"],
        "seat_ranks": reference["seat_ranks"],
        "other_rank": OTHER_LOCALITY,
        "max_rank": max(r for r, zoom in LOCALITY_RANK_FROM_ZOOM.items() if zoom <= z),
    }
    with connection.cursor() as cursor:
        cursor.execute(_statement("basemap_tile"), params)
        (tile,) = cursor.fetchone()
    return bytes(tile or b"")


def tiles_covering(
    extent: tuple[float, float, float, float], zoom: int
) -> Iterator[tuple[int, int]]:
    """(x, y) of every Web Mercator tile at `zoom` that overlaps (west, south, east, north)."""
    west, south, east, north = extent
    n = 2**zoom

    def column(lon: float) -> int:
        return min(n - 1, max(0, math.floor((lon + 180) / 360 * n)))

    def row(lat: float) -> int:
        lat = max(-85.0511, min(85.0511, lat))
        mercator = math.asinh(math.tan(math.radians(lat)))
        return min(n - 1, max(0, math.floor((1 - mercator / math.pi) / 2 * n)))

    for x in range(column(west), column(east) + 1):
        for y in range(row(north), row(south) + 1):
            yield x, y


def precache_tiles() -> Iterator[tuple[int, int, int]]:
    """(z, x, y) of the tiles a phone keeps for offline use, which are all the client reads:
    the project's extent (LEAFLET_CONFIG["SPATIAL_EXTENT"]) from MIN_ZOOM to
    BASEMAP_PRECACHE_MAX_ZOOM."""
    extent = settings.LEAFLET_CONFIG["SPATIAL_EXTENT"]
    for zoom in range(MIN_ZOOM, basemap_data_max_zoom() + 1):
        for x, y in tiles_covering(extent, zoom):
            yield zoom, x, y
