"""Alerts with the real stack: verifying an incident makes the Celery worker raise the alert and
post it; while the receiver is down the delivery is retried from the database, then delivered.
Two rule runs at once, on separate connections, raise each alert once."""

import threading
import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from alerts.deliveries import verify_signature
from alerts.models import Alert, AlertBasis, AlertDelivery, WebhookEndpoint
from alerts.rules import alerts_evaluate
from incidents.models import Incident
from tests.alerts.helpers import verified_incident
from tests.alerts.receiver import Receiver
from tests.factories import NAYRAB
from tests.stack import free_port

pytestmark = pytest.mark.celery


@pytest.fixture
def committed(django_db_blocker, reference_data):
    """Users and rows committed for the stack to see; removed afterwards."""
    made_users = []

    def make_user(role: str):
        user = get_user_model().objects.create_user(username=f"{role}-{uuid.uuid4().hex[:8]}")
        user.groups.add(Group.objects.get(name=role))
        made_users.append(user)
        return user

    with django_db_blocker.unblock():
        yield make_user
        Alert.objects.filter(incident__reporter__in=made_users).delete()
        WebhookEndpoint.objects.filter(name__startswith="worker-test").delete()
        Incident.all_objects.filter(reporter__in=made_users).delete()
        get_user_model().objects.filter(pk__in=[u.pk for u in made_users]).update(is_active=False)
        connection.close()


def _wait(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.25)
    return False


def test_the_worker_raises_and_delivers_an_alert_retrying_while_the_receiver_is_down(
    app_stack, committed
):
    port = free_port()
    endpoint = WebhookEndpoint.objects.create(
        name="worker-test partner", url=f"http://127.0.0.1:{port}/hook"
    )
    incident = verified_incident(
        reporter=committed("reporter"), analyst=committed("analyst"), point=NAYRAB
    )
    # The worker raises the alert (kicked after the review's commit, or by the beat sweep) and
    # tries the receiver, which is not listening yet.
    assert _wait(
        lambda: AlertDelivery.objects.filter(
            endpoint=endpoint, alert__incident=incident, attempts__gte=1
        ).exists(),
        timeout=60,
    ), app_stack.log()[-3000:]
    delivery = AlertDelivery.objects.get(endpoint=endpoint)
    assert delivery.status == AlertDelivery.Status.PENDING
    assert _wait(lambda: delivery.log.filter(ok=False).exists(), timeout=30)

    with Receiver(port=port) as receiver:
        assert receiver.received.wait(timeout=60), app_stack.log()[-3000:]
    ((headers, body),) = receiver.requests
    assert verify_signature(endpoint.secret, headers["x-monitor-signature"], body)
    # The worker records the delivery just after the receiver answered.
    assert _wait(
        lambda: AlertDelivery.objects.filter(
            pk=delivery.pk, status=AlertDelivery.Status.DELIVERED
        ).exists(),
        timeout=30,
    )
    delivery.refresh_from_db()
    assert delivery.attempts >= 2
    # One alert for staff (exact point), one for partners (grid point): the partner endpoint
    # got the latter.
    assert Alert.objects.filter(incident=incident, basis=AlertBasis.EXACT).count() == 1
    assert delivery.alert.basis == AlertBasis.GRID


def test_two_rule_runs_at_once_raise_each_alert_once(committed):
    reporter, analyst = committed("reporter"), committed("analyst")
    incidents = [
        verified_incident(
            reporter=reporter, analyst=analyst, point=(NAYRAB[0] + n * 0.001, NAYRAB[1])
        )
        for n in range(5)
    ]
    Alert.objects.filter(incident__in=incidents).delete()  # the worker may have been first
    counts, errors = [], []

    def run():
        try:
            counts.append(len(alerts_evaluate()))
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for basis in (AlertBasis.EXACT, AlertBasis.GRID):
        assert Alert.objects.filter(incident__in=incidents, basis=basis).count() == 5
