"""The reference basemap: valid vector tiles of the reference data (names in both scripts), empty
outside the area, public and long cached with the basemap's version, gzip on request; bad
coordinates are 404s naming the coordinate; the precache list covers the project's extent."""

import gzip
import math

import mapbox_vector_tile
import pytest
from django.test import Client, override_settings
from django.urls import reverse

from common.maps import basemap_tile_template, map_config
from monitoring import basemap
from tests.factories import ARIHA, IDLIB
from zones.models import Locality, Zone
from zones.selectors import SEAT_OF_DISTRICT, SEAT_OF_SUBDISTRICT, locality_seat_ranks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

LAYERS = {"subdistricts", "boundaries", "corridor", "m4", "camps", "area_labels", "localities"}


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tile_url(z: int, x: int, y: int) -> str:
    return reverse("basemap-tile", kwargs={"z": z, "x": x, "y": y})


def layers_of(response) -> dict:
    body = response.content
    if response.get("Content-Encoding") == "gzip":
        body = gzip.decompress(body)
    return mapbox_vector_tile.decode(body)


def names(layer: dict, key: str) -> set[str]:
    return {f["properties"].get(key) for f in layer["features"]} - {None}


@pytest.fixture(autouse=True)
def fresh_version():
    basemap.forget_basemap_version()
    yield
    basemap.forget_basemap_version()


def test_a_tile_over_idlib_holds_every_layer():
    layers = layers_of(Client().get(tile_url(*tile_of(*IDLIB, 9))))
    assert set(layers) == LAYERS - {"camps"}  # the camps lie north, by the border
    camps = layers_of(Client().get(tile_url(*tile_of(36.67, 36.22, 9))))["camps"]
    assert names(camps, "name_ar") and names(camps, "name_en")


def test_localities_and_areas_carry_arabic_and_latin_names():
    layers = layers_of(Client().get(tile_url(*tile_of(*IDLIB, 10))))
    assert {"Idlib", "Ariha"} <= names(layers["localities"], "name_en")
    assert {"إدلب", "أريحا"} <= names(layers["localities"], "name_ar")
    assert "Ariha" in names(layers["subdistricts"], "name_en")
    assert "مركز أريحا" in names(layers["subdistricts"], "name_ar")  # "centre of Ariha"
    assert {"governorate", "district", "subdistrict"} == {
        f["properties"]["kind"] for f in layers["area_labels"]["features"]
    }
    assert {1, 2, 3} <= {f["properties"]["level"] for f in layers["boundaries"]["features"]}
    assert names(layers["m4"], "ref") == {"M4"}


def test_a_locality_without_an_arabic_name_has_no_empty_one():
    # The client's label falls back to the other script only when the name is absent.
    locality = Locality.objects.filter(name_ar="").first()
    z, x, y = tile_of(locality.location.x, locality.location.y, 12)
    features = layers_of(Client().get(tile_url(z, x, y)))["localities"]["features"]
    mine = [f for f in features if f["properties"]["name_en"] == locality.name_en]
    assert mine and all("name_ar" not in f["properties"] for f in mine)


def test_villages_appear_from_zoom_11_and_seats_before():
    def ranks(z):
        layer = layers_of(Client().get(tile_url(*tile_of(*ARIHA, z)))).get("localities")
        return {f["properties"]["rank"] for f in layer["features"]} if layer else set()

    assert ranks(6) == {SEAT_OF_DISTRICT}
    assert ranks(8) == {SEAT_OF_DISTRICT, SEAT_OF_SUBDISTRICT}
    assert 3 in ranks(11)


def test_seats_are_the_localities_that_name_their_area():
    ranks = locality_seat_ranks()
    by_name = {(loc.name_en, loc.adm3_pcode): loc.id for loc in Locality.objects.all()}
    assert ranks[by_name[("Idlib", "SY070000")]] == SEAT_OF_DISTRICT
    assert ranks[by_name[("Ariha", "SY070500")]] == SEAT_OF_DISTRICT
    armanaz = Locality.objects.get(name_en="Armanaz")  # a sub-district's seat only
    assert ranks[armanaz.id] == SEAT_OF_SUBDISTRICT
    assert 60 < len(ranks) < 136  # not every area's seat is spelt alike in the gazetteer


def test_a_tile_outside_the_area_is_empty():
    response = Client().get(tile_url(*tile_of(-0.1, 51.5, 9)))  # London
    assert response.status_code == 200
    assert response.content == b""
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/basemap/5/19/12.mvt", "z"),
        ("/basemap/15/0/0.mvt", "z"),
        ("/basemap/99999999999999999999/0/0.mvt", "z"),
        ("/basemap/9/512/201.mvt", "x"),
        ("/basemap/9/308/512.mvt", "y"),
    ],
)
def test_a_tile_outside_the_range_is_a_404_naming_the_coordinate(path, name):
    response = Client().get(path)
    assert response.status_code == 404
    assert list(response.json()) == [name]


@pytest.mark.parametrize("path", ["/basemap/9/-1/201.mvt", "/basemap/a/b/c.mvt", "/basemap/9/308"])
def test_a_malformed_tile_path_is_a_404(path):
    assert Client().get(path).status_code == 404


def test_tiles_are_public_and_cached_under_the_basemap_version():
    url = tile_url(*tile_of(*IDLIB, 9))
    response = Client().get(url)
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public, max-age=86400")
    assert response["ETag"] == f'"{basemap.basemap_version()}"'
    assert "Accept-Encoding" in response["Vary"] and "Cookie" not in response["Vary"]
    again = Client().get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_signed_in_readers_get_the_same_public_tile(users):
    client = Client()
    client.force_login(users["analyst"])
    response = client.get(tile_url(*tile_of(*IDLIB, 9)))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("public")
    assert "Cookie" not in response.get("Vary", "")


def test_tiles_are_gzipped_for_clients_that_take_it():
    url = tile_url(*tile_of(*IDLIB, 8))
    plain = Client().get(url)
    zipped = Client().get(url, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert zipped["Content-Encoding"] == "gzip"
    assert gzip.decompress(zipped.content) == plain.content
    assert len(zipped.content) < len(plain.content)
    assert zipped["ETag"] != plain["ETag"]  # two representations, two validators
    refused = Client().get(url, HTTP_ACCEPT_ENCODING="gzip;q=0, identity")
    assert not refused.has_header("Content-Encoding")


def test_the_version_changes_with_the_reference_data():
    before = basemap.basemap_version()
    assert basemap.basemap_version() == before
    Zone.objects.filter(pcode="SY070500").update(name_en="Ariha (renamed)")
    basemap.forget_basemap_version()
    assert basemap.basemap_version() != before


def test_the_largest_tile_stays_small():
    """Every tile of the extent up to zoom 10 (and a sample at 11 and 12) under 64 KiB before
    gzip: the phone's first offline map must come quickly over a bad connection."""
    extent = (35.5, 34.5, 38.9, 37.0)
    largest = 0
    for z in range(6, 13):
        for x, y in basemap.tiles_covering(extent, z):
            if z > 10 and (x + y) % 5:
                continue
            largest = max(largest, len(basemap.basemap_tile(z, x, y)))
    assert 0 < largest < 64 * 1024


def test_the_precache_list_names_every_tile_of_the_extent():
    response = Client().get(reverse("basemap-precache"))
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == basemap.basemap_version()
    urls = body["urls"]
    assert len(urls) == len(set(urls))
    assert tile_url(*tile_of(*IDLIB, 6)) in urls and tile_url(*tile_of(*IDLIB, 12)) in urls
    zooms = {int(url.split("/")[2]) for url in urls}
    assert zooms == set(range(6, 13))
    # The corners of SPATIAL_EXTENT (west, south, east, north) at the last zoom.
    assert tile_url(*tile_of(35.5, 37.0, 12)) in urls and tile_url(*tile_of(38.9, 34.5, 12)) in urls
    assert response["Cache-Control"] == "public, max-age=300"
    assert (
        Client().get(reverse("basemap-precache"), HTTP_IF_NONE_MATCH=response["ETag"]).status_code
        == 304
    )


@override_settings(BASEMAP_PRECACHE_MAX_ZOOM=9)
def test_the_precache_list_ends_at_the_zoom_the_client_reads():
    urls = Client().get(reverse("basemap-precache")).json()["urls"]
    assert {int(url.split("/")[2]) for url in urls} == {6, 7, 8, 9}
    assert map_config()["basemap"]["maxDataZoom"] == 9


def test_the_precache_list_is_small_enough_for_a_phone():
    """Under 5 MB in all (about 1.5 MB at the default zooms 6 to 12)."""
    total = sum(
        len(basemap.basemap_tile(z, x, y))
        for z, x, y in basemap.precache_tiles()
        if z < 12 or (x + y) % 4 == 0
    )
    total += 3 * sum(  # the three in four z12 tiles skipped above, as their sampled siblings
        len(basemap.basemap_tile(z, x, y))
        for z, x, y in basemap.precache_tiles()
        if z == 12 and (x + y) % 4 == 0
    )
    assert total < 5_000_000


def test_the_map_config_names_the_tile_template_and_zoom_range():
    config = map_config()
    assert config["basemap"]["url"] == "/basemap/{z}/{x}/{y}.mvt" == basemap_tile_template()
    assert (config["basemap"]["minZoom"], config["basemap"]["maxZoom"]) == (6, 14)
    assert config["extent"] == [35.5, 34.5, 38.9, 37.0]
    assert "Who&#x27;s On First" in config["basemap"]["attribution"]
