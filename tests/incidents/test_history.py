"""Change history of incidents: every write records who, when and what; rows are append-only."""

import datetime
import uuid

import pytest
from django.contrib.admin.sites import site
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.history import history_rows
from incidents.models import Incident, IncidentChange, ReviewStatus, SubEventType, Weapon
from incidents.services import (
    incident_delete,
    incident_review,
    incident_submit,
    incident_update,
)
from tests.factories import ARIHA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def submit(user, **extra):
    sub_type = SubEventType.objects.select_related("event_type").get(
        slug=extra.pop("sub", "shelling-artillery-missile-attack")
    )
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(days=1),
        "location": Point(*ARIHA, srid=4326),
        "place_name": "Ariha",
        "event_type": sub_type.event_type,
        "sub_event_type": sub_type,
        **extra,
    }
    return incident_submit(reporter=user, client_uuid=uuid.uuid4(), data=data).incident


def test_submitting_records_a_created_entry_by_the_reporter(users):
    incident = submit(users["reporter_a"])
    change = incident.changes.get()
    assert change.action == IncidentChange.Action.CREATED
    assert change.user == users["reporter_a"]


def test_resubmitting_the_same_report_records_nothing_more(users):
    sub_type = SubEventType.objects.get(slug="armed-clash")
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(days=1),
        "location": Point(*ARIHA, srid=4326),
        "event_type": sub_type.event_type,
        "sub_event_type": sub_type,
    }
    key = uuid.uuid4()
    incident_submit(reporter=users["reporter_a"], client_uuid=key, data=data)
    incident_submit(reporter=users["reporter_a"], client_uuid=key, data=data)
    assert IncidentChange.objects.filter(incident__client_uuid=key).count() == 1


def test_a_review_decision_records_old_and_new_status_and_note(users):
    incident = submit(users["reporter_a"])
    incident_review(
        incident=incident, reviewer=users["analyst"], status=ReviewStatus.REJECTED, note="no source"
    )
    change = incident.changes.filter(action=IncidentChange.Action.REVIEWED).get()
    assert change.user == users["analyst"]
    assert change.fields["review_status"] == {"old": "submitted", "new": "rejected"}
    assert change.fields["review_note"] == {"old": "", "new": "no source"}


def test_marking_a_duplicate_records_the_original_by_its_uuid(users):
    original = submit(users["reporter_a"])
    copy = submit(users["reporter_b"])
    incident_review(
        incident=copy,
        reviewer=users["analyst"],
        status=ReviewStatus.DUPLICATE,
        duplicate_of=original,
    )
    change = copy.changes.get(action=IncidentChange.Action.REVIEWED)
    assert change.fields["duplicate_of"] == {"old": None, "new": str(original.client_uuid)}


def test_a_refused_review_records_nothing(users):
    incident = submit(users["reporter_a"])
    with pytest.raises(ValidationError):
        incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.REJECTED)
    assert not incident.changes.filter(action=IncidentChange.Action.REVIEWED).exists()


def test_editing_the_classification_records_only_the_changed_fields(users):
    incident = submit(users["reporter_a"])
    air = SubEventType.objects.get(slug="air-drone-strike")
    incident_update(
        incident=incident,
        user=users["analyst"],
        data={"sub_event_type": air, "weapon": Weapon.DRONE, "killed_civilians": 0},
    )
    incident.refresh_from_db()
    assert incident.sub_event_type == air
    assert incident.event_type == air.event_type
    change = incident.changes.get(action=IncidentChange.Action.EDITED)
    assert change.user == users["analyst"]
    assert change.fields == {
        "sub_event_type": {"old": "shelling-artillery-missile-attack", "new": "air-drone-strike"},
        "weapon": {"old": "", "new": "drone"},
    }


def test_an_edit_that_changes_nothing_records_nothing(users):
    incident = submit(users["reporter_a"])
    incident_update(incident=incident, user=users["analyst"], data={"killed_civilians": 0})
    assert not incident.changes.filter(action=IncidentChange.Action.EDITED).exists()


def test_an_edit_cannot_touch_review_or_location_fields(users):
    incident = submit(users["reporter_a"])
    with pytest.raises(ValidationError) as raised:
        incident_update(
            incident=incident, user=users["analyst"], data={"review_status": "verified"}
        )
    assert "review_status" in raised.value.message_dict
    incident.refresh_from_db()
    assert incident.review_status == ReviewStatus.SUBMITTED


def test_an_edit_with_an_event_type_not_matching_the_sub_type_is_refused(users):
    incident = submit(users["reporter_a"])
    battles = SubEventType.objects.get(slug="armed-clash").event_type
    with pytest.raises(ValidationError) as raised:
        incident_update(incident=incident, user=users["analyst"], data={"event_type": battles})
    assert "sub_event_type" in raised.value.message_dict
    assert not incident.changes.filter(action=IncidentChange.Action.EDITED).exists()


def test_deleting_records_who_deleted(users):
    incident = submit(users["reporter_a"])
    incident_delete(incident=incident, user=users["admin"])
    incident_delete(incident=incident, user=users["admin"])  # already deleted: nothing more
    deletions = IncidentChange.objects.filter(
        incident=incident, action=IncidentChange.Action.DELETED
    )
    assert [change.user for change in deletions] == [users["admin"]]


def test_history_rows_are_append_only(users):
    change = submit(users["reporter_a"]).changes.get()
    with pytest.raises(ValueError):
        change.save()
    with pytest.raises(ValueError):
        change.delete()


def test_an_edit_in_the_admin_is_recorded_with_the_editor(users):
    incident = submit(users["reporter_a"])
    model_admin = site._registry[Incident]
    request = RequestFactory().post("/admin/")
    request.user = users["admin"]
    obj = Incident.objects.get(pk=incident.pk)
    obj.killed_civilians = 3
    obj.review_status = ReviewStatus.UNDER_REVIEW
    model_admin.save_model(request, obj, form=None, change=True)
    change = incident.changes.get(action=IncidentChange.Action.ADMIN_EDITED)
    assert change.user == users["admin"]
    assert change.fields == {
        "killed_civilians": {"old": 0, "new": 3},
        "review_status": {"old": "submitted", "new": "under_review"},
    }


def test_history_rows_show_labels_in_two_queries(users, django_assert_max_num_queries):
    incident = submit(users["reporter_a"])
    incident_update(
        incident=incident,
        user=users["analyst"],
        data={"sub_event_type": SubEventType.objects.get(slug="air-drone-strike")},
    )
    incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    with django_assert_max_num_queries(3):
        rows = history_rows(incident)
    actions = [change.action for change, _ in rows]
    assert actions == ["reviewed", "edited", "created"]
    edited = dict(rows)[rows[1][0]]
    assert [(item.old, item.new) for item in edited] == [
        ("Shelling/artillery/missile attack", "Air/drone strike")
    ]


def test_the_history_api_is_for_analysts_only(users):
    incident = submit(users["reporter_a"])
    url = f"/api/v1/incidents/{incident.client_uuid}/history/"
    for who, expected in (("reporter_a", 403), ("partner", 403), ("analyst", 200)):
        client = APIClient()
        client.force_authenticate(users[who])
        assert client.get(url).status_code == expected
    client = APIClient()
    client.force_authenticate(users["analyst"])
    body = client.get(url).json()
    assert [row["action"] for row in body["results"]] == ["created"]
    assert body["results"][0]["user"] == "rep-a"
