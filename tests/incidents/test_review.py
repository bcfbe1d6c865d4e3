"""The review workflow: queue, decisions, classification edits, likely duplicates, incident page."""

import datetime
import json
import re
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from incidents.models import Incident, IncidentChange, ReviewStatus, SubEventType
from incidents.services import incident_review, incident_submit
from tests.factories import ARIHA, ATMEH

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

XSS = "<img src=x onerror=alert(1)>"
SHELLING = "shelling-artillery-missile-attack"


def offset(lonlat, metres_east=0.0, metres_north=0.0):
    """A point some metres east and north of (lon, lat), near 36 N."""
    lon, lat = lonlat
    return (lon + metres_east / 90_200, lat + metres_north / 110_950)


def submit(user, lonlat=ARIHA, sub=SHELLING, hours_ago=24.0, **extra):
    sub_type = SubEventType.objects.select_related("event_type").get(slug=sub)
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(hours=hours_ago),
        "location": Point(*lonlat, srid=4326),
        "place_name": extra.pop("place_name", "Ariha"),
        "event_type": sub_type.event_type,
        "sub_event_type": sub_type,
        **extra,
    }
    return incident_submit(reporter=user, client_uuid=uuid.uuid4(), data=data).incident


def client_as(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def decide(client, incident, **data):
    return client.post(f"/review/{incident.client_uuid}/decide/", data)


# --- Likely duplicates ----------------------------------------------------------------------


def test_duplicate_candidates_are_same_type_within_2_km_and_a_day(users):
    report = submit(users["reporter_a"], hours_ago=30)
    near = submit(users["reporter_b"], offset(ARIHA, metres_east=1500), hours_ago=40)
    far = submit(users["reporter_b"], offset(ARIHA, metres_east=2600), hours_ago=30)
    late = submit(users["reporter_b"], hours_ago=30 + 25)
    other_type = submit(users["reporter_b"], sub="armed-clash", hours_ago=30)
    rejected = submit(users["reporter_b"], hours_ago=31)
    incident_review(
        incident=rejected, reviewer=users["analyst"], status=ReviewStatus.REJECTED, note="x"
    )
    already_duplicate = submit(users["reporter_b"], hours_ago=29)
    incident_review(
        incident=already_duplicate,
        reviewer=users["analyst"],
        status=ReviewStatus.DUPLICATE,
        duplicate_of=near,
    )
    found = list(Incident.objects.duplicate_candidates(report))
    assert found == [near]
    assert 1400 < found[0].distance_m.m < 1600
    assert {far, late, other_type, rejected, already_duplicate}.isdisjoint(found)


def test_duplicate_candidates_measure_true_metres_north_and_east(users):
    report = submit(users["reporter_a"])
    north = submit(users["reporter_b"], offset(ARIHA, metres_north=1900))
    east_beyond = submit(users["reporter_b"], offset(ARIHA, metres_east=2150))
    assert list(Incident.objects.duplicate_candidates(report)) == [north]
    assert east_beyond not in Incident.objects.duplicate_candidates(report)


def test_duplicate_candidates_take_one_query(users, django_assert_num_queries):
    report = submit(users["reporter_a"])
    submit(users["reporter_b"], offset(ARIHA, metres_east=300))
    with django_assert_num_queries(1):
        assert len(list(Incident.objects.duplicate_candidates(report))) == 1


def test_candidate_counts_are_annotated_for_a_whole_page_in_one_query(
    users, django_assert_num_queries
):
    first = submit(users["reporter_a"])
    submit(users["reporter_b"], offset(ARIHA, metres_north=500))
    alone = submit(users["reporter_b"], ATMEH, place_name="Atmeh")
    with django_assert_num_queries(1):
        counts = dict(
            Incident.objects.with_duplicate_candidate_count().values_list(
                "pk", "duplicate_candidate_count"
            )
        )
    assert counts[first.pk] == 1
    assert counts[alone.pk] == 0


def test_the_candidates_api_lists_details_for_analysts_only(users):
    report = submit(users["reporter_a"])
    near = submit(users["reporter_b"], offset(ARIHA, metres_east=800), description=XSS)
    url = f"/api/v1/incidents/{report.client_uuid}/duplicate-candidates/"
    for who in ("reporter_a", "partner", "no_role"):
        api = APIClient()
        api.force_authenticate(users[who])
        assert api.get(url).status_code == 403
    api = APIClient()
    api.force_authenticate(users["analyst"])
    rows = api.get(url).json()["results"]
    assert [row["id"] for row in rows] == [str(near.client_uuid)]
    assert 700 < rows[0]["distance_m"] < 900
    assert rows[0]["description"] == XSS  # JSON carries the text; the page sets it as text
    assert api.get(f"/api/v1/incidents/{uuid.uuid4()}/duplicate-candidates/").status_code == 404


# --- The queue ------------------------------------------------------------------------------


def test_the_queue_sends_anonymous_visitors_to_sign_in():
    response = client_as().get("/review/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["reporter_a", "partner", "no_role"])
def test_the_queue_is_forbidden_to_other_roles(who, users):
    assert client_as(users[who]).get("/review/").status_code == 403


@pytest.mark.parametrize("who", ["analyst", "admin"])
def test_the_queue_opens_for_analysts_and_admins(who, users):
    assert client_as(users[who]).get("/review/").status_code == 200


def test_the_queue_shows_open_reports_newest_first(users):
    older = submit(users["reporter_a"], place_name="Older")
    newer = submit(users["reporter_a"], place_name="Newer")
    Incident.objects.filter(pk=older.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=3)
    )
    verified = submit(users["reporter_a"], place_name="Verified")
    incident_review(incident=verified, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    page = client_as(users["analyst"]).get("/review/").content.decode()
    assert page.index(str(newer.client_uuid)) < page.index(str(older.client_uuid))
    assert str(verified.client_uuid) not in page


def test_the_queue_filters_by_status(users):
    submitted = submit(users["reporter_a"])
    verified = submit(users["reporter_a"])
    incident_review(incident=verified, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    page = client_as(users["analyst"]).get("/review/?status=verified").content.decode()
    assert str(verified.client_uuid) in page
    assert str(submitted.client_uuid) not in page


def test_the_queue_is_paged_with_a_cap(users):
    for _ in range(4):
        submit(users["reporter_a"])
    response = client_as(users["analyst"]).get("/review/?page_size=3")
    assert len(response.context["items"]) == 3
    capped = client_as(users["analyst"]).get("/review/?page_size=100000")
    assert capped.context["page"].paginator.per_page == 100


def test_the_queue_takes_the_same_number_of_queries_for_more_reports(users):
    client = client_as(users["analyst"])
    submit(users["reporter_a"])
    client.get("/review/")  # warm the session and caches
    with CaptureQueriesContext(connection) as few:
        client.get("/review/")
    for index in range(12):
        submit(users["reporter_b"], offset(ARIHA, metres_east=100 * index))
    with CaptureQueriesContext(connection) as many:
        response = client.get("/review/")
    assert len(response.context["items"]) == 13
    assert len(many) == len(few)


def test_the_queue_counts_likely_duplicates_per_report(users):
    report = submit(users["reporter_a"])
    submit(users["reporter_b"], offset(ARIHA, metres_north=300))
    response = client_as(users["analyst"]).get("/review/")
    counts = {i.pk: i.duplicate_candidate_count for i, _form, _photos in response.context["items"]}
    assert counts[report.pk] == 1
    assert "1 likely duplicate" in response.content.decode()


def test_the_queue_shows_descriptions_as_text(users):
    submit(users["reporter_a"], description=XSS)
    page = client_as(users["analyst"]).get("/review/").content.decode()
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


# --- Decisions ------------------------------------------------------------------------------


def test_verifying_puts_the_report_in_the_verified_api_list(users):
    report = submit(users["reporter_a"])
    response = decide(client_as(users["analyst"]), report, status="verified", next="/review/")
    assert response.status_code == 302
    assert response["Location"] == "/review/"
    api = APIClient()
    api.force_authenticate(users["partner"])
    ids = [
        row["id"] for row in api.get("/api/v1/incidents/?review_status=verified").json()["results"]
    ]
    assert ids == [str(report.client_uuid)]
    assert AuditEvent.objects.filter(action=AuditEvent.Action.REVIEW_DECISION).count() == 1


def test_rejecting_without_a_reason_names_the_field_and_changes_nothing(users):
    report = submit(users["reporter_a"])
    response = decide(client_as(users["analyst"]), report, status="rejected", note="  ")
    assert response.status_code == 400
    assert "Reason or note: Give the reason for rejecting the report." in response.content.decode()
    report.refresh_from_db()
    assert report.review_status == ReviewStatus.SUBMITTED
    assert not report.changes.filter(action=IncidentChange.Action.REVIEWED).exists()


def test_rejecting_with_a_reason_keeps_the_reason(users):
    report = submit(users["reporter_a"])
    decide(client_as(users["analyst"]), report, status="rejected", note="Same photo as 2019")
    report.refresh_from_db()
    assert report.review_status == ReviewStatus.REJECTED
    assert report.review_note == "Same photo as 2019"
    assert report.reviewed_by == users["analyst"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("self", "A report cannot duplicate itself."),
        (str(uuid.UUID(int=7)), "No report has this id."),
        ("not-a-uuid", "Enter the id of a report"),
        ("", "Name the report this one duplicates."),
    ],
)
def test_a_bad_duplicate_names_the_field_and_changes_nothing(users, value, message):
    report = submit(users["reporter_a"])
    target = str(report.client_uuid) if value == "self" else value
    response = decide(client_as(users["analyst"]), report, status="duplicate", duplicate_of=target)
    assert response.status_code == 400
    assert f"Duplicate of (report id): {message}" in response.content.decode()
    report.refresh_from_db()
    assert report.review_status == ReviewStatus.SUBMITTED


def test_marking_a_duplicate_hides_it_from_the_queue_and_from_partners(users):
    original = submit(users["reporter_a"])
    copy = submit(users["reporter_b"], offset(ARIHA, metres_east=200))
    analyst = client_as(users["analyst"])
    decide(analyst, original, status="verified")
    response = decide(analyst, copy, status="duplicate", duplicate_of=str(original.client_uuid))
    assert response.status_code == 302
    copy.refresh_from_db()
    assert copy.review_status == ReviewStatus.DUPLICATE
    assert copy.duplicate_of == original
    assert str(copy.client_uuid) not in analyst.get("/review/").content.decode()
    api = APIClient()
    api.force_authenticate(users["partner"])
    ids = {row["id"] for row in api.get("/api/v1/incidents/").json()["results"]}
    assert ids == {str(original.client_uuid)}


def test_a_transition_the_workflow_does_not_allow_is_refused(users):
    report = submit(users["reporter_a"])
    incident_review(incident=report, reviewer=users["analyst"], status="rejected", note="x")
    response = decide(client_as(users["analyst"]), report, status="duplicate", duplicate_of="")
    assert response.status_code == 400


def test_decisions_need_the_csrf_token(users):
    report = submit(users["reporter_a"])
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["analyst"])
    assert decide(client, report, status="verified").status_code == 403
    report.refresh_from_db()
    assert report.review_status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize("who", ["reporter_a", "partner"])
def test_other_roles_cannot_decide(who, users):
    report = submit(users["reporter_a"])
    assert decide(client_as(users[who]), report, status="verified").status_code == 403


def test_a_decision_never_redirects_off_site(users):
    report = submit(users["reporter_a"])
    response = decide(
        client_as(users["analyst"]), report, status="verified", next="https://evil.example/"
    )
    assert response["Location"] == "/review/"


# --- Classification ---------------------------------------------------------------------------


def classification_data(incident, **changes):
    data = {
        "sub_event_type": incident.sub_event_type_id,
        "weapon": incident.weapon,
        "observation_method": incident.observation_method,
        "perpetrator_side": incident.perpetrator_side,
        "target": incident.target,
        "target_description": incident.target_description,
        "killed_civilians": incident.killed_civilians,
        "killed_combatants": incident.killed_combatants,
        "injured_civilians": incident.injured_civilians,
        "injured_combatants": incident.injured_combatants,
        "time_precision": incident.time_precision,
        "location_precision": incident.location_precision,
        "place_name": incident.place_name,
    }
    data.update(changes)
    return data


def test_editing_the_classification_saves_and_records_it(users):
    report = submit(users["reporter_a"])
    clash = SubEventType.objects.get(slug="armed-clash")
    response = client_as(users["analyst"]).post(
        f"/review/{report.client_uuid}/classify/",
        classification_data(report, sub_event_type=clash.pk, killed_civilians=2),
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert (report.sub_event_type, report.event_type, report.killed_civilians) == (
        clash,
        clash.event_type,
        2,
    )
    change = report.changes.get(action=IncidentChange.Action.EDITED)
    assert set(change.fields) == {"event_type", "sub_event_type", "killed_civilians"}
    assert change.user == users["analyst"]


def test_a_bad_classification_names_the_field_and_changes_nothing(users):
    report = submit(users["reporter_a"])
    response = client_as(users["analyst"]).post(
        f"/review/{report.client_uuid}/classify/",
        classification_data(report, killed_civilians=-1),
    )
    assert response.status_code == 400
    assert "Civilians killed:" in response.content.decode()
    report.refresh_from_db()
    assert report.killed_civilians == 0


# --- The incident page ------------------------------------------------------------------------


def page_of(user, incident):
    return client_as(user).get(f"/incidents/{incident.client_uuid}/")


def map_config(response) -> dict:
    match = re.search(
        r'<script id="incident-map-config" type="application/json">(.*?)</script>',
        response.content.decode(),
    )
    return json.loads(match.group(1))


def test_the_incident_page_sends_anonymous_visitors_to_sign_in(users):
    report = submit(users["reporter_a"])
    response = client_as().get(f"/incidents/{report.client_uuid}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_reporter_sees_their_own_report_with_status_and_reason(users):
    report = submit(users["reporter_a"])
    incident_review(
        incident=report, reviewer=users["analyst"], status="rejected", note="Photo is from 2016"
    )
    response = page_of(users["reporter_a"], report)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Rejected" in page
    assert "Photo is from 2016" in page
    assert "analyst" not in page  # who reviewed is for staff
    assert 'id="history"' not in page


def test_a_reporter_cannot_open_another_reporters_report(users):
    report = submit(users["reporter_a"])
    assert page_of(users["reporter_b"], report).status_code == 404


def test_a_partner_sees_a_verified_report_at_the_coarse_location_only(users):
    report = submit(users["reporter_a"], direction="NE", distance_estimate_m=700)
    incident_review(incident=report, reviewer=users["analyst"], status="verified", note="n0te")
    response = page_of(users["partner"], report)
    page = response.content.decode()
    assert response.status_code == 200
    config = map_config(response)
    assert config["coarse"] is True
    assert round(config["lon"] / 0.05, 6) == round(config["lon"] / 0.05)
    assert (config["lon"], config["lat"]) != (round(ARIHA[0], 6), round(ARIHA[1], 6))
    for secret in ("rep-a", "analyst", "n0te", "North-east", f"{ARIHA[1]:.5f}"):
        assert secret not in page


def test_a_partner_cannot_open_an_unverified_report(users):
    report = submit(users["reporter_a"])
    assert page_of(users["partner"], report).status_code == 404


def test_an_analyst_sees_reporter_exact_location_and_history(users):
    report = submit(users["reporter_a"])
    incident_review(incident=report, reviewer=users["analyst"], status="verified")
    response = page_of(users["analyst"], report)
    page = response.content.decode()
    assert "rep-a" in page
    assert map_config(response)["coarse"] is False
    assert map_config(response)["lon"] == round(ARIHA[0], 6)
    assert 'id="history"' in page
    assert "Review decision" in page and "Submitted" in page
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.EXACT_LOCATION_READ, object_ids=[str(report.client_uuid)]
    ).exists()


def test_the_incident_page_shows_the_description_as_text(users):
    report = submit(users["reporter_a"], description=XSS, place_name=XSS)
    page = page_of(users["analyst"], report).content.decode()
    assert XSS not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


@pytest.mark.parametrize(
    "url",
    ["/review/", "/review/{id}/", "/incidents/{id}/"],
)
def test_review_pages_have_no_inline_script_or_event_handlers(users, url):
    report = submit(users["reporter_a"], description=XSS)
    submit(users["reporter_b"], offset(ARIHA, metres_east=100))
    page = client_as(users["analyst"]).get(url.format(id=report.client_uuid)).content.decode()
    for tag in re.findall(r"<script\b[^>]*>", page):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    # Inline code would sit between <script> and </script> without a src.
    for attributes, body in re.findall(r"<script\b([^>]*)>(.*?)</script>", page, re.S):
        assert "src=" in attributes or 'type="application/json"' in attributes or not body.strip()
    assert not re.search(r"<[^>]+\son[a-z]+\s*=", page)


def test_the_review_page_lists_likely_duplicates(users):
    report = submit(users["reporter_a"])
    near = submit(users["reporter_b"], offset(ARIHA, metres_east=400))
    page = client_as(users["analyst"]).get(f"/review/{report.client_uuid}/").content.decode()
    assert str(near.client_uuid) in page


def test_the_pages_render_in_arabic(users):
    report = submit(users["reporter_a"])
    client = client_as(users["analyst"])
    client.cookies["django_language"] = "ar"
    for url in ("/review/", f"/incidents/{report.client_uuid}/"):
        page = client.get(url).content.decode()
        assert 'dir="rtl"' in page
