"""`make run` starts a web server, a Celery worker and beat that work together."""

import json
import time
import urllib.request

import pytest

pytestmark = pytest.mark.celery


def get_json(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, json.loads(response.read())


def test_web_server_answers_health_and_sign_in(app_stack):
    status, body = get_json(app_stack.base_url + "/healthz")
    assert status == 200 and body["status"] == "ok"
    with urllib.request.urlopen(app_stack.base_url + "/", timeout=5) as response:
        page = response.read().decode()
    # Anonymous visitors land on the sign-in page (the dashboard needs an account).
    assert response.status == 200
    assert response.url.startswith(app_stack.base_url + "/accounts/login/")
    assert "Ceasefire Monitor" in page
    status, body = get_json(app_stack.base_url + "/api/v1/health/")
    assert status == 200 and body == {"status": "ok"}


def test_beat_schedules_a_heartbeat_that_the_worker_runs(app_stack):
    # Beat sends monitoring.tasks.heartbeat every 2 s in this stack; the worker runs it and
    # leaves a timestamp that /healthz reports. Two different marks prove it keeps running.
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(seen) < 2:
        _, body = get_json(app_stack.base_url + "/healthz")
        if body["worker_heartbeat"]:
            seen.add(body["worker_heartbeat"])
        time.sleep(1)
    assert len(seen) >= 2, app_stack.log()[-3000:]
