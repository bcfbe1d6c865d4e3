"""Vector tiles: contents equal the incident API for the same filter and reader; partners get
grid locations; HTTP caching; bad coordinates are 400s."""

import datetime
import math

import mapbox_vector_tile
import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from incidents.api.tiles import EXTENT, tile_bounds
from tests.alerts.helpers import verified_incident
from tests.factories import ARIHA, IDLIB, NAYRAB

pytestmark = pytest.mark.django_db

ZOOM = 9


def tile_of(lon: float, lat: float, z: int = ZOOM) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def to_lon_lat(z: int, x: int, y: int, px: float, py: float) -> tuple[float, float]:
    """Tile pixel (y up, as mapbox_vector_tile decodes by default) back to degrees."""
    n = 2**z
    tx = x + px / EXTENT
    ty = y + 1 - py / EXTENT
    lon = tx / n * 360 - 180
    lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))
    return lon, lat


def decode(body: bytes) -> list[dict]:
    layers = mapbox_vector_tile.decode(body)
    return layers["incidents"]["features"] if layers else []


@pytest.fixture
def incidents(reference_data, users):
    reporter, analyst = users["reporter_a"], users["analyst"]
    week_ago = timezone.now() - datetime.timedelta(days=7)
    made = {
        "idlib": verified_incident(reporter=reporter, analyst=analyst, point=IDLIB),
        "ariha": verified_incident(
            reporter=reporter, analyst=analyst, point=ARIHA, sub_type="air-drone-strike"
        ),
        "old": verified_incident(
            reporter=reporter, analyst=analyst, point=NAYRAB, occurred_at=week_ago, killed=2
        ),
        "unverified": verified_incident(
            reporter=users["reporter_b"], analyst=analyst, point=IDLIB, verify=False
        ),
    }
    return made


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _api_ids(client, bounds, params: str = "") -> set[str]:
    bbox = ",".join(f"{v:.8f}" for v in bounds)
    body = client.get(f"/api/v1/incidents/?bbox={bbox}&page_size=1000{params}").json()
    return {row["id"] for row in body["results"]}


@pytest.mark.parametrize(
    "params",
    ["", "&sub_type=air-drone-strike", "&review_status=verified", "&occurred_before=%s"],
)
def test_tile_contents_equal_the_api_for_the_same_filter(incidents, users, params):
    if "%s" in params:
        params = params % (timezone.now() - datetime.timedelta(days=3)).date().isoformat()
    z, x, y = tile_of(*IDLIB)
    assert tile_of(*ARIHA) == (z, x, y) == tile_of(*NAYRAB)
    client = _client(users["analyst"])
    response = client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf?{params.lstrip('&')}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    features = decode(response.content)
    tile_ids = {feature["properties"]["uuid"] for feature in features}
    assert tile_ids == _api_ids(client, tile_bounds(z, x, y), params)
    assert tile_ids  # every filter here matches something


def test_analysts_get_exact_positions_and_properties(incidents, users):
    z, x, y = tile_of(*IDLIB)
    features = decode(_client(users["analyst"]).get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)
    by_id = {feature["properties"]["uuid"]: feature for feature in features}
    old = incidents["old"]
    feature = by_id[str(old.client_uuid)]
    lon, lat = to_lon_lat(z, x, y, *feature["geometry"]["coordinates"])
    pixel_degrees = 360 / 2**z / EXTENT
    assert abs(lon - old.location.x) <= pixel_degrees and abs(lat - old.location.y) <= pixel_degrees
    assert feature["properties"]["killed"] == 2
    assert feature["properties"]["sub_event_type"] == "shelling-artillery-missile-attack"
    assert feature["properties"]["occurred_at"] == old.occurred_at.astimezone(
        datetime.UTC
    ).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EXACT_LOCATION_READ, object_type="incident_tile"
    ).exists()


def test_partners_get_verified_incidents_on_the_grid(incidents, users, partner_key):
    z, x, y = tile_of(*IDLIB)
    client = APIClient(HTTP_AUTHORIZATION=f"Api-Key {partner_key}")
    features = decode(client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)
    ids = {feature["properties"]["uuid"] for feature in features}
    assert str(incidents["unverified"].client_uuid) not in ids
    assert ids == _api_ids(client, tile_bounds(z, x, y))
    pixel_degrees = 360 / 2**z / EXTENT
    for feature in features:
        incident = next(
            i for i in incidents.values() if str(i.client_uuid) == feature["properties"]["uuid"]
        )
        lon, lat = to_lon_lat(z, x, y, *feature["geometry"]["coordinates"])
        coarse = incident.location_coarse
        assert abs(lon - coarse.x) <= pixel_degrees and abs(lat - coarse.y) <= pixel_degrees
        assert (
            abs(lon - incident.location.x) > pixel_degrees
            or abs(lat - incident.location.y) > pixel_degrees
        )


def test_reporters_see_their_own_reports_only(incidents, users):
    z, x, y = tile_of(*IDLIB)
    features = decode(_client(users["reporter_b"]).get(f"/tiles/incidents/{z}/{x}/{y}.pbf").content)
    assert [f["properties"]["uuid"] for f in features] == [str(incidents["unverified"].client_uuid)]


def test_an_unchanged_tile_is_a_304_and_a_changed_one_is_not(incidents, users):
    z, x, y = tile_of(*IDLIB)
    client = _client(users["analyst"])
    url = f"/tiles/incidents/{z}/{x}/{y}.pbf"
    first = client.get(url)
    assert first["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Cookie"} <= {v.strip() for v in first["Vary"].split(",")}
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b""
    verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=IDLIB)
    changed = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


def test_an_empty_tile_is_an_empty_body(incidents, users):
    response = _client(users["analyst"]).get("/tiles/incidents/9/0/0.pbf")
    assert response.status_code == 200 and decode(response.content) == []


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/tiles/incidents/23/0/0.pbf", "z"),
        ("/tiles/incidents/2/4/0.pbf", "x"),
        ("/tiles/incidents/2/0/9.pbf", "x"),
        ("/tiles/incidents/9/300/200.pbf?colour=red", "colour"),
        ("/tiles/incidents/9/300/200.pbf?occurred_after=yesterday", "occurred_after"),
        ("/tiles/incidents/9/300/200.pbf?bbox=1,2", "bbox"),
    ],
)
def test_bad_tile_requests_are_400s_naming_the_field(reference_data, users, url, field):
    response = _client(users["analyst"]).get(url)
    assert response.status_code == 400
    assert field in response.json()


def test_anonymous_callers_get_no_tile(reference_data):
    assert APIClient().get("/tiles/incidents/9/300/200.pbf").status_code in (401, 403)
