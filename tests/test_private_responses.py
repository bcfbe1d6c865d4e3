"""Responses to signed-in callers (session or API key) are never stored by a shared cache and vary
on the credentials: `Cache-Control: private, no-store` (`private, no-cache` where an ETag lets the
browser revalidate) and `Vary: Authorization, Cookie`, on every kind of URL."""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient

from camps.models import Camp
from patrols.models import Route
from tests.factories import IncidentFactory, PatrolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

NO_STORE = "private, no-store"
REVALIDATE = "private, no-cache"
TILE = "/tiles/incidents/9/308/201.pbf"  # holds Idlib


def vary(response) -> set[str]:
    return {value.strip() for value in response.get("Vary", "").split(",") if value.strip()}


def assert_private(response, cache_control: str = NO_STORE) -> None:
    if response.streaming:
        b"".join(response.streaming_content)  # the exports' server-side cursors are closed
    assert response.get("Cache-Control") == cache_control, response.request["PATH_INFO"]
    assert {"Authorization", "Cookie"} <= vary(response), response.request["PATH_INFO"]


@pytest.fixture
def records():
    incident = IncidentFactory(occurred_at=datetime.datetime(2021, 3, 10, 9, tzinfo=datetime.UTC))
    return {
        "incident": incident,
        "patrol": PatrolFactory(),
        "camp": Camp.objects.order_by("site_id").first(),
        "route": Route.objects.order_by("slug").first(),
    }


@pytest.fixture
def analyst_client(users):
    client = Client()
    client.force_login(users["analyst"])
    return client


@pytest.fixture
def partner_client(partner_key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner_key}")
    return client


def sample_values(records) -> dict[str, str]:
    """Values for the URLconf's parameters (any other is 1): a wrong one only makes a 404, which
    must be private too."""
    return {
        "id": str(records["incident"].client_uuid),
        "uuid": str(uuid.uuid4()),
        "pcode": "SY070500",
        "site_id": records["camp"].site_id,
        "pk": str(records["patrol"].pk),
        "code": "none",
        "slug": records["route"].slug,
        "day": "2021-03-10",
        "z": "9",
        "x": "308",
        "y": "201",
        "app_label": "incidents",
        "object_id": "1",
        "content_type_id": "1",
        "url": "none",
        "uidb64": "MQ",
        "token": "set-password",
    }


def every_path(values: dict[str, str]) -> list[str]:
    """Every URL of the URLconf, its parameters filled in from `values`."""

    def walk(patterns, prefix: str):
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                yield route

    paths = []
    for route in walk(get_resolver().url_patterns, ""):
        route = route.replace("^", "").replace("$", "")
        route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values.get(m.group(1), "1"), route)
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: values.get(m.group(1), "1"), route)
        if "(" in route or "\\" in route:
            continue  # a regex without named groups: none in this URLconf but the admin's catch-all
        paths.append("/" + route)
    return sorted(set(paths))


def test_a_sample_of_endpoints_answers_a_signed_in_analyst_privately(analyst_client, records):
    incident = records["incident"].client_uuid
    urls = [
        "/",
        "/zones/",
        "/zones/SY070500/",
        f"/incidents/{incident}/",
        "/review/",
        "/report/",
        "/api/v1/incidents/",
        f"/api/v1/incidents/{incident}/",
        "/api/v1/zones/SY070500/stats/",
        "/api/v1/incidents/export.csv",
        "/api/v1/incidents/export.geojson",
        "/api/v1/incidents/export.acled.csv",
    ]
    for url in urls:
        response = analyst_client.get(url)
        assert response.status_code == 200, url
        assert_private(response)


def test_a_partners_api_answers_keep_their_own_vary_values(partner_client):
    response = partner_client.get("/api/v1/incidents/")
    assert response.status_code == 200
    assert_private(response)
    assert "Accept" in vary(response)  # DRF's own, kept


def test_a_tile_with_its_etag_is_revalidated_rather_than_not_stored(partner_client, records):
    first = partner_client.get(TILE)
    assert first.status_code == 200 and first.has_header("ETag")
    assert_private(first, REVALIDATE)
    again = partner_client.get(TILE, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert_private(again, REVALIDATE)


def test_refusals_and_redirects_given_before_the_view_are_private_too(partner_client, users):
    # CommonMiddleware's trailing-slash redirect answers before authentication has run.
    redirect = partner_client.get("/api/v1/incidents")
    assert redirect.status_code == 301
    assert_private(redirect)
    session = Client()
    session.force_login(users["reporter_a"])
    assert_private(session.get("/zones"))
    refused = session.get("/api/v1/incidents/export.csv")
    assert refused.status_code == 403
    assert_private(refused)


# The reference basemap is the same for every caller (common.middleware.same_for_every_caller):
# public and long cached, credentials or not (tests/monitoring/test_basemap.py).
PUBLIC_REFERENCE = "/basemap/"


def test_every_url_answers_a_signed_in_analyst_privately(analyst_client, records):
    paths = [
        p
        for p in every_path(sample_values(records))
        if not p.startswith(("/admin/", PUBLIC_REFERENCE))
    ]
    assert len(paths) > 50  # pages, API, tiles, exports, schema and docs
    statuses = set()
    for path in paths:
        response = analyst_client.get(path)
        statuses.add(response.status_code)
        assert_private(response, REVALIDATE if response.has_header("ETag") else NO_STORE)
    assert 200 in statuses


def test_every_admin_url_answers_a_signed_in_administrator_privately(users, records):
    client = Client()
    client.force_login(users["admin"])
    paths = [p for p in every_path(sample_values(records)) if p.startswith("/admin/")]
    assert len(paths) > 100
    for path in paths:
        assert_private(client.get(path))


def test_every_api_url_answers_a_partner_key_privately(partner_client, records):
    paths = [p for p in every_path(sample_values(records)) if p.startswith(("/api/", "/tiles/"))]
    for path in paths:
        response = partner_client.get(path)
        assert_private(response, REVALIDATE if response.has_header("ETag") else NO_STORE)


@pytest.mark.parametrize("url", ["/healthz", "/api/v1/health/", "/accounts/login/", "/api/schema/"])
def test_anonymous_answers_are_left_alone(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response.get("Cache-Control") != NO_STORE
    assert "Authorization" not in vary(response)


# The README says which endpoints answer anonymous callers: /healthz, /api/v1/health/ and the API's
# description (OpenAPI schema, Swagger UI). A public API's schema is public on purpose: it
# holds no data, only the shape of the API that partners are given keys for. ReDoc is not offered
# (it cannot run under the site's CSP).
@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_the_api_description_is_public(client, url):
    assert client.get(url).status_code == 200


def test_redoc_is_not_offered(client):
    assert client.get("/api/redoc/").status_code == 404


@pytest.mark.parametrize(
    "url",
    ["/api/v1/incidents/", "/api/v1/taxonomy/", "/api/v1/zones/", TILE, "/api/v1/trends/"],
)
def test_data_endpoints_refuse_anonymous_callers(client, url):
    assert client.get(url).status_code in (401, 403)
