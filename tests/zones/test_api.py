"""The zone and gazetteer API: roles, JSON and GeoJSON, filters, simplified shapes, search."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from shapely.geometry import shape

from common.pagination import CappedPageNumberPagination
from zones.models import Zone, ZoneKind

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ARIHA_WOF_ID = 1293760771
ROLES = ["reporter_a", "analyst", "partner", "admin"]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def geojson(client, url, **params):
    return client.get(url, {"format": "geojson", **params})


@pytest.fixture
def analyst_client(users):
    return client_for(users["analyst"])


# Roles


@pytest.mark.parametrize(
    "url", ["/api/v1/zones/", "/api/v1/zones/SY07/", "/api/v1/localities/?q=ariha"]
)
def test_anonymous_callers_are_refused(url):
    assert client_for().get(url).status_code == 401


@pytest.mark.parametrize(
    "url", ["/api/v1/zones/", "/api/v1/zones/SY07/", "/api/v1/localities/?q=ariha"]
)
def test_a_user_without_a_role_is_refused(url, users):
    assert client_for(users["no_role"]).get(url).status_code == 403


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize(
    "url", ["/api/v1/zones/", "/api/v1/zones/SY07/", "/api/v1/localities/?q=ariha"]
)
def test_every_role_reads_zones_and_the_gazetteer(url, who, users):
    assert client_for(users[who]).get(url).status_code == 200


# Zones: shapes


def test_zone_json_carries_no_geometry(analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"kind": "subdistrict", "page_size": 200})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    row = next(row for row in response.json()["results"] if row["pcode"] == "SY070500")
    assert row == {
        "pcode": "SY070500",
        "kind": "subdistrict",
        "name_en": "Ariha",
        "name_ar": "مركز أريحا",
        "parent": "SY0705",
        "source": row["source"],
        "updated_at": row["updated_at"],
    }


@pytest.mark.parametrize("how", ["accept", "format"])
def test_zone_geojson_is_a_feature_collection_in_lon_lat(how, analyst_client):
    params = {"kind": "subdistrict", "page_size": 200}
    if how == "accept":
        response = analyst_client.get("/api/v1/zones/", params, HTTP_ACCEPT="application/geo+json")
    else:
        response = geojson(analyst_client, "/api/v1/zones/", **params)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert len(body["features"]) == body["count"] == 110
    ariha = next(f for f in body["features"] if f["id"] == "SY070500")
    assert ariha["type"] == "Feature"
    assert "crs" not in ariha["geometry"]
    assert ariha["geometry"]["type"] == "MultiPolygon"
    assert ariha["properties"]["name_en"] == "Ariha"
    centroid = shape(ariha["geometry"]).centroid
    assert centroid.x == pytest.approx(36.6, abs=0.1)  # longitude first
    assert centroid.y == pytest.approx(35.8, abs=0.1)


def test_zone_detail_by_pcode(analyst_client):
    response = analyst_client.get("/api/v1/zones/SY0705/")
    assert response.status_code == 200
    assert response.json()["name_ar"] == "أريحا"
    assert response.json()["parent"] == "SY07"
    assert "geom" not in response.json()


def test_zone_detail_as_geojson_is_one_feature(analyst_client):
    response = geojson(analyst_client, "/api/v1/zones/M4-SC/")
    assert response.status_code == 200
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == "M4-SC"
    assert feature["properties"]["kind"] == "security_corridor"
    assert feature["geometry"]["type"] == "MultiPolygon"


def test_unknown_zone_is_404(analyst_client):
    assert analyst_client.get("/api/v1/zones/SY99/").status_code == 404


def _vertex_count(geometry: dict) -> int:
    return sum(len(ring) for polygon in geometry["coordinates"] for ring in polygon)


def test_simplify_gives_lighter_valid_shapes_of_the_same_type(analyst_client):
    full = geojson(analyst_client, "/api/v1/zones/SY07/").json()
    light = geojson(analyst_client, "/api/v1/zones/SY07/", simplify="0.01").json()
    assert light["geometry"]["type"] == "MultiPolygon"
    assert _vertex_count(light["geometry"]) < _vertex_count(full["geometry"]) / 5
    assert shape(light["geometry"]).is_valid
    full_area = shape(full["geometry"]).area
    assert shape(light["geometry"]).area == pytest.approx(full_area, rel=0.05)


def test_simplify_applies_to_the_list(analyst_client):
    params = {"kind": "governorate"}
    full = geojson(analyst_client, "/api/v1/zones/", **params).json()["features"]
    light = geojson(analyst_client, "/api/v1/zones/", simplify="0.005", **params).json()["features"]
    assert [f["id"] for f in light] == [f["id"] for f in full]
    for before, after in zip(full, light, strict=True):
        assert _vertex_count(after["geometry"]) < _vertex_count(before["geometry"])


@pytest.mark.parametrize("value", ["abc", "0", "-0.01", "0.5", "nan", "inf"])
def test_bad_simplify_tolerance_is_400_naming_it(value, analyst_client):
    response = geojson(analyst_client, "/api/v1/zones/", simplify=value)
    assert response.status_code == 400
    assert list(response.json()) == ["simplify"]


# Zones: filters


def test_kind_filter(analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"kind": "governorate"})
    assert response.status_code == 200
    assert {row["pcode"] for row in response.json()["results"]} == {"SY02", "SY05", "SY06", "SY07"}


def test_parent_filter_gives_the_direct_children(analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"parent": "SY0705"})
    assert response.status_code == 200
    assert [row["pcode"] for row in response.json()["results"]] == [
        "SY070500",
        "SY070501",
        "SY070502",
    ]


@pytest.mark.parametrize("text", ["أريحا", "اريحا", "ARIHA"])
def test_name_search_in_arabic_or_english(text, analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"q": text})
    assert response.status_code == 200
    assert {row["pcode"] for row in response.json()["results"]} == {"SY0705", "SY070500"}


@pytest.mark.parametrize(
    ("query", "field"),
    [("kind=province", "kind"), ("parent=SY99", "parent"), ("q=" + "x" * 201, "q")],
)
def test_bad_zone_filters_are_400_naming_the_parameter(query, field, analyst_client):
    response = analyst_client.get(f"/api/v1/zones/?{query}")
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_unknown_zone_parameter_is_400(analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"knd": "governorate"})
    assert response.status_code == 400
    assert list(response.json()) == ["knd"]


# Gazetteer search


def test_locality_search_needs_q(analyst_client):
    response = analyst_client.get("/api/v1/localities/")
    assert response.status_code == 400
    assert list(response.json()) == ["q"]


@pytest.mark.parametrize("value", ["a", " ", "أ", "'-"])
def test_locality_search_needs_two_letters(value, analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": value})
    assert response.status_code == 400
    assert list(response.json()) == ["q"]


def test_locality_search_refuses_unknown_parameters(analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": "ariha", "adm3": "SY070500"})
    assert response.status_code == 400
    assert list(response.json()) == ["adm3"]


@pytest.mark.parametrize("text", ["أريحا", "ريحا", "اريح"])
def test_arabic_search_finds_a_village_by_part_of_its_arabic_name(text, analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": text})
    assert response.status_code == 200
    assert ARIHA_WOF_ID in [row["id"] for row in response.json()["results"]]


@pytest.mark.parametrize("text", ["Ariha", "ariha", "ARI"])
def test_latin_search_finds_a_village_first_when_its_name_starts_so(text, analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": text})
    assert response.status_code == 200
    first = response.json()["results"][0]
    assert first["id"] == ARIHA_WOF_ID
    assert first["name_en"] == "Ariha"
    assert first["name_ar"] == "أريحا"
    assert first["adm3_pcode"] == "SY070500"
    assert first["location"] == {"type": "Point", "coordinates": [36.60964, 35.81374]}


def test_spelling_variants_of_key_places_are_found(analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": "Kafranbel"})
    assert [row["name_en"] for row in response.json()["results"]] == ["Kafr Nabl"]


@pytest.mark.parametrize("text", ["kafr", "كفر"])
def test_names_starting_with_the_query_come_first_then_by_name(text, analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": text, "page_size": 1000})
    rows = response.json()["results"]
    name = "name_ar" if text == "كفر" else "name_en"
    starts = [row[name].lower().startswith(text) for row in rows]
    assert any(starts) and not all(starts)
    first_other = starts.index(False)
    assert all(starts[:first_other]) and not any(starts[first_other:])
    leading = [row[name] for row in rows[:first_other]]
    assert leading == sorted(leading)


def test_locality_geojson_features_are_points_in_lon_lat(analyst_client):
    response = analyst_client.get(
        "/api/v1/localities/", {"q": "ariha"}, HTTP_ACCEPT="application/geo+json"
    )
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    ariha = body["features"][0]
    assert ariha["id"] == ARIHA_WOF_ID
    assert ariha["geometry"] == {"type": "Point", "coordinates": [36.60964, 35.81374]}
    assert ariha["properties"]["adm3_pcode"] == "SY070500"


def test_locality_page_size_is_capped_at_1000(analyst_client):
    response = analyst_client.get("/api/v1/localities/", {"q": "al", "page_size": 5000})
    body = response.json()
    assert body["count"] > 1000
    assert len(body["results"]) == 1000
    assert body["next"] is not None


def test_zone_page_size_is_capped(analyst_client, monkeypatch):
    monkeypatch.setattr(CappedPageNumberPagination, "max_page_size", 3)
    response = analyst_client.get("/api/v1/zones/", {"page_size": 1000})
    assert len(response.json()["results"]) == 3


# Query counts


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize(
    ("url", "params"),
    [
        ("/api/v1/zones/", {}),
        ("/api/v1/zones/", {"format": "geojson", "simplify": "0.01"}),
        ("/api/v1/zones/", {"q": "a", "kind": "subdistrict"}),
        ("/api/v1/localities/", {"q": "al"}),
        ("/api/v1/localities/", {"q": "al", "format": "geojson"}),
    ],
)
def test_lists_run_a_constant_number_of_queries(
    url, params, analyst_client, django_assert_max_num_queries
):
    analyst_client.get(url, params)  # the role is looked up once per user
    small = _queries(analyst_client, url, {**params, "page_size": 5})
    with django_assert_max_num_queries(small):
        assert analyst_client.get(url, {**params, "page_size": 100}).status_code == 200
    assert small <= 3


def test_zone_rows_match_the_database(analyst_client):
    response = analyst_client.get("/api/v1/zones/", {"page_size": 1000})
    assert response.json()["count"] == Zone.objects.count()
    kinds = {row["kind"] for row in response.json()["results"]}
    assert kinds == {
        ZoneKind.GOVERNORATE,
        ZoneKind.DISTRICT,
        ZoneKind.SUBDISTRICT,
        ZoneKind.SECURITY_CORRIDOR,
    }
