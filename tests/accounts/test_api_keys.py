import datetime
import io

import pytest
from django.core.cache import caches
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


def test_each_key_has_its_own_rate_limit_answered_with_429_and_retry_after(users, monkeypatch):
    from accounts.throttling import PerClientRateThrottle

    caches["throttle"].clear()
    monkeypatch.setattr(PerClientRateThrottle, "THROTTLE_RATES", {"client": "3/minute"})
    _, key_a = api_key_create(user=users["partner"], name="a")
    _, key_b = api_key_create(user=users["partner"], name="b")
    codes = [key_client(key_a).get("/api/v1/taxonomy/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = key_client(key_a).get("/api/v1/taxonomy/")
    assert int(limited["Retry-After"]) > 0
    assert key_client(key_b).get("/api/v1/taxonomy/").status_code == 200
    caches["throttle"].clear()


def test_requests_pass_when_the_throttle_store_is_down(users, monkeypatch):
    """Redis down must not stop the API (nor report submission): the throttle fails open."""
    from django.core.cache.backends.redis import RedisCache

    from accounts.throttling import PerClientRateThrottle

    dead = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    original_init = PerClientRateThrottle.__init__

    def init_with_dead_store(self):
        original_init(self)
        self.cache = dead

    monkeypatch.setattr(PerClientRateThrottle, "__init__", init_with_dead_store)
    _, key = api_key_create(user=users["partner"], name="a")
    assert key_client(key).get("/api/v1/taxonomy/").status_code == 200
