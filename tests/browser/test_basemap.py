"""The reference basemap in headless Chromium on a phone: where the raster tile server cannot be
reached (an office's closed network, a reporter offline) the dashboard draws our own vector tiles
beneath it: land, sub-district outlines and place names in the page's language. With
MAP_TILES_URL empty and an OpenStreetMap extract as PMTiles, the map draws that file (read with
range requests) beneath the reference areas.

Screenshots go to /tmp/basemap_*.png for a person to look at."""

import gzip
import re

import pytest
from django.db import connection

from camps.models import Camp
from patrols.models import Patrol
from tests.stack import AppStack

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
IDLIB_Z10 = "/?lat=35.88&lon=36.66&z=10&layers=none"
PMTILES_PATH = "/static/basemap/nw-test.pmtiles"

# Every string drawn on a canvas, so that a test can tell which names the labels show.
RECORD_CANVAS_TEXT = """
window.__canvasTexts = [];
const fillText = CanvasRenderingContext2D.prototype.fillText;
CanvasRenderingContext2D.prototype.fillText = function (text, ...rest) {
  window.__canvasTexts.push(String(text));
  return fillText.call(this, text, ...rest);
};
"""

# Pixels of the drawn tiles of one layer, sorted into the basemap's colours.
PIXELS = """(selector) => {
  const near = (d, i, rgb, tol) => Math.abs(d[i] - rgb[0]) <= tol &&
    Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol;
  const counts = { tiles: 0, opaque: 0, land: 0, outside: 0, outline: 0, dark: 0, all: 0 };
  for (const canvas of document.querySelectorAll(selector + ' canvas')) {
    if (!canvas.width) continue;
    counts.tiles += 1;
    const d = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 0; i < d.length; i += 4) {
      counts.all += 1;
      if (d[i + 3] > 200) counts.opaque += 1;
      if (near(d, i, [246, 243, 236], 3)) counts.land += 1;
      else if (near(d, i, [223, 228, 232], 3)) counts.outside += 1;
      else if (near(d, i, [191, 174, 151], 24) || near(d, i, [148, 123, 94], 24)) {
        counts.outline += 1;
      }
      else if (d[i] < 100 && d[i + 1] < 100 && d[i + 2] < 100 && d[i + 3] > 200) counts.dark += 1;
    }
  }
  return counts;
}"""


def only_the_app(base_url: str, *, hang: bool = False):
    """Requests to anything but the app fail at once (the default) or never answer (`hang`:
    a firewall that drops packets)."""

    def handle(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        elif not hang:
            route.abort("addressunreachable")

    return handle


@pytest.fixture
def phone(browser, admin_credentials, demo_data):
    contexts = []

    def open_(stack, language: str, *, hang: bool = False, routes=None, service_workers="allow"):
        context = browser.new_context(
            viewport=PHONE, device_scale_factor=2, is_mobile=True, service_workers=service_workers
        )
        contexts.append(context)
        context.route("**/*", only_the_app(stack.base_url, hang=hang))
        for pattern, handler in (routes or {}).items():  # the last route added is tried first
            context.route(pattern, handler)
        context.add_init_script(RECORD_CANVAS_TEXT)
        context.add_cookies([{"name": "django_language", "value": language, "url": stack.base_url}])
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on(
            "response",
            lambda r: (
                r.status >= 400 and "/favicon" not in r.url and errors.append(f"{r.status} {r.url}")
            ),
        )
        page.goto(stack.base_url + "/accounts/login/")
        page.fill("#id_username", admin_credentials["username"])
        page.fill("#id_password", admin_credentials["password"])
        # "load" never comes while tile requests hang: the document is enough.
        with page.expect_navigation(wait_until="domcontentloaded"):
            page.click("main form button[type=submit]")
        page.errors = errors
        return page

    yield open_
    for context in contexts:
        context.close()


def drawn(page, selector: str) -> dict:
    page.wait_for_function(
        f"() => ({PIXELS})({selector!r}).dark > 200",
        timeout=20_000,
    )
    page.wait_for_timeout(500)  # the labels of the last tiles
    return page.evaluate(PIXELS, selector)


def canvas_texts(page) -> set[str]:
    return set(page.evaluate("window.__canvasTexts"))


def screenshot(page, name: str) -> None:
    page.locator("#dashboard-map").screenshot(path=f"/tmp/basemap_{name}.png")


@pytest.mark.parametrize(
    ("language", "names", "not_names"),
    [
        ("en", {"Idlib", "Ariha", "Sarāqib"}, {"إدلب", "أريحا"}),
        ("ar", {"إدلب", "أريحا", "سراقب"}, {"Idlib", "Ariha"}),
    ],
)
def test_the_dashboard_draws_the_reference_basemap_when_the_tile_server_is_unreachable(
    phone, app_stack, language, names, not_names
):
    page = phone(app_stack, language)
    page.goto(app_stack.base_url + IDLIB_Z10, wait_until="domcontentloaded")
    page.wait_for_selector("#dashboard-map[data-basemap='raster+vector']", timeout=15_000)
    pixels = drawn(page, ".basemap-reference")
    screenshot(page, f"dashboard_{language}")
    assert pixels["tiles"] >= 4
    assert pixels["opaque"] == pixels["all"]  # no grey box: every pixel of every tile drawn
    assert pixels["land"] > pixels["all"] * 0.4
    assert pixels["outline"] > 2_000  # district and sub-district boundaries
    texts = canvas_texts(page)
    assert names <= texts, texts
    assert not (not_names & texts)
    assert "M4" in texts
    assert page.errors == []


def test_a_tile_server_that_never_answers_gives_way_to_the_basemap(phone, app_stack):
    page = phone(app_stack, "en", hang=True)
    page.goto(app_stack.base_url + IDLIB_Z10, wait_until="domcontentloaded")
    # No tile error and no tile: the basemap follows after fallbackMs (4 s).
    page.wait_for_selector("#dashboard-map[data-basemap='raster+vector']", timeout=15_000)
    assert drawn(page, ".basemap-reference")["land"] > 0
    assert page.errors == []


def test_going_offline_draws_the_basemap_at_once(phone, app_stack):
    page = phone(app_stack, "en", hang=True)
    page.goto(app_stack.base_url + IDLIB_Z10, wait_until="domcontentloaded")
    page.wait_for_selector("#dashboard-map[data-basemap='raster']")
    page.context.set_offline(True)
    page.wait_for_selector("#dashboard-map[data-basemap='raster+vector']", timeout=1_500)
    page.context.set_offline(False)


@pytest.mark.parametrize("kind", ["zone", "camp", "patrol"])
def test_page_maps_draw_the_basemap_too(phone, app_stack, kind):
    if kind == "zone":
        path = "/zones/SY070500/"
    elif kind == "camp":
        path = f"/camps/{Camp.objects.exclude(location=None).order_by('site_id')[0].site_id}/"
    else:
        path = f"/patrols/{Patrol.objects.exclude(track=None).order_by('id')[0].pk}/"
    page = phone(app_stack, "ar")
    assert page.goto(app_stack.base_url + path, wait_until="domcontentloaded").status == 200
    page.wait_for_selector("[data-basemap='raster+vector']", timeout=15_000)
    assert drawn(page, ".basemap-reference")["land"] > 0
    page.locator(".leaflet-container").first.screenshot(path=f"/tmp/basemap_{kind}_ar.png")
    assert page.errors == []


# An OpenStreetMap extract, as the Protomaps basemap lays it out (earth, roads, places), made
# here from the reference data so that the test needs no download.
PROTOMAPS_TILE_SQL = """
WITH tile AS (SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS envelope)
SELECT coalesce((SELECT ST_AsMVT(q, 'earth', 4096, 'geom') FROM (
    SELECT 'earth' AS kind,
           ST_AsMVTGeom(ST_Transform(geom, 3857), tile.envelope, 4096, 64, true) AS geom
    FROM zones_zone, tile
    WHERE kind = 'governorate' AND geom && ST_Transform(tile.envelope, 4326)) q
    WHERE geom IS NOT NULL), '')
|| coalesce((SELECT ST_AsMVT(q, 'roads', 4096, 'geom') FROM (
    SELECT 'highway' AS kind, 'M4' AS ref,
           ST_AsMVTGeom(ST_Transform(geom, 3857), tile.envelope, 4096, 64, true) AS geom
    FROM patrols_route, tile
    WHERE kind = 'highway' AND geom && ST_Transform(tile.envelope, 4326)) q
    WHERE geom IS NOT NULL), '')
|| coalesce((SELECT ST_AsMVT(q, 'places', 4096, 'geom') FROM (
    SELECT 'locality' AS kind, name_en || ' (OSM)' AS name, name_ar AS "name:ar", 5 AS min_zoom,
           ST_AsMVTGeom(ST_Transform(location, 3857), tile.envelope, 4096, 64, true) AS geom
    FROM zones_locality, tile
    WHERE name_en IN ('Idlib', 'Ariha', 'Saraqib', 'Jisr ash Shughūr')
      AND location && ST_Transform(tile.envelope, 4326)) q
    WHERE geom IS NOT NULL), '')
"""


def protomaps_extract() -> bytes:
    """A PMTiles file (gzipped MVT, zooms 5 to 9) written by the `pmtiles` package."""
    import io

    from pmtiles.tile import Compression, TileType, zxy_to_tileid
    from pmtiles.writer import Writer

    from monitoring.basemap import tiles_covering

    extent = (35.5, 34.5, 38.9, 37.0)
    tiles = []
    with connection.cursor() as cursor:
        for z in range(5, 10):
            for x, y in tiles_covering(extent, z):
                cursor.execute(PROTOMAPS_TILE_SQL, {"z": z, "x": x, "y": y})
                body = bytes(cursor.fetchone()[0])
                if body:
                    tiles.append((zxy_to_tileid(z, x, y), gzip.compress(body)))
    out = io.BytesIO()
    writer = Writer(out)
    for tile_id, body in sorted(tiles):
        writer.write_tile(tile_id, body)
    e7 = [round(value * 10_000_000) for value in extent]
    writer.finalize(
        {
            "tile_type": TileType.MVT,
            "tile_compression": Compression.GZIP,
            "min_lon_e7": e7[0],
            "min_lat_e7": e7[1],
            "max_lon_e7": e7[2],
            "max_lat_e7": e7[3],
            "center_zoom": 8,
        },
        {"vector_layers": [{"id": name} for name in ("earth", "roads", "places")]},
    )
    return out.getvalue()


@pytest.fixture(scope="module")
def pmtiles_stack(reference_data, tmp_path_factory, django_db_blocker):
    """The app on a closed network with an office's OpenStreetMap extract: no MAP_TILES_URL."""
    stack = AppStack(
        log_dir=tmp_path_factory.mktemp("pmtiles-stack"),
        env={"MAP_TILES_URL": "", "BASEMAP_PMTILES_URL": PMTILES_PATH},
    )
    stack.start()
    yield stack
    with django_db_blocker.unblock():
        stack.stop()


def serve_with_ranges(data: bytes, requests: list):
    """The file as a static file server with HTTP range requests answers (WhiteNoise does:
    tests/monitoring/test_basemap_files.py)."""

    def handle(route):
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", route.request.headers.get("range", ""))
        if not match:
            route.fulfill(status=200, body=data, content_type="application/octet-stream")
            return
        start = int(match.group(1))
        end = min(int(match.group(2) or len(data) - 1), len(data) - 1)
        requests.append((start, end))
        route.fulfill(
            status=206,
            body=data[start : end + 1],
            headers={
                "Content-Range": f"bytes {start}-{end}/{len(data)}",
                "Content-Type": "application/octet-stream",
                "Accept-Ranges": "bytes",
            },
        )

    return handle


def test_a_closed_network_with_a_pmtiles_extract_draws_it(phone, pmtiles_stack, django_db_blocker):
    with django_db_blocker.unblock():
        data = protomaps_extract()
    ranges = []
    # The field app's service worker is left out: its own requests would bypass the route.
    page = phone(
        pmtiles_stack,
        "en",
        routes={f"**{PMTILES_PATH}": serve_with_ranges(data, ranges)},
        service_workers="block",
    )
    raster = []
    page.on("request", lambda r: "openstreetmap" in r.url and raster.append(r.url))
    page.goto(pmtiles_stack.base_url + IDLIB_Z10, wait_until="domcontentloaded")
    page.wait_for_selector("#dashboard-map[data-basemap='vector']")
    page.wait_for_function("() => window.__canvasTexts.some((t) => t.endsWith('(OSM)'))")
    page.wait_for_timeout(1000)
    texts = canvas_texts(page)
    assert {"Idlib (OSM)", "Ariha (OSM)"} <= texts  # the extract's places, not ours
    assert "Sarāqib" not in texts  # our villages give way to the extract's places
    assert len(ranges) >= 2 and all(end - start < len(data) for start, end in ranges)
    extract = page.evaluate(PIXELS, ".basemap-pmtiles")
    assert extract["opaque"] > extract["all"] * 0.9
    overlay = page.evaluate(PIXELS, ".basemap-reference")
    assert overlay["outline"] > 1_000  # our sub-district outlines over the extract
    assert raster == []
    screenshot(page, "pmtiles_en")
    assert page.errors == []
