"""Webhooks: signed POSTs to a real local receiver, retries with exponential backoff while it is
down, a delivery log, and an endpoint switched off after repeated failures."""

import datetime
import json
import time

import pytest
from django.utils import timezone

from accounts.models import AuditEvent
from alerts.deliveries import backoff, deliveries_dispatch_due, sign, verify_signature
from alerts.models import AlertBasis, AlertDelivery, WebhookEndpoint
from alerts.rules import alerts_evaluate
from tests.alerts.helpers import verified_incident
from tests.alerts.receiver import Receiver
from tests.factories import NAYRAB
from tests.stack import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def raise_alert(reference_data, users):
    def make():
        """The alert partner webhooks get: the one raised on the incident's grid point."""
        verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB)
        (alert,) = [alert for alert in alerts_evaluate() if alert.basis == AlertBasis.GRID]
        return alert

    return make


def test_a_webhook_reaches_the_receiver_with_a_valid_signature(raise_alert):
    with Receiver() as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Partner NGO", url=receiver.url)
        alert = raise_alert()
        assert deliveries_dispatch_due() == {"delivered": 1, "failed": 0}
    ((headers, body),) = receiver.requests
    assert verify_signature(endpoint.secret, headers["x-monitor-signature"], body)
    assert not verify_signature("another secret", headers["x-monitor-signature"], body)
    assert not verify_signature(endpoint.secret, headers["x-monitor-signature"], body + b" ")
    payload = json.loads(body)
    delivery = AlertDelivery.objects.get(endpoint=endpoint)
    assert payload["delivery"] == headers["x-monitor-delivery"] == str(delivery.uuid)
    assert payload["event"] == headers["x-monitor-event"] == "alert.corridor"
    assert payload["alert"]["id"] == str(alert.uuid)
    # A partner endpoint gets the grid location, never the exact one.
    incident = alert.incident
    assert payload["alert"]["incident"]["location"]["coordinates"] == [
        round(incident.location_coarse.x, 6),
        round(incident.location_coarse.y, 6),
    ]
    assert delivery.status == AlertDelivery.Status.DELIVERED
    (attempt,) = delivery.log.all()
    assert attempt.ok and attempt.status_code == 204


def test_a_signature_older_than_the_tolerance_is_refused():
    body = b'{"a":1}'
    old = int(time.time()) - 3600
    assert not verify_signature("s", sign("s", old, body), body)
    assert verify_signature("s", sign("s", int(time.time()), body), body)
    assert not verify_signature("s", "garbage", body)


def test_while_the_receiver_is_down_the_delivery_is_retried_with_backoff_then_delivered(
    raise_alert, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.5
    port = free_port()  # nothing listens there yet
    endpoint = WebhookEndpoint.objects.create(
        name="Down for now", url=f"http://127.0.0.1:{port}/hook"
    )
    raise_alert()
    delivery = AlertDelivery.objects.get(endpoint=endpoint)

    before = timezone.now()
    assert deliveries_dispatch_due() == {"delivered": 0, "failed": 1}
    delivery.refresh_from_db()
    assert delivery.status == AlertDelivery.Status.PENDING and delivery.attempts == 1
    first_wait = delivery.next_attempt_at - before
    assert datetime.timedelta(seconds=0.4) < first_wait < datetime.timedelta(seconds=1.5)
    # Not due yet: nothing is attempted.
    assert deliveries_dispatch_due() == {"delivered": 0, "failed": 0}

    time.sleep(0.6)
    before = timezone.now()
    assert deliveries_dispatch_due() == {"delivered": 0, "failed": 1}
    delivery.refresh_from_db()
    second_wait = delivery.next_attempt_at - before
    assert datetime.timedelta(seconds=0.9) < second_wait < datetime.timedelta(seconds=2)

    with Receiver(port=port) as receiver:
        time.sleep(1.1)
        assert deliveries_dispatch_due() == {"delivered": 1, "failed": 0}
    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert delivery.status == AlertDelivery.Status.DELIVERED and delivery.attempts == 3
    log = list(delivery.log.order_by("at"))
    assert [attempt.ok for attempt in log] == [False, False, True]
    assert "refused" in log[0].error.lower()
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.is_active


def test_backoff_doubles_up_to_the_cap(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    settings.WEBHOOK_RETRY_MAX_SECONDS = 3600
    waits = [backoff(n).total_seconds() for n in range(1, 10)]
    assert waits[:4] == [30, 60, 120, 240]
    assert waits[-1] == 3600


def test_a_delivery_gives_up_after_the_last_attempt(raise_alert, settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    with Receiver(status=500) as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Broken", url=receiver.url)
        raise_alert()
        for _ in range(5):
            deliveries_dispatch_due()
    delivery = AlertDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == AlertDelivery.Status.FAILED and delivery.attempts == 3
    assert len(receiver.requests) == 3
    assert {attempt.status_code for attempt in delivery.log.all()} == {500}


def test_an_endpoint_that_keeps_failing_is_switched_off_and_keeps_its_deliveries(
    raise_alert, settings
):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0
    settings.WEBHOOK_DISABLE_AFTER = 3
    with Receiver(status=503) as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Flaky", url=receiver.url)
        raise_alert()
        for _ in range(6):
            deliveries_dispatch_due()
    assert len(receiver.requests) == 3
    endpoint.refresh_from_db()
    assert not endpoint.is_active and endpoint.disabled_at is not None
    assert "3 failed attempts" in endpoint.disabled_reason
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.WEBHOOK_DISABLED, object_ids=[str(endpoint.pk)]
    ).exists()
    # Nothing is lost: the delivery waits for the endpoint to be switched on again.
    delivery = AlertDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == AlertDelivery.Status.PENDING
    with Receiver() as receiver:
        endpoint.url = receiver.url
        endpoint.is_active = True
        endpoint.consecutive_failures = 0
        endpoint.save()
        assert deliveries_dispatch_due() == {"delivered": 1, "failed": 0}


def test_endpoints_get_only_the_kinds_they_asked_for(raise_alert):
    wants_escalations = WebhookEndpoint.objects.create(
        name="Escalations only", url="http://127.0.0.1:9/hook", kinds=["escalation"]
    )
    wants_all = WebhookEndpoint.objects.create(name="All", url="http://127.0.0.1:9/hook")
    raise_alert()
    assert not AlertDelivery.objects.filter(endpoint=wants_escalations).exists()
    assert AlertDelivery.objects.filter(endpoint=wants_all).count() == 1


def test_a_redirect_is_a_failure_not_followed(raise_alert):
    with Receiver(status=302) as receiver:
        endpoint = WebhookEndpoint.objects.create(name="Redirects", url=receiver.url)
        raise_alert()
        assert deliveries_dispatch_due() == {"delivered": 0, "failed": 1}
    assert AlertDelivery.objects.get(endpoint=endpoint).log.get().status_code == 302
