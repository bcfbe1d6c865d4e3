"""The API rate limit: one atomic count per client in Redis, exact under parallel clients."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import caches
from rest_framework.test import APIClient

from accounts.models import PartnerApiKey
from accounts.services import api_key_create
from accounts.throttling import PerClientRateThrottle

pytestmark = pytest.mark.django_db


def _delete_counts() -> None:
    """Only the throttle's keys: the test Redis database also holds Celery's."""
    client = caches["throttle"]._cache.get_client(write=True)
    keys = list(client.scan_iter(match="throttle:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def empty_throttle_store():
    _delete_counts()
    yield
    _delete_counts()


def key_client(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def _key_request(prefix: str):
    """What the throttle reads of a request made with an API key (no database needed)."""
    return SimpleNamespace(
        auth=PartnerApiKey(prefix=prefix), user=AnonymousUser(), META={"REMOTE_ADDR": "10.0.0.1"}
    )


def _throttle(monkeypatch, rate: str) -> None:
    monkeypatch.setattr(PerClientRateThrottle, "THROTTLE_RATES", {"client": rate})


def test_parallel_clients_on_one_key_get_exactly_the_limit(monkeypatch):
    _throttle(monkeypatch, "150/minute")
    request = _key_request(uuid.uuid4().hex[:8])
    threads, calls = 8, 60
    start = threading.Barrier(threads)

    def client() -> int:
        start.wait()
        # A new throttle per request, as DRF makes them; each thread has its own Redis connection.
        return sum(PerClientRateThrottle().allow_request(request, None) for _ in range(calls))

    with ThreadPoolExecutor(threads) as pool:
        accepted = sum(pool.map(lambda _: client(), range(threads)))
    assert accepted == 150


def test_a_refused_request_waits_until_the_oldest_accepted_one_leaves_the_window(monkeypatch):
    _throttle(monkeypatch, "2/minute")
    request = _key_request(uuid.uuid4().hex[:8])
    assert PerClientRateThrottle().allow_request(request, None)
    assert PerClientRateThrottle().allow_request(request, None)
    refused = PerClientRateThrottle()
    assert not refused.allow_request(request, None)
    assert 58 < refused.wait() <= 60


def test_a_refused_request_is_not_counted(monkeypatch):
    _throttle(monkeypatch, "2/second")
    request = _key_request(uuid.uuid4().hex[:8])
    results = [PerClientRateThrottle().allow_request(request, None) for _ in range(5)]
    assert results == [True, True, False, False, False]
    time.sleep(1.05)
    assert PerClientRateThrottle().allow_request(request, None)


def test_a_forged_forwarded_for_header_does_not_open_a_new_bucket(monkeypatch):
    _throttle(monkeypatch, "3/minute")

    def anonymous(forwarded_for: str):
        return SimpleNamespace(
            auth=None,
            user=AnonymousUser(),
            META={"REMOTE_ADDR": "192.0.2.7", "HTTP_X_FORWARDED_FOR": forwarded_for},
        )

    results = [
        PerClientRateThrottle().allow_request(anonymous(f"198.51.100.{i}"), None) for i in range(5)
    ]
    assert results == [True, True, True, False, False]


def test_each_key_has_its_own_rate_limit_answered_with_429_and_retry_after(users, monkeypatch):
    _throttle(monkeypatch, "3/minute")
    _, key_a = api_key_create(user=users["partner"], name="a")
    _, key_b = api_key_create(user=users["partner"], name="b")
    codes = [key_client(key_a).get("/api/v1/taxonomy/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = key_client(key_a).get("/api/v1/taxonomy/")
    assert 0 < int(limited["Retry-After"]) <= 60
    assert key_client(key_b).get("/api/v1/taxonomy/").status_code == 200


def test_requests_pass_when_the_throttle_store_is_down(users, monkeypatch, settings, caplog):
    """Redis down must not stop the API (nor report submission): the throttle fails open."""
    _throttle(monkeypatch, "1/minute")
    settings.CACHES = {
        **settings.CACHES,
        "throttle": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        },
    }
    _, key = api_key_create(user=users["partner"], name="a")
    with caplog.at_level(logging.WARNING, logger="accounts.throttling"):
        codes = [key_client(key).get("/api/v1/taxonomy/").status_code for _ in range(2)]
    assert codes == [200, 200]
    assert "throttle store unavailable; request let through" in caplog.text


# --- over HTTP: gunicorn's worker processes share one count -------------------------------------

LIMIT = 40


@pytest.fixture(scope="module")
def committed_key(django_db_setup, django_db_blocker):
    """A partner key the server's processes can see (committed), removed afterwards."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    with django_db_blocker.unblock():
        user = get_user_model().objects.create_user(username=f"throttle-{uuid.uuid4().hex[:8]}")
        user.groups.add(Group.objects.get(name="partner"))
        _, key = PartnerApiKey.objects.create_key(user=user, name="throttle test")
    yield key
    with django_db_blocker.unblock():
        user.delete()


@pytest.fixture(scope="module")
def web_server(committed_key, tmp_path_factory, django_db_blocker):
    """gunicorn alone (no worker or beat: nothing here queues tasks), two worker processes, with a
    limit of LIMIT a minute."""
    from tests.stack import ROOT, AppStack

    stack = AppStack(
        log_dir=tmp_path_factory.mktemp("throttle"), env={"API_RATE_LIMIT": f"{LIMIT}/minute"}
    )
    log = open(stack.log_path, "wb")  # noqa: SIM115  (closed after the process)
    command = [str(ROOT / ".venv/bin/gunicorn"), "monitoring.wsgi", "--workers", "2"]
    stack.process = subprocess.Popen(
        [*command, "--bind", f"127.0.0.1:{stack.port}"],
        cwd=ROOT,
        env=stack.environment(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(stack.base_url + "/healthz", timeout=2):
                    break
            except OSError:
                if time.monotonic() > deadline or stack.process.poll() is not None:
                    raise RuntimeError(f"gunicorn did not start:\n{stack.log()}") from None
                time.sleep(0.3)
        yield stack
    finally:
        if stack.process.poll() is None:
            os.killpg(stack.process.pid, signal.SIGTERM)
            stack.process.wait(timeout=20)
        log.close()


def _get(url: str, key: str) -> tuple[int, str | None]:
    request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {key}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            json.loads(response.read())
            return response.status, None
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def test_parallel_clients_over_http_get_exactly_the_limit(web_server, committed_key):
    url = web_server.base_url + "/api/v1/taxonomy/"
    clients, calls = 4, 25
    start = threading.Barrier(clients)

    def client() -> list[tuple[int, str | None]]:
        start.wait()
        return [_get(url, committed_key) for _ in range(calls)]

    with ThreadPoolExecutor(clients) as pool:
        answers = [
            answer for answers in pool.map(lambda _: client(), range(clients)) for answer in answers
        ]
    codes = [code for code, _ in answers]
    assert codes.count(200) == LIMIT
    assert codes.count(429) == clients * calls - LIMIT
    assert all(0 < int(retry) <= 60 for code, retry in answers if code == 429)
