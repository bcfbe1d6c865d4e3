"""The SQL-built GeoJSON list equals what IncidentGeoSerializer writes, for every role."""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from incidents.api.serializers import IncidentGeoSerializer
from incidents.models import Incident, ReviewStatus
from incidents.services import incident_review
from tests.alerts.helpers import verified_incident
from tests.factories import ARIHA, IDLIB, NAYRAB, IncidentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def incidents(reference_data, users):
    reporter, analyst = users["reporter_a"], users["analyst"]
    original = verified_incident(reporter=reporter, analyst=analyst, point=IDLIB, killed=3)
    copy = verified_incident(reporter=reporter, analyst=analyst, point=IDLIB, verify=False)
    incident_review(
        incident=copy, reviewer=analyst, status=ReviewStatus.DUPLICATE, duplicate_of=original
    )
    verified_incident(
        reporter=users["reporter_b"],
        analyst=analyst,
        point=ARIHA,
        sub_type="air-drone-strike",
        occurred_at=timezone.now() - datetime.timedelta(days=3, microseconds=123),
    )
    verified_incident(reporter=reporter, analyst=analyst, point=NAYRAB, verify=False)
    # Winter and summer time in Damascus (+02:00 and +03:00 in 2021), on the second exactly.
    for month in (1, 7):
        verified_incident(
            reporter=reporter,
            analyst=analyst,
            point=NAYRAB,
            occurred_at=datetime.datetime(2021, month, 15, 9, 30, tzinfo=datetime.UTC),
        )
    # Written directly: no zones, sources and a description with quotes and Arabic.
    IncidentFactory(
        reporter=reporter,
        review_status=ReviewStatus.VERIFIED,
        sources=["هيئة", "Source B"],
        description='وصف "quoted" \\ line\nbreak',
        created_at=timezone.now(),
    )


def _expected(user, params: str) -> list[dict]:
    """The serializer's features for the same page the API returned (same order)."""
    request = Request(APIRequestFactory().get(f"/api/v1/incidents/?{params}"))
    request.user = user
    client = APIClient()
    client.force_authenticate(user)
    ids = [
        f["id"]
        for f in client.get(f"/api/v1/incidents/?{params}&format=geojson").json()["features"]
    ]
    by_id = {str(i.client_uuid): i for i in Incident.objects.for_api().filter(client_uuid__in=ids)}
    data = IncidentGeoSerializer(
        [by_id[i] for i in ids], many=True, context={"request": request}
    ).data
    return json.loads(json.dumps(data["features"]))


@pytest.mark.parametrize("role", ["analyst", "admin", "partner", "reporter_a"])
@pytest.mark.parametrize("params", ["page_size=100", "page_size=2&ordering=updated_at"])
def test_sql_geojson_equals_the_serializer(incidents, users, role, params):
    user = users[role]
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/incidents/?{params}&format=geojson")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["features"], "every role sees something here"
    assert body["features"] == _expected(user, params)


def test_pages_of_sql_geojson_chain_with_the_cursor(incidents, users):
    client = APIClient()
    client.force_authenticate(users["analyst"])
    seen, url = [], "/api/v1/incidents/?format=geojson&page_size=2"
    while url:
        body = client.get(url).json()
        seen += [feature["id"] for feature in body["features"]]
        url = body["next"]
    plain = client.get("/api/v1/incidents/?page_size=100").json()["results"]
    assert seen == [row["id"] for row in plain]


def test_an_empty_page_is_an_empty_feature_collection(reference_data, users):
    client = APIClient()
    client.force_authenticate(users["analyst"])
    body = client.get("/api/v1/incidents/?format=geojson").json()
    assert body == {"type": "FeatureCollection", "next": None, "features": []}
