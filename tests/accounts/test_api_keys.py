import datetime
import io

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent, PartnerApiKey
from accounts.services import api_key_create

pytestmark = pytest.mark.django_db


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_keys_are_stored_hashed(users):
    key_obj, key = api_key_create(user=users["partner"], name="UN agency")
    stored = PartnerApiKey.objects.get(pk=key_obj.pk)
    assert key.split(".")[1] not in stored.hashed_key
    assert stored.hashed_key.startswith("sha512$$")


def test_the_command_creates_a_partner_and_prints_a_working_key(db):
    out = io.StringIO()
    call_command("create_api_key", "--user", "ocha", "--name", "OCHA", "--create-user", stdout=out)
    key = out.getvalue().splitlines()[1]
    response = key_client(key).get("/api/v1/taxonomy/")
    assert response.status_code == 200


def test_a_revoked_key_is_refused(revoked_key):
    response = key_client(revoked_key).get("/api/v1/taxonomy/")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Api-Key"


def test_an_expired_key_is_refused(users):
    key_obj, key = api_key_create(user=users["partner"], name="short-lived")
    PartnerApiKey.objects.filter(pk=key_obj.pk).update(
        expiry_date=timezone.now() - datetime.timedelta(days=1)
    )
    assert key_client(key).get("/api/v1/taxonomy/").status_code == 401


@pytest.mark.parametrize("header", ["Api-Key ", "Api-Key nonsense", "Api-Key a.b", "Api-Key ...."])
def test_malformed_keys_are_refused(db, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/v1/taxonomy/").status_code == 401


def test_creating_and_revoking_keys_is_audited(users):
    from accounts.services import api_key_revoke

    key_obj, _ = api_key_create(user=users["partner"], name="x")
    api_key_revoke(key=key_obj)
    details = list(
        AuditEvent.objects.filter(action=AuditEvent.Action.API_KEY).values_list("detail", flat=True)
    )
    assert {"created": key_obj.prefix, "for": users["partner"].pk} in details
    assert {"revoked": key_obj.prefix} in details


def test_role_changes_are_audited(users):
    from django.contrib.auth.models import Group

    users["no_role"].groups.add(Group.objects.get(name="analyst"))
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ROLE_CHANGE).latest("at")
    assert event.detail == {
        "user": users["no_role"].pk,
        "groups": ["analyst"],
        "change": "post_add",
    }


def test_audit_events_cannot_be_changed(users):
    event = AuditEvent.objects.create(action=AuditEvent.Action.EXPORT)
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()
