"""The reference basemap's tiles and the list of the tiles a phone keeps (monitoring/basemap.py).

Both are public: reference data from public sources, the same for every caller, so a shared cache
may keep them and a service worker may fetch them before anyone signs in. Tiles are cached for a
day and revalidated by their ETag, the basemap's version (a 304 costs no transfer); after new
reference data a tile changes at most a day later, and the precache list's version at once.
"""

from __future__ import annotations

import gzip
import re

from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from accounts.audit import no_exact_locations
from common.maps import basemap_tile_template
from common.middleware import same_for_every_caller
from monitoring import basemap

CONTENT_TYPE = "application/vnd.mapbox-vector-tile"
TILE_CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=2592000"
# The list names the version: the service worker asks for it whenever it is online.
PRECACHE_CACHE_CONTROL = "public, max-age=300"
_GZIP = re.compile(r"\bgzip\b(?!\s*;\s*q=0(?:\.0*)?\b)")


def _not_modified(request, etag: str) -> bool:
    etags = parse_etags(request.META.get("HTTP_IF_NONE_MATCH", ""))
    return etag in etags or "*" in etags


def _cached(response, etag: str, cache_control: str):
    response["ETag"] = etag
    response["Cache-Control"] = cache_control
    return response


def _out_of_range(name: str) -> str:
    if name == "z":
        return _("Must be from %(lo)d to %(hi)d.") % {
            "lo": basemap.MIN_ZOOM,
            "hi": basemap.MAX_ZOOM,
        }
    return _("No such tile at this zoom level.")


@no_exact_locations
@same_for_every_caller
@require_safe
def basemap_tile(request, z: int, x: int, y: int):
    """One tile (layers subdistricts, boundaries, corridor, m4, camps, area_labels,
    localities); gzip when the client takes it. A tile outside the zoom range or the grid is a
    404 naming the coordinate."""
    wrong = basemap.is_tile(z, x, y)
    if wrong:
        return JsonResponse({wrong: [_out_of_range(wrong)]}, status=404)
    gzipped = bool(_GZIP.search(request.META.get("HTTP_ACCEPT_ENCODING", "")))
    etag = f'"{basemap.basemap_version()}{"-gz" if gzipped else ""}"'
    if _not_modified(request, etag):
        response = HttpResponseNotModified()
    else:
        body = basemap.basemap_tile(z, x, y)
        response = HttpResponse(
            gzip.compress(body, 6) if gzipped and body else body, content_type=CONTENT_TYPE
        )
        if gzipped and body:
            response["Content-Encoding"] = "gzip"
    response["Vary"] = "Accept-Encoding"
    return _cached(response, etag, TILE_CACHE_CONTROL)


@no_exact_locations
@same_for_every_caller
@require_safe
def basemap_precache(request):
    """{"version", "urls"}: every tile of the project's extent from zoom 6 to
    BASEMAP_PRECACHE_MAX_ZOOM, for the service worker to keep under that version."""
    version = basemap.basemap_version()
    etag = f'"{version}"'
    if _not_modified(request, etag):
        return _cached(HttpResponseNotModified(), etag, PRECACHE_CACHE_CONTROL)
    template = basemap_tile_template()
    urls = [template.format(z=z, x=x, y=y) for z, x, y in basemap.precache_tiles()]
    response = JsonResponse({"version": version, "urls": urls})
    return _cached(response, etag, PRECACHE_CACHE_CONTROL)
