"""The camp API: latest population on the list, full history on a camp's page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from camps.models import Camp, CampPopulation
from common.pagination import CappedPageNumberPagination
from tests.factories import ATMEH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ROLES = ["reporter_a", "analyst", "partner", "admin"]


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def analyst_client(users):
    return client_for(users["analyst"])


@pytest.fixture
def atma_history():
    """Two later counts for the Atma camps on top of the April 2020 reference figure."""
    atma = Camp.objects.get(site_id="ACU-ATMA")
    CampPopulation.objects.create(
        camp=atma, date=datetime.date(2021, 1, 31), individuals=120_000, households=21_000
    )
    CampPopulation.objects.create(
        camp=atma, date=datetime.date(2020, 10, 31), individuals=110_000, households=None
    )
    return atma


@pytest.mark.parametrize("url", ["/api/v1/camps/", "/api/v1/camps/ACU-ATMA/"])
def test_anonymous_callers_are_refused(url):
    assert client_for().get(url).status_code == 401


@pytest.mark.parametrize("url", ["/api/v1/camps/", "/api/v1/camps/ACU-ATMA/"])
def test_a_user_without_a_role_is_refused(url, users):
    assert client_for(users["no_role"]).get(url).status_code == 403


@pytest.mark.parametrize("who", ROLES)
@pytest.mark.parametrize("url", ["/api/v1/camps/", "/api/v1/camps/ACU-ATMA/"])
def test_every_role_reads_camps(url, who, users):
    assert client_for(users[who]).get(url).status_code == 200


def test_camp_list_carries_the_latest_population(analyst_client, atma_history):
    rows = analyst_client.get("/api/v1/camps/").json()["results"]
    assert len(rows) == Camp.objects.count() == 9
    atma = next(row for row in rows if row["site_id"] == "ACU-ATMA")
    assert atma["population_individuals"] == 120_000
    assert atma["population_households"] == 21_000
    assert atma["population_date"] == "2021-01-31"
    assert atma["name_ar"] == "مخيمات أطمة"
    assert atma["location"] == {"type": "Point", "coordinates": list(ATMEH)}
    assert "populations" not in atma


def test_camps_without_coordinates_have_a_null_location(analyst_client):
    rows = analyst_client.get("/api/v1/camps/").json()["results"]
    assert sum(row["location"] is None for row in rows) == 3


def test_camp_geojson_is_a_feature_collection_in_lon_lat(analyst_client, atma_history):
    response = analyst_client.get("/api/v1/camps/", HTTP_ACCEPT="application/geo+json")
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert "crs" not in body
    assert len(body["features"]) == 9
    atma = next(f for f in body["features"] if f["id"] == "ACU-ATMA")
    lon, lat = atma["geometry"]["coordinates"]
    assert lon == pytest.approx(36.69, abs=0.01)
    assert lat == pytest.approx(36.31, abs=0.01)
    assert atma["properties"]["population_individuals"] == 120_000
    assert sum(f["geometry"] is None for f in body["features"]) == 3


def test_camp_detail_has_the_whole_population_history_newest_first(analyst_client, atma_history):
    response = analyst_client.get("/api/v1/camps/ACU-ATMA/")
    assert response.status_code == 200
    body = response.json()
    assert [p["date"] for p in body["populations"]] == ["2021-01-31", "2020-10-31", "2020-04-30"]
    assert body["populations"][1]["households"] is None
    assert body["population_individuals"] == 120_000
    assert body["boundary"] is None


def test_camp_detail_as_geojson_is_one_feature(analyst_client, atma_history):
    response = analyst_client.get("/api/v1/camps/ACU-ATMA/", {"format": "geojson"})
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == "ACU-ATMA"
    assert feature["geometry"]["coordinates"] == list(ATMEH)
    assert len(feature["properties"]["populations"]) == 3


def test_unknown_camp_is_404(analyst_client):
    assert analyst_client.get("/api/v1/camps/ACU-NOWHERE/").status_code == 404


def test_unknown_camp_parameter_is_400(analyst_client):
    response = analyst_client.get("/api/v1/camps/", {"adm3": "SY070301"})
    assert response.status_code == 400
    assert list(response.json()) == ["adm3"]


def test_page_size_is_capped(analyst_client, monkeypatch):
    monkeypatch.setattr(CappedPageNumberPagination, "max_page_size", 2)
    response = analyst_client.get("/api/v1/camps/", {"page_size": 1000})
    assert len(response.json()["results"]) == 2
    assert response.json()["next"] is not None


def _queries(client, url, params) -> int:
    with CaptureQueriesContext(connection) as context:
        assert client.get(url, params).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("params", [{}, {"format": "geojson"}])
def test_camp_list_runs_a_constant_number_of_queries(
    params, analyst_client, atma_history, django_assert_max_num_queries
):
    analyst_client.get("/api/v1/camps/", params)  # the role is looked up once per user
    small = _queries(analyst_client, "/api/v1/camps/", {**params, "page_size": 2})
    with django_assert_max_num_queries(small):
        response = analyst_client.get("/api/v1/camps/", {**params, "page_size": 100})
    body = response.json()
    assert len(body.get("results") or body["features"]) == 9
    assert small <= 2


def test_camp_detail_queries_do_not_grow_with_its_history(
    analyst_client, atma_history, django_assert_max_num_queries
):
    analyst_client.get("/api/v1/camps/ACU-ATMA/")
    few = _queries(analyst_client, "/api/v1/camps/ACU-ATMA/", {})
    CampPopulation.objects.bulk_create(
        CampPopulation(
            camp=atma_history,
            date=datetime.date(2019, 1, 1) + datetime.timedelta(days=day),
            individuals=90_000 + day,
        )
        for day in range(30)
    )
    with django_assert_max_num_queries(few):
        response = analyst_client.get("/api/v1/camps/ACU-ATMA/")
    assert len(response.json()["populations"]) == 33
