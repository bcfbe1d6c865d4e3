"""The patrol API: routes, patrols with tracks and events, observation posts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from common.pagination import CappedPageNumberPagination
from patrols.models import Forces, ObservationPost, Patrol, PatrolEvent
from tests.factories import NAYRAB, TRUMBA, PatrolEventFactory, PatrolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ALL_ROLES = ["reporter_a", "analyst", "partner", "admin"]
PATROL_ROLES = {"analyst", "partner", "admin"}


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def analyst_client(users):
    return client_for(users["analyst"])


@pytest.fixture
def patrols():
    """Three patrols a week apart, of different forces and outcomes; the middle one has events."""
    early = PatrolFactory(date=datetime.date(2020, 3, 15), forces=Forces.JOINT)
    middle = PatrolFactory(
        date=datetime.date(2020, 3, 22),
        forces=Forces.RUSSIAN,
        status=Patrol.Status.CUT_SHORT,
        notes="Turned back at al-Nayrab.",
    )
    late = PatrolFactory(
        date=datetime.date(2020, 3, 29),
        forces=Forces.TURKISH,
        status=Patrol.Status.CANCELLED,
        track=None,
    )
    at = datetime.datetime(2020, 3, 22, 9, 0, tzinfo=datetime.UTC)
    PatrolEventFactory(
        patrol=middle,
        kind=PatrolEvent.Kind.BLOCKED_ROAD,
        occurred_at=at + datetime.timedelta(minutes=40),
    )
    PatrolEventFactory(patrol=middle, kind=PatrolEvent.Kind.PROTEST, occurred_at=at)
    return {"early": early, "middle": middle, "late": late}


# Roles


@pytest.mark.parametrize(
    "url", ["/api/v1/routes/", "/api/v1/patrols/", "/api/v1/observation-posts/"]
)
def test_anonymous_callers_are_refused(url):
    assert client_for().get(url).status_code == 401


@pytest.mark.parametrize(
    "url", ["/api/v1/routes/", "/api/v1/patrols/", "/api/v1/observation-posts/"]
)
def test_a_user_without_a_role_is_refused(url, users):
    assert client_for(users["no_role"]).get(url).status_code == 403


@pytest.mark.parametrize("who", ALL_ROLES)
def test_patrols_are_for_analysts_admins_and_partners(who, users, patrols):
    client = client_for(users[who])
    expected = 200 if who in PATROL_ROLES else 403
    assert client.get("/api/v1/patrols/").status_code == expected
    assert client.get(f"/api/v1/patrols/{patrols['middle'].pk}/").status_code == expected


@pytest.mark.parametrize("who", ALL_ROLES)
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/routes/",
        "/api/v1/routes/m4-patrol/",
        "/api/v1/observation-posts/",
        "/api/v1/observation-posts/tr-op-09/",
    ],
)
def test_routes_and_posts_are_for_every_role(url, who, users):
    assert client_for(users[who]).get(url).status_code == 200


# Routes


def test_routes_come_with_their_line_in_json(analyst_client):
    rows = analyst_client.get("/api/v1/routes/").json()["results"]
    assert [row["slug"] for row in rows] == ["m4-highway", "m4-patrol"]
    patrol_route = rows[1]
    assert patrol_route["kind"] == "patrol_route"
    assert patrol_route["geom"]["type"] == "LineString"
    assert patrol_route["geom"]["coordinates"][0] == list(TRUMBA)


def test_routes_as_geojson_are_lines_in_lon_lat(analyst_client):
    response = analyst_client.get("/api/v1/routes/", HTTP_ACCEPT="application/geo+json")
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    route = next(f for f in body["features"] if f["id"] == "m4-patrol")
    assert route["geometry"]["type"] == "LineString"
    lon, lat = route["geometry"]["coordinates"][-1]  # Ain al-Hawr
    assert lon == pytest.approx(36.164, abs=0.01)
    assert lat == pytest.approx(35.778, abs=0.01)
    assert "geom" not in route["properties"]


def test_unknown_route_is_404(analyst_client):
    assert analyst_client.get("/api/v1/routes/m5/").status_code == 404


# Patrols


def test_patrol_list_newest_first_with_route_code_and_event_count(analyst_client, patrols):
    rows = analyst_client.get("/api/v1/patrols/").json()["results"]
    assert [row["id"] for row in rows] == [patrols[n].pk for n in ("late", "middle", "early")]
    middle = rows[1]
    assert middle["route"] == "m4-patrol"
    assert middle["events_count"] == 2
    assert middle["status"] == "cut_short"
    assert middle["forces"] == "russian"
    assert middle["notes"] == "Turned back at al-Nayrab."
    assert middle["track"]["coordinates"][0] == list(TRUMBA)
    assert rows[0]["events_count"] == 0
    assert rows[0]["track"] is None
    assert "events" not in middle


def test_patrol_geojson_geometry_is_the_track(analyst_client, patrols):
    response = analyst_client.get("/api/v1/patrols/", {"format": "geojson"})
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    features = {f["id"]: f for f in body["features"]}
    middle = features[patrols["middle"].pk]
    assert middle["geometry"]["type"] == "LineString"
    assert middle["geometry"]["coordinates"][1] == list(NAYRAB)  # lon, lat
    assert middle["properties"]["route"] == "m4-patrol"
    assert middle["properties"]["events_count"] == 2
    assert "track" not in middle["properties"]
    assert features[patrols["late"].pk]["geometry"] is None


def test_patrol_detail_embeds_its_events_in_time_order(analyst_client, patrols):
    response = analyst_client.get(f"/api/v1/patrols/{patrols['middle'].pk}/")
    assert response.status_code == 200
    events = response.json()["events"]
    assert [event["kind"] for event in events] == ["protest", "blocked_road"]
    assert events[0]["location"] == {"type": "Point", "coordinates": list(NAYRAB)}
    assert response.json()["events_count"] == 2


def test_patrol_detail_as_geojson_is_a_feature_with_events(analyst_client, patrols):
    response = analyst_client.get(
        f"/api/v1/patrols/{patrols['middle'].pk}/", HTTP_ACCEPT="application/geo+json"
    )
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] == "LineString"
    assert len(feature["properties"]["events"]) == 2


def test_unknown_patrol_is_404(analyst_client, patrols):
    assert analyst_client.get("/api/v1/patrols/999999/").status_code == 404


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"date_after": "2020-03-22"}, {"late", "middle"}),
        ({"date_before": "2020-03-22"}, {"middle", "early"}),
        ({"date_after": "2020-03-16", "date_before": "2020-03-28"}, {"middle"}),
        ({"status": "cut_short"}, {"middle"}),
        ({"status": "cut_short,cancelled"}, {"middle", "late"}),
        ({"forces": "joint"}, {"early"}),
        ({"forces": "turkish, russian"}, {"late", "middle"}),
        ({"forces": "joint", "status": "completed"}, {"early"}),
    ],
)
def test_patrol_filters(params, expected, analyst_client, patrols):
    response = analyst_client.get("/api/v1/patrols/", params)
    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {
        patrols[name].pk for name in expected
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_after": "22/03/2020"}, "date_after"),
        ({"date_before": "2020-02-30"}, "date_before"),
        ({"status": "aborted"}, "status"),
        ({"status": ","}, "status"),
        ({"forces": "american"}, "forces"),
        ({"force": "joint"}, "force"),
    ],
)
def test_bad_patrol_filters_are_400_naming_the_parameter(params, field, analyst_client):
    response = analyst_client.get("/api/v1/patrols/", params)
    assert response.status_code == 400
    assert list(response.json()) == [field]


# Observation posts


def test_posts_without_coordinates_are_listed_with_null_geometry(analyst_client):
    body = analyst_client.get("/api/v1/observation-posts/", {"format": "geojson"}).json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert len(body["features"]) == ObservationPost.objects.count() == 12
    unlocated = [f["id"] for f in body["features"] if f["geometry"] is None]
    assert unlocated == ["tr-op-08", "tr-op-10", "tr-op-11"]
    morek = next(f for f in body["features"] if f["id"] == "tr-op-09")
    lon, lat = morek["geometry"]["coordinates"]
    assert lon == pytest.approx(36.69, abs=0.01)
    assert lat == pytest.approx(35.38, abs=0.01)
    assert morek["properties"]["name_en"] == "Morek"


def test_posts_in_json_have_a_null_location_when_unknown(analyst_client):
    rows = analyst_client.get("/api/v1/observation-posts/").json()["results"]
    assert [row["number"] for row in rows] == list(range(1, 13))
    assert rows[7]["location"] is None
    assert rows[8]["location"]["type"] == "Point"


# Pagination and query counts


@pytest.mark.parametrize(
    "url", ["/api/v1/routes/", "/api/v1/patrols/", "/api/v1/observation-posts/"]
)
def test_page_size_is_capped(url, analyst_client, patrols, monkeypatch):
    monkeypatch.setattr(CappedPageNumberPagination, "max_page_size", 1)
    response = analyst_client.get(url, {"page_size": 1000})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1
    assert response.json()["next"] is not None


@pytest.fixture
def many_patrols():
    for day in range(12):
        patrol = PatrolFactory(date=datetime.date(2020, 4, 1) + datetime.timedelta(days=day))
        PatrolEventFactory.create_batch(3, patrol=patrol)


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/patrols/", {}),
        ("/api/v1/patrols/", {"format": "geojson", "status": "completed"}),
        ("/api/v1/routes/", {}),
        ("/api/v1/observation-posts/", {"format": "geojson"}),
    ],
)
def test_lists_run_a_constant_number_of_queries(
    url, params, analyst_client, many_patrols, django_assert_max_num_queries
):
    analyst_client.get(url, params)  # the role is looked up once per user
    small = _queries(analyst_client, url, {**params, "page_size": 5})
    with django_assert_max_num_queries(small):
        response = analyst_client.get(url, {**params, "page_size": 100})
    assert response.status_code == 200
    assert small <= 3


def test_patrol_detail_queries_do_not_grow_with_its_events(
    analyst_client, patrols, django_assert_max_num_queries
):
    url = f"/api/v1/patrols/{patrols['middle'].pk}/"
    analyst_client.get(url)
    few = _queries(analyst_client, url, {})
    PatrolEventFactory.create_batch(20, patrol=patrols["middle"])
    with django_assert_max_num_queries(few):
        response = analyst_client.get(url)
    assert len(response.json()["events"]) == 22
