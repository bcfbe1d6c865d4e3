"""Zone statistics with the real stack: a Celery worker on Redis drains the outbox; with Redis
stopped, reports still go in at once and the numbers converge once it is back."""

import json
import random
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection

from accounts.services import api_key_create
from incidents.models import Incident
from stats.services import stats_pending_count, stats_rebuild, stats_recompute_pending
from tests.stack import AppStack, free_port
from tests.stats.helpers import actual, expected, random_activity

# No django_db mark: these tests commit (outside any test transaction) so that the stack sees
# their writes and takes the same locks; the `committed` fixture cleans up.
pytestmark = pytest.mark.celery


@pytest.fixture
def committed(django_db_blocker, reference_data):
    """Run code outside the test transaction (for the stack's processes to see), then clean up."""
    made_users = []

    def make_user(role: str):
        user = get_user_model().objects.create_user(username=f"{role}-{uuid.uuid4().hex[:8]}")
        user.groups.add(Group.objects.get(name=role))
        made_users.append(user)
        return user

    with django_db_blocker.unblock():
        yield make_user
        Incident.all_objects.filter(reporter__in=made_users).update(duplicate_of=None)
        Incident.all_objects.filter(reporter__in=made_users).delete()
        stats_rebuild()
        # The users stay (append-only audit events point at them), disabled.
        get_user_model().objects.filter(pk__in=[u.pk for u in made_users]).update(is_active=False)
        connection.close()


def wait_until_drained(timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while stats_pending_count() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert stats_pending_count() == 0


def test_the_worker_keeps_statistics_equal_to_a_plain_group_by(app_stack, committed):
    stats_rebuild()
    random_activity(
        random.Random(11), reporter=committed("reporter"), analyst=committed("analyst"), creates=90
    )
    wait_until_drained()
    assert actual() == expected()


def test_recomputing_twice_at_once_gives_the_same_numbers(committed):
    random_activity(
        random.Random(12), reporter=committed("reporter"), analyst=committed("analyst"), creates=60
    )
    errors = []

    def run(work):
        try:
            work()
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    for work in (stats_recompute_pending, stats_rebuild):
        threads = [threading.Thread(target=run, args=(work,)) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert actual() == expected()


@pytest.fixture
def private_redis(tmp_path):
    """A Redis of this test's own, so stopping it touches nothing else on the machine."""
    binary = shutil.which("redis-server")
    port = free_port()

    def start():
        process = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                return process
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("redis did not start")

    state = {"process": start()}

    def stop():
        state["process"].kill()
        state["process"].wait()

    def restart():
        state["process"] = start()

    yield {"url": f"redis://127.0.0.1:{port}/0", "stop": stop, "restart": restart}
    state["process"].kill()


def post_report(base_url: str, key: str, body: dict) -> int:
    request = urllib.request.Request(
        base_url + "/api/v1/incidents/",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Api-Key {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_with_redis_stopped_reports_succeed_and_statistics_converge_after(
    committed, private_redis, tmp_path, django_db_blocker
):
    stack = AppStack(log_dir=tmp_path, redis_url=private_redis["url"])
    stack.start()
    try:
        reporter = committed("reporter")
        _, key = api_key_create(user=reporter, name="outage test")
        stats_rebuild()
        private_redis["stop"]()
        rng = random.Random(13)
        sent = []
        started = time.monotonic()
        for n in range(100):
            body = {
                "client_uuid": str(uuid.uuid4()),
                "occurred_at": f"2021-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T10:00:00Z",
                "location": {"type": "Point", "coordinates": [36.60964 + n * 1e-3, 35.81374]},
                "sub_event_type": "shelling-artillery-missile-attack",
                "killed_civilians": rng.randint(0, 2),
            }
            assert post_report(stack.base_url, key, body) == 201
            sent.append(body["client_uuid"])
        elapsed = time.monotonic() - started
        assert Incident.objects.filter(client_uuid__in=sent).count() == 100
        assert elapsed < 60, f"100 reports took {elapsed:.1f} s with Redis down"
        # Whether work is still pending here depends on the session's shared stack, whose beat
        # (on the test Redis, which is up) may drain this database's outbox meanwhile; the
        # battery's redis_outage scenario, with a database of its own, shows the outbox filling.
        private_redis["restart"]()
        wait_until_drained(timeout=120)
        assert actual() == expected()
    finally:
        stack.stop()
