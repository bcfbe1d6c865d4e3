"""Quarantined sealed submissions: admins only, read-only, and "try again" once the key is back."""

import shutil
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from incidents.models import Attachment, Incident
from sealing.models import QuarantinedSubmission
from sealing.quarantine import quarantined_submission_retry
from tests.incidents.test_api import submit
from tests.incidents.test_attachments import gps_tagged_jpeg
from tests.sealing.conftest import Sealer, client_as, post_sealed, report_payload
from tests.sealing.test_sealed_photos import post_sealed_photo

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

CHANGELIST = "/admin/sealing/quarantinedsubmission/"


@pytest.fixture
def lost_key(sealing, keys_dir, tmp_path):
    """The active key's private file, gone from the server (a copy kept, as in a backup)."""
    path = keys_dir / f"{sealing['keyId']}.pem"
    backup = tmp_path / "backup.pem"
    shutil.copy2(path, backup)
    path.unlink()
    return lambda: shutil.copy2(backup, path)


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", password="pw-root")


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def quarantine_a_report(users, sealing, who="reporter_a", **payload):
    client_uuid = uuid.uuid4()
    envelope = Sealer(sealing).envelope(report_payload(**payload))
    response = post_sealed(client_as(users[who]), client_uuid, envelope)
    assert response.status_code == 400
    return client_uuid, QuarantinedSubmission.objects.get(client_uuid=client_uuid)


@pytest.mark.parametrize("who", ["reporter_a", "analyst"])
def test_a_report_kept_for_a_lost_key_is_stored_once_the_key_is_restored(
    users, sealing, lost_key, who
):
    client_uuid, item = quarantine_a_report(users, sealing, who)
    assert item.reason == "key_missing"
    lost_key()

    result = quarantined_submission_retry(item=item)

    assert (result.status, result.stored) == (201, True)
    incident = Incident.objects.get(client_uuid=client_uuid)
    assert incident.reporter == users[who]
    item.refresh_from_db()
    assert item.resolved_at is not None and item.retry_status == 201


def test_trying_again_before_the_key_is_back_keeps_it_waiting(users, sealing, lost_key):
    _, item = quarantine_a_report(users, sealing)

    result = quarantined_submission_retry(item=item)

    assert (result.status, result.stored) == (400, False)
    assert QuarantinedSubmission.objects.count() == 1
    item.refresh_from_db()
    assert item.resolved_at is None and item.retried_at is not None
    assert not Incident.objects.exists()


def test_a_field_error_found_on_retry_is_recorded(users, sealing, lost_key):
    _, item = quarantine_a_report(users, sealing, explosions_count=-3)
    lost_key()

    result = quarantined_submission_retry(item=item)

    assert result.status == 400 and "explosions_count" in result.detail


def test_a_photo_kept_for_a_lost_key_is_attached_once_the_key_is_restored(users, sealing, lost_key):
    report = submit(users["reporter_a"], place_name="Sarmin")
    fields, ciphertext = Sealer(sealing).photo_fields(gps_tagged_jpeg())
    response = post_sealed_photo(client_as(users["reporter_a"]), report, fields, ciphertext)
    assert response.status_code == 400
    item = QuarantinedSubmission.objects.get(kind="photo")
    lost_key()

    result = quarantined_submission_retry(item=item)

    assert (result.status, result.stored) == (201, True)
    assert Attachment.objects.get().incident == report


def test_a_deactivated_sender_is_not_impersonated(users, sealing, lost_key):
    _, item = quarantine_a_report(users, sealing)
    lost_key()
    users["reporter_a"].is_active = False
    users["reporter_a"].save()
    item.refresh_from_db()

    assert quarantined_submission_retry(item=item).stored is False
    assert not Incident.objects.exists()


def test_admins_see_the_quarantine_read_only_with_how_to_retry(users, sealing, lost_key, superuser):
    client_uuid, item = quarantine_a_report(users, sealing)

    page = admin_client(superuser).get(CHANGELIST)
    detail = admin_client(superuser).get(f"{CHANGELIST}{item.pk}/change/")

    assert page.status_code == 200
    assert str(client_uuid) in page.text
    assert "Try again" in page.text and "restore the key files" in page.text
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.text
    assert admin_client(superuser).get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client(superuser).get(f"{CHANGELIST}{item.pk}/delete/").status_code == 403


def test_the_admin_action_tries_again(users, sealing, lost_key, superuser):
    client_uuid, item = quarantine_a_report(users, sealing)
    lost_key()

    response = admin_client(superuser).post(
        CHANGELIST, {"action": "try_again", "_selected_action": [item.pk]}, follow=True
    )

    assert "1 submission stored." in response.text
    assert Incident.objects.filter(client_uuid=client_uuid).exists()


def test_staff_who_are_not_superusers_do_not_see_the_quarantine(users, sealing, lost_key):
    quarantine_a_report(users, sealing)
    analyst = users["analyst"]
    analyst.is_staff = True
    analyst.save()

    assert admin_client(analyst).get(CHANGELIST).status_code == 403
