"""Start the Procfile processes (what `make run` starts) against the test database.

The processes use the test settings (the same Redis database as the tests, and the fast password
hasher the test users were saved with) with DATABASE_URL pointing at pytest's test database.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppStack:
    def __init__(self, *, log_dir: Path, redis_url: str | None = None, env: dict | None = None):
        self.redis_url = redis_url or settings.REDIS_URL
        self.extra_env = env or {}
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_dir / "honcho.log"
        self.process: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        db = connection.settings_dict
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE="monitoring.settings.test",
            DATABASE_URL=f"postgis://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            REDIS_URL=self.redis_url,
            TEST_REDIS_URL=self.redis_url,
            BIND=f"127.0.0.1:{self.port}",
            WEB_WORKERS="2",
            CELERY_CONCURRENCY="1",
            HEARTBEAT_SECONDS="2",
            API_RATE_LIMIT="100000/minute",
            DEBUG="0",
            PYTHONUNBUFFERED="1",
            STATS_RECONCILE_SECONDS="2",
            ALERT_SWEEP_SECONDS="2",
            ALERT_DISPATCH_SECONDS="1",
            WEBHOOK_RETRY_BASE_SECONDS="1",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> None:
        log = open(self.log_path, "ab")  # noqa: SIM115  (closed with the process)
        self.process = subprocess.Popen(
            [str(ROOT / ".venv/bin/honcho"), "start", "-f", str(ROOT / "Procfile")],
            cwd=ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the app stack exited early:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.base_url + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError(f"the web server did not answer in 60 s:\n{self.log()}")

    def halt(self) -> None:
        """Stop the processes and nothing else (the port stays this stack's): the server is
        down, as a phone behind a failed link sees it."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def restart(self, env: dict | None = None) -> None:
        """A new deployment on the same address: stop, change the environment, start."""
        self.halt()
        self.extra_env.update(env or {})
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        self.halt()
        # Sessions of killed workers can outlive them a moment; the test database is dropped next.
        # Start from a fresh connection: another stack's clean-up may have ended ours.
        connection.close()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
