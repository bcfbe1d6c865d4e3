"""What the figures measured over HTTP share: the web server as `make run` starts it (the Procfile's
`web` line: gunicorn), pointed at the benchmark database; accounts with API keys; a client.

The server runs the settings of a developer machine with DEBUG off, its own Redis database (the
throttle's counters and the Celery messages it sends, which no worker reads here) and a rate limit
high enough never to answer 429: the figures measure the code path, throttle check included.
"""

from __future__ import annotations

import http.client
import os
import shlex
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from bench import harness

DEFAULT_WORKERS = 2
RATE_LIMIT = "1000000/second"
HEALTH_PATH = "/api/v1/health/"


def _settings():
    from django.conf import settings

    return settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_web_command() -> str:
    for line in (harness.ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.split(":", 1)[1].strip()
    raise RuntimeError("the Procfile has no web process")


@dataclass
class WebServer:
    """The Procfile's web process (gunicorn) on a free port of the loopback interface."""

    database_url: str
    workers: int = DEFAULT_WORKERS
    settings_module: str = "monitoring.settings.local"
    redis_url: str = field(default_factory=lambda: _settings().REDIS_URL)
    extra_env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def command(self) -> str:
        return procfile_web_command()

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            DJANGO_SETTINGS_MODULE=self.settings_module,
            DATABASE_URL=self.database_url,
            REDIS_URL=self.redis_url,
            BIND=f"127.0.0.1:{self.port}",
            WEB_WORKERS=str(self.workers),
            API_RATE_LIMIT=RATE_LIMIT,
            DEBUG="0",
            PYTHONUNBUFFERED="1",
        )
        # A web request's statement timeout is the web default (harness sets 0 for itself).
        env.pop("DB_STATEMENT_TIMEOUT_MS", None)
        env.update(self.extra_env)
        return env

    def start(self, timeout: float = 60) -> None:
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115  (closed with the process)
            prefix="bench-web-", suffix=".log", delete=False
        )
        self.log_path = Path(log.name)
        # The Procfile's own line, as honcho runs it (its ${VARIABLES} expanded by the shell).
        self.process = subprocess.Popen(  # noqa: S603
            ["/bin/bash", "-c", f"exec {self.command}"],
            cwd=harness.ROOT,
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the web server exited early:\n{self.log()[-3000:]}")
            try:
                status, _headers, _body = Client(self.base_url).get(HEALTH_PATH)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the web server did not answer in {timeout:.0f} s")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.log_path is not None:
            self.log_path.unlink(missing_ok=True)

    def describe(self) -> str:
        program = shlex.split(self.command)[0].rsplit("/", 1)[-1]
        return (
            f"the Procfile's web process ({program}, {self.workers} sync workers, access log "
            f"on), {self.settings_module} with DEBUG off, over loopback"
        )


@contextmanager
def web_server(**options) -> Iterator[WebServer]:
    """A web server on the database Django is connected to (the benchmark's, or a test's)."""
    server = WebServer(database_url=options.pop("database_url", None) or database_url(), **options)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def database_url() -> str:
    """The URL of the database Django is connected to."""
    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return (
        f"postgis://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
        f"{db['NAME']}"
    )


def database_connect():
    """A psycopg2 connection of its own to the same database, in autocommit: the bare baselines
    run on it, as a hand-written client would."""
    import psycopg2
    from django.db import connection

    db = connection.settings_dict
    conn = psycopg2.connect(
        dbname=db["NAME"],
        user=db["USER"],
        password=db.get("PASSWORD") or None,
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
    )
    conn.autocommit = True
    return conn


class Client:
    """A plain HTTP/1.1 client (http.client): what any partner system's library does, and cheap
    enough that the server's time dominates. gunicorn's sync workers close the connection after
    each answer; the connection is opened again for the next request."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, timeout: float = 120):
        parts = urlsplit(base_url)
        self.host, self.port = parts.hostname, parts.port
        self.headers = dict(headers or {})
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            try:
                self.connection.request(
                    method, path, body=body, headers={**self.headers, **(headers or {})}
                )
                response = self.connection.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # A kept-alive connection the server had closed: open a new one, once.
                self.close()
                if attempt == 2:
                    raise
                continue
            if response.will_close:
                self.close()
            return response.status, {k.lower(): v for k, v in response.getheaders()}, data
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class DjangoClient:
    """The same interface over Django's test client (the CI version, inside a test's transaction:
    a separate server process would not see the rows)."""

    def __init__(self, headers: dict[str, str] | None = None):
        from django.test import Client as TestClient

        self.client = TestClient(HTTP_HOST="127.0.0.1")
        self.headers = dict(headers or {})

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        merged = {**self.headers, **(headers or {})}
        extra = {k.lower().replace("-", "_"): v for k, v in merged.items()}
        extra = {("HTTP_" + k.upper()): v for k, v in extra.items()}
        if method == "GET":
            response = self.client.get(path, **extra)
        else:
            content_type = extra.pop("HTTP_CONTENT_TYPE", "application/json")
            response = self.client.generic(method, path, body or b"", content_type, **extra)
        body_bytes = (
            b"".join(response.streaming_content) if response.streaming else response.content
        )
        return response.status_code, {k.lower(): v for k, v in response.items()}, body_bytes

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict[str, str], bytes]:
        return self.request("GET", path, headers=headers)

    def close(self) -> None:
        pass


def by_role(roles, *, base_url: str | None, work: Callable) -> list:
    """work(role, client, bare_connection) for each role, with an account of that role and a
    fresh API key (removed afterwards): over HTTP to `base_url` with the baseline on a psycopg2
    connection of its own, or, without a server, through Django's test client with the baseline
    on Django's own connection."""
    from django.db import connection

    results = []
    bare_connection = database_connect() if base_url else connection
    try:
        for role in roles:
            account = bench_account(role)
            client = (
                Client(base_url, headers=account.headers)
                if base_url
                else DjangoClient(headers=account.headers)
            )
            try:
                results.append(work(role, client, bare_connection))
            finally:
                client.close()
                bench_account_remove(account)
    finally:
        if base_url:
            bare_connection.close()
    return results


# --- accounts ----------------------------------------------------------------------------------

KEY_NAME = "benchmark (%s)"


@dataclass
class BenchAccount:
    username: str
    role: str
    user_id: int
    key_id: str
    key_prefix: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Api-Key {self.key}"}


def bench_account(role: str, *, username: str | None = None) -> BenchAccount:
    """A user in the role's group with a fresh API key (as a partner system authenticates)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from accounts.models import PartnerApiKey
    from accounts.services import api_key_create

    username = username or f"bench-{role}"
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_unusable_password()
        user.save()
    if not user.groups.filter(name=role).exists():
        user.groups.add(Group.objects.get(name=role))
    for stale in PartnerApiKey.objects.filter(user=user, name=KEY_NAME % role):
        # Left by a run that was cut short (a database restart): its key and its audit events.
        bench_account_remove(BenchAccount(username, role, user.pk, stale.pk, stale.prefix, key=""))
    key_obj, key = api_key_create(user=user, name=KEY_NAME % role)
    return BenchAccount(
        username=username,
        role=role,
        user_id=user.pk,
        key_id=key_obj.pk,
        key_prefix=key_obj.prefix,
        key=key,
    )


def bench_account_remove(account: BenchAccount) -> int:
    """Remove the key and the audit events its requests left (the benchmark's own reads, which
    would otherwise grow the log run after run); the user stays. Returns the events removed."""
    from django.db import connection

    from accounts.models import PartnerApiKey

    with connection.cursor() as cursor:
        # Audit events are append-only for the app (the model refuses to delete them); these are
        # the benchmark's synthetic reads, in the benchmark's own database.
        cursor.execute(
            "DELETE FROM accounts_auditevent WHERE api_key_prefix = %s", [account.key_prefix]
        )
        removed = cursor.rowcount
    PartnerApiKey.objects.filter(pk=account.key_id).delete()
    return removed
