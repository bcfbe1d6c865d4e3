"""The incident API: roles, fields, filters, GeoJSON, submission, sync."""

import datetime
import math
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from incidents.models import Incident, ReviewStatus, SubEventType
from incidents.services import (
    incident_delete,
    incident_review,
    incident_submit,
)
from tests.factories import ARIHA, ATMEH, IDLIB, KAFR_NUBL

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

REPORTER_FIELDS = {"reporter", "reviewed_by", "reviewed_at", "review_note"}


def submit(user, lonlat=ARIHA, sub="shelling-artillery-missile-attack", days_ago=1, **extra):
    sub_type = SubEventType.objects.select_related("event_type").get(slug=sub)
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(days=days_ago),
        "location": Point(*lonlat, srid=4326),
        "place_name": extra.pop("place_name", "somewhere"),
        "event_type": sub_type.event_type,
        "sub_event_type": sub_type,
        **extra,
    }
    return incident_submit(reporter=user, client_uuid=uuid.uuid4(), data=data).incident


@pytest.fixture
def incidents(users):
    a_submitted = submit(users["reporter_a"], ARIHA, place_name="Ariha")
    b_verified = submit(users["reporter_b"], ATMEH, place_name="Atmeh", description="قصف على أطمة")
    incident_review(incident=b_verified, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    b_rejected = submit(users["reporter_b"], KAFR_NUBL, sub="armed-clash", place_name="Kafr Nubl")
    incident_review(
        incident=b_rejected,
        reviewer=users["analyst"],
        status=ReviewStatus.REJECTED,
        note="no source",
    )
    return {"a_submitted": a_submitted, "b_verified": b_verified, "b_rejected": b_rejected}


def client_for(who, users, partner_key=None, revoked_key=None):
    client = APIClient()
    if who == "partner_key":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {partner_key}")
    elif who == "revoked_key":
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {revoked_key}")
    elif who != "anonymous":
        client.force_authenticate(users[who])
    return client


CLIENTS = [
    "anonymous",
    "reporter_a",
    "reporter_b",
    "analyst",
    "partner_key",
    "revoked_key",
    "admin",
]

LIST_VISIBLE = {
    "anonymous": None,
    "reporter_a": {"a_submitted"},
    "reporter_b": {"b_verified", "b_rejected"},
    "analyst": {"a_submitted", "b_verified", "b_rejected"},
    "partner_key": {"b_verified"},
    "revoked_key": None,
    "admin": {"a_submitted", "b_verified", "b_rejected"},
}


@pytest.mark.parametrize("who", CLIENTS)
def test_role_matrix_for_the_incident_list(who, users, incidents, partner_key, revoked_key):
    client = client_for(who, users, partner_key, revoked_key)
    response = client.get("/api/v1/incidents/")
    expected = LIST_VISIBLE[who]
    if expected is None:
        assert response.status_code == 401
        return
    assert response.status_code == 200
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(incidents[name].client_uuid) for name in expected}
    rows = response.json()["results"]
    if who == "partner_key":
        for row in rows:
            assert not (REPORTER_FIELDS | {"distance_to_m4_m"}) & set(row)
            lon, lat = row["location"]["coordinates"]
            assert math.isclose(lon / 0.05, round(lon / 0.05), abs_tol=1e-6)
            assert math.isclose(lat / 0.05, round(lat / 0.05), abs_tol=1e-6)
            assert "rep-" not in str(row)
    elif who in ("analyst", "admin"):
        assert all(row["reporter"] in ("rep-a", "rep-b") for row in rows)
        assert all("distance_to_m4_m" in row for row in rows)
    else:
        assert not {"reporter", "reviewed_by"} & set(rows[0])


DETAIL_STATUS = {
    # who: (own/a_submitted, b_verified, b_rejected)
    "anonymous": (401, 401, 401),
    "reporter_a": (200, 404, 404),
    "reporter_b": (404, 200, 200),
    "analyst": (200, 200, 200),
    "partner_key": (404, 200, 404),
    "revoked_key": (401, 401, 401),
    "admin": (200, 200, 200),
}


@pytest.mark.parametrize("who", CLIENTS)
def test_role_matrix_for_incident_details(who, users, incidents, partner_key, revoked_key):
    client = client_for(who, users, partner_key, revoked_key)
    codes = tuple(
        client.get(f"/api/v1/incidents/{incidents[name].client_uuid}/").status_code
        for name in ("a_submitted", "b_verified", "b_rejected")
    )
    assert codes == DETAIL_STATUS[who]


SUBMIT_STATUS = {
    "anonymous": 401,
    "reporter_a": 201,
    "reporter_b": 201,
    "analyst": 201,
    "partner_key": 403,
    "revoked_key": 401,
    "admin": 201,
}


def submission(**overrides):
    body = {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": (timezone.now() - datetime.timedelta(hours=3)).isoformat(),
        "location": {"type": "Point", "coordinates": list(IDLIB)},
        "place_name": "Idlib",
        "sub_event_type": "air-drone-strike",
        "explosions_count": 2,
        "description": "Two strikes on the eastern industrial area.",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("who", CLIENTS)
def test_role_matrix_for_submitting(who, users, partner_key, revoked_key):
    client = client_for(who, users, partner_key, revoked_key)
    response = client.post("/api/v1/incidents/", submission(), format="json")
    assert response.status_code == SUBMIT_STATUS[who]
    assert Incident.objects.count() == (1 if SUBMIT_STATUS[who] == 201 else 0)


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 401),
        ("reporter_a", 403),
        ("analyst", 200),
        ("partner_key", 200),
        ("admin", 200),
    ],
)
def test_role_matrix_for_the_changes_feed(who, status, users, incidents, partner_key):
    response = client_for(who, users, partner_key).get("/api/v1/incidents/changes/")
    assert response.status_code == status


@pytest.mark.parametrize("who", CLIENTS)
def test_role_matrix_for_taxonomy_and_health(who, users, partner_key, revoked_key):
    client = client_for(who, users, partner_key, revoked_key)
    assert client.get("/api/v1/health/").status_code == 200
    taxonomy = client.get("/api/v1/taxonomy/")
    assert taxonomy.status_code == (401 if who in ("anonymous", "revoked_key") else 200)


def test_a_user_without_a_role_gets_nothing(users, incidents):
    client = APIClient()
    client.force_authenticate(users["no_role"])
    assert client.get("/api/v1/incidents/").status_code == 403
    assert client.get("/api/v1/taxonomy/").status_code == 403
    assert client.post("/api/v1/incidents/", submission(), format="json").status_code == 403


def test_submitting_the_same_uuid_and_body_twice_returns_the_same_record(users):
    client = client_for("reporter_a", users)
    body = submission()
    first = client.post("/api/v1/incidents/", body, format="json")
    again = client.post("/api/v1/incidents/", body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"] == body["client_uuid"]
    assert Incident.objects.count() == 1


def test_same_uuid_with_a_different_body_is_a_conflict(users):
    client = client_for("reporter_a", users)
    body = submission()
    client.post("/api/v1/incidents/", body, format="json")
    response = client.post("/api/v1/incidents/", {**body, "explosions_count": 7}, format="json")
    assert response.status_code == 409
    assert Incident.objects.count() == 1


def test_another_reporters_uuid_is_not_echoed_back(users):
    body = submission()
    client_for("reporter_a", users).post("/api/v1/incidents/", body, format="json")
    response = client_for("reporter_b", users).post("/api/v1/incidents/", body, format="json")
    assert response.status_code == 409
    assert "description" not in response.json()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"location": {"type": "Point", "coordinates": [35.81374, 36.60964]}}, "location"),
        (
            {"location": {"type": "Point", "coordinates": [36.6, 35.8], "crs": {"type": "name"}}},
            "location",
        ),
        (
            {"location": {"type": "LineString", "coordinates": [[36.6, 35.8], [36.7, 35.9]]}},
            "location",
        ),
        ({"location": "POINT(36.6 35.8)"}, "location"),
        ({"occurred_at": (timezone.now() + datetime.timedelta(days=2)).isoformat()}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"sub_event_type": "tea-party"}, "sub_event_type"),
        ({"client_uuid": "not-a-uuid"}, "client_uuid"),
        ({"killed_civilians": -1}, "killed_civilians"),
        ({"review_status": "verified"}, "review_status"),
        ({"reporter": "someone-else"}, "reporter"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at"),
        ({"verified_at": "2020-01-01T00:00:00Z"}, "verified_at"),
        ({"colour": "red"}, "colour"),
        ({"description": "a\x00b"}, "description"),
    ],
)
def test_bad_submissions_are_refused_naming_the_field(users, overrides, field):
    response = client_for("reporter_a", users).post(
        "/api/v1/incidents/", submission(**overrides), format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Incident.objects.exists()


def test_geojson_list_is_an_rfc7946_feature_collection(users, incidents):
    client = client_for("analyst", users)
    for response in (
        client.get("/api/v1/incidents/", HTTP_ACCEPT="application/geo+json"),
        client.get("/api/v1/incidents/?format=geojson"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/geo+json")
        body = response.json()
        assert body["type"] == "FeatureCollection"
        assert "crs" not in body
        feature = next(
            f for f in body["features"] if f["id"] == str(incidents["a_submitted"].client_uuid)
        )
        assert feature["type"] == "Feature"
        lon, lat = feature["geometry"]["coordinates"]
        assert (round(lon, 4), round(lat, 4)) == (round(ARIHA[0], 4), round(ARIHA[1], 4))
        assert "location" not in feature["properties"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bbox=36.5,35.7,36.7,35.9", {"a_submitted"}),
        ("type=battles", {"b_rejected"}),
        ("sub_type=shelling-artillery-missile-attack", {"a_submitted", "b_verified"}),
        ("review_status=verified,rejected", {"b_verified", "b_rejected"}),
        ("zone=SY07", {"a_submitted", "b_verified", "b_rejected"}),
        ("zone=SY0703", {"b_verified"}),
        ("zone=SY070500", {"a_submitted"}),
        ("zone=M4-SC", {"a_submitted"}),
        ("in_corridor=true", {"a_submitted"}),
        ("in_corridor=false", {"b_verified", "b_rejected"}),
        ("near=36.61,35.81&radius_m=2000", {"a_submitted"}),
        ("near=36.61,35.81&radius_m=100000", {"a_submitted", "b_verified", "b_rejected"}),
        ("q=أطمه", {"b_verified"}),
        ("q=kafr", {"b_rejected"}),
    ],
)
def test_filters(users, incidents, query, expected):
    response = client_for("analyst", users).get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 200, response.json()
    ids = {row["id"] for row in response.json()["results"]}
    assert ids == {str(incidents[name].client_uuid) for name in expected}


def test_date_filters(users, incidents):
    old = submit(users["reporter_a"], IDLIB, days_ago=40)
    client = client_for("analyst", users)
    since = (timezone.now() - datetime.timedelta(days=10)).date().isoformat()
    recent = client.get(f"/api/v1/incidents/?occurred_after={since}").json()["results"]
    assert str(old.client_uuid) not in {row["id"] for row in recent}
    assert len(recent) == 3
    before = client.get(f"/api/v1/incidents/?occurred_before={since}").json()["results"]
    assert [row["id"] for row in before] == [str(old.client_uuid)]
    # Offsets PostgreSQL would refuse (beyond 15:59) are read and converted to UTC.
    far_offset = client.get("/api/v1/incidents/?occurred_after=2020-01-01T00:00:00%2B20:50")
    assert far_offset.status_code == 200
    assert len(far_offset.json()["results"]) == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=36.7,35.9,36.5,35.7", "bbox"),
        ("bbox=nan,1,2,3", "bbox"),
        ("bbox=0,0,500,1", "bbox"),
        ("occurred_after=last-week", "occurred_after"),
        ("type=nonsense", "type"),
        ("review_status=maybe", "review_status"),
        ("zone=XX99", "zone"),
        ("near=36.6", "near"),
        ("near=36.6,35.8&radius_m=-5", "radius_m"),
        ("near=36.6,35.8&radius_m=1e9", "radius_m"),
        ("in_corridor=perhaps", "in_corridor"),
        ("ordering=description", "ordering"),
        ("cursor=garbage", "cursor"),
        ("page_size=ten", "page_size"),
        ("occured_after=2020-01-01", "occured_after"),
        ("q=%00", "q"),
    ],
)
def test_bad_filters_get_400_naming_the_parameter(users, incidents, query, field):
    response = client_for("analyst", users).get(f"/api/v1/incidents/?{query}")
    assert response.status_code == 400
    assert field in response.json()


def test_partner_bbox_runs_on_the_coarse_location(users, incidents, partner_key):
    """A tiny box around the exact point finds nothing; the grid cell's point finds the record."""
    client = client_for("partner_key", users, partner_key)
    lon, lat = ATMEH
    tiny = client.get(
        f"/api/v1/incidents/?bbox={lon - 1e-4},{lat - 1e-4},{lon + 1e-4},{lat + 1e-4}"
    )
    assert tiny.json()["results"] == []
    glon, glat = round(lon / 0.05) * 0.05, round(lat / 0.05) * 0.05
    cell = client.get(
        f"/api/v1/incidents/?bbox={glon - 1e-4},{glat - 1e-4},{glon + 1e-4},{glat + 1e-4}"
    )
    assert [row["id"] for row in cell.json()["results"]] == [
        str(incidents["b_verified"].client_uuid)
    ]


def test_page_size_is_capped_and_lists_run_constant_queries(users, django_assert_max_num_queries):
    from django.contrib.auth import get_user_model

    def fresh_client():  # a new user object each time, as for separate requests
        client = APIClient()
        client.force_authenticate(get_user_model().objects.get(pk=users["analyst"].pk))
        return client

    for day in range(30):
        submit(users["reporter_a"], IDLIB, days_ago=day + 1)
    client = fresh_client()
    with django_assert_max_num_queries(12) as small:
        client.get("/api/v1/incidents/?page_size=2")
    client = fresh_client()
    with django_assert_max_num_queries(12) as large:
        response = client.get("/api/v1/incidents/?page_size=5000")
    assert len(small.captured_queries) == len(large.captured_queries)
    assert len(response.json()["results"]) == 30
    # GeoJSON: the page's ids from the ORM, then its features built by PostgreSQL (one more
    # query, whatever the page size).
    client = fresh_client()
    with django_assert_max_num_queries(12) as small_geo:
        client.get("/api/v1/incidents/?page_size=2&format=geojson")
    client = fresh_client()
    with django_assert_max_num_queries(len(small.captured_queries) + 1) as large_geo:
        client.get("/api/v1/incidents/?page_size=5000&format=geojson")
    assert len(small_geo.captured_queries) == len(large_geo.captured_queries)


def test_keyset_pages_cover_everything_once(users):
    for day in range(25):
        submit(users["reporter_a"], IDLIB, days_ago=day + 1)
    client = client_for("analyst", users)
    seen, url = [], "/api/v1/incidents/?page_size=7"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 25


def test_exact_location_reads_are_audited_for_analysts_not_partners(users, incidents, partner_key):
    client_for("analyst", users).get("/api/v1/incidents/")
    client_for("partner_key", users, partner_key).get("/api/v1/incidents/")
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXACT_LOCATION_READ)
    assert events.count() == 1
    assert events.get().user == users["analyst"]
    assert len(events.get().object_ids) == 3


def test_api_key_use_is_recorded(users, partner_key):
    from accounts.models import PartnerApiKey

    client_for("partner_key", users, partner_key).get("/api/v1/taxonomy/")
    assert PartnerApiKey.objects.get(user=users["partner"]).last_used_at is not None


def mirror_sync(client, mirror, since):
    """What a partner does: read the changes feed from `since`, apply upserts and removals."""
    url = "/api/v1/incidents/changes/?page_size=3" + (f"&since={since}" if since else "")
    last = since
    while url:
        body = client.get(url).json()
        for entry in body["results"]:
            if entry["record"] is not None:
                mirror[entry["id"]] = entry["record"]
            else:
                mirror.pop(entry["id"], None)
            last = entry["updated_at"]
        url = body["next"]
    return last


def source_view(client):
    rows, url = {}, "/api/v1/incidents/?ordering=updated_at&page_size=1000"
    while url:
        body = client.get(url).json()
        rows.update({row["id"]: row for row in body["results"]})
        url = body["next"]
    return rows


@pytest.mark.parametrize("who", ["analyst", "partner_key"])
def test_a_mirror_synced_by_changes_equals_the_source(who, users, partner_key):
    client = client_for(who, users, partner_key)
    made = [
        submit(users["reporter_a"], IDLIB, days_ago=d + 1, place_name=f"p{d}") for d in range(8)
    ]
    for incident in made[:6]:
        incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    mirror = {}
    since = mirror_sync(client, mirror, None)
    assert mirror == source_view(client)

    # Change, delete, merge, withdraw and add records, then sync again from the last mark.
    Incident.objects.filter(pk=made[0].pk).update(
        description="corrected", updated_at=timezone.now()
    )
    incident_delete(incident=made[1], user=users["admin"])
    incident_review(
        incident=made[2],
        reviewer=users["analyst"],
        status=ReviewStatus.DUPLICATE,
        duplicate_of=made[3],
    )
    incident_review(
        incident=made[4], reviewer=users["analyst"], status=ReviewStatus.REJECTED, note="x"
    )
    incident_review(incident=made[6], reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    submit(users["reporter_a"], ARIHA, place_name="new")
    mirror_sync(client, mirror, since)
    assert mirror == source_view(client)
    assert str(made[1].client_uuid) not in mirror  # deleted
    if who == "partner_key":
        assert str(made[2].client_uuid) not in mirror  # merged into made[3]
        assert str(made[4].client_uuid) not in mirror  # withdrawn (rejected)
    else:
        assert mirror[str(made[2].client_uuid)]["duplicate_of"] == str(made[3].client_uuid)


def test_schema_documents_the_filters_and_geojson(users):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    operation = schema["paths"]["/api/v1/incidents/"]["get"]
    names = {parameter["name"] for parameter in operation["parameters"]}
    assert {
        "bbox",
        "occurred_after",
        "occurred_before",
        "type",
        "sub_type",
        "review_status",
        "zone",
        "in_corridor",
        "near",
        "radius_m",
        "updated_since",
        "q",
        "ordering",
        "cursor",
        "page_size",
    } <= names
    assert "application/geo+json" in operation["responses"]["200"]["content"]
    assert APIClient().get("/api/docs/").status_code == 200
