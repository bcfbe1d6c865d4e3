"""The settings every page map starts from (static/js/basemap.js reads them): view, zoom range,
the raster tiles of MAP_TILES_URL and the reference basemap that stands in for them."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils.html import escape
from django.utils.translation import gettext as _

# The reference basemap's tiles (monitoring.basemap): the client enlarges the last zoom's above it.
BASEMAP_MIN_ZOOM = 6
BASEMAP_MAX_ZOOM = 14
# Without a tile loaded this long after the first failure, the map draws the reference basemap.
RASTER_FALLBACK_MS = 4000
_PLACEHOLDERS = {"z": 900001, "x": 900002, "y": 900003}


def basemap_data_max_zoom() -> int:
    """The last zoom whose tiles the client reads (and a phone keeps offline); above it the
    client enlarges them, so that a map offline draws what it drew online."""
    return max(BASEMAP_MIN_ZOOM, min(settings.BASEMAP_PRECACHE_MAX_ZOOM, BASEMAP_MAX_ZOOM))


def basemap_tile_template() -> str:
    """The basemap's tile URL with {z}, {x} and {y} in place (the client fills them in)."""
    url = reverse("basemap-tile", kwargs=_PLACEHOLDERS)
    for name, number in _PLACEHOLDERS.items():
        url = url.replace(str(number), "{" + name + "}")
    return url


def basemap_attribution() -> str:
    """The sources of the reference basemap (Leaflet shows attributions as HTML: escaped)."""
    return escape(
        _(
            "Reference data: OCHA COD-AB, geoBoundaries, Open-Syria, GeoNames (CC BY), "
            "Who's On First, ACU"
        )
    )


def map_config() -> dict:
    """What CeasefireBasemap.add(map, config) needs, for a page's json_script config.

    `tiles` is the raster tile URL ("" on closed networks), `attribution` its attribution;
    `basemap` the reference basemap: tile URL template, the server's zoom range, the zoom the
    client reads tiles up to, an optional PMTiles URL, attributions, and how long the raster
    tiles may fail before the basemap is drawn beneath them."""
    leaflet = settings.LEAFLET_CONFIG
    tiles = leaflet.get("TILES") or []
    _name, tiles_url, tiles_options = tiles[0] if tiles else ("", "", {})
    return {
        "center": list(leaflet["DEFAULT_CENTER"]),
        "zoom": leaflet["DEFAULT_ZOOM"],
        "minZoom": leaflet.get("MIN_ZOOM", BASEMAP_MIN_ZOOM),
        "maxZoom": leaflet.get("MAX_ZOOM", 18),
        "extent": list(leaflet["SPATIAL_EXTENT"]),
        "tiles": tiles_url,
        "tilesMaxZoom": tiles_options.get("maxZoom", leaflet.get("MAX_ZOOM", 18)),
        "attribution": tiles_options.get("attribution", ""),
        "basemap": {
            "url": basemap_tile_template(),
            "minZoom": BASEMAP_MIN_ZOOM,
            "maxZoom": BASEMAP_MAX_ZOOM,
            # The client reads tiles up to the zoom phones keep offline and enlarges them above.
            "maxDataZoom": basemap_data_max_zoom(),
            "pmtilesUrl": settings.BASEMAP_PMTILES_URL,
            "pmtilesAttribution": escape(settings.BASEMAP_PMTILES_ATTRIBUTION),
            "attribution": basemap_attribution(),
            "fallbackMs": RASTER_FALLBACK_MS,
        },
    }
