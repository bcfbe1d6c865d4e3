"""The battery's own database: `ceasefire_reliability` on the server of DATABASE_URL (or
RELIABILITY_DATABASE_URL), made afresh for every run with the project's own commands."""

from __future__ import annotations

import io
import os
import tempfile
import time
from urllib.parse import unquote, urlsplit, urlunsplit

RELIABILITY_DATABASE = "ceasefire_reliability"
DEFAULT_DATABASE_URL = "postgis://postgres@127.0.0.1:5432/ceasefire_monitor"


def reliability_database_url() -> str:
    explicit = os.environ.get("RELIABILITY_DATABASE_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + RELIABILITY_DATABASE))


def django_setup(*, redis_url: str) -> str:
    """Point Django (test settings: the stack uses them too) at the battery's database and Redis,
    before any setting is read. Returns the database URL."""
    url = reliability_database_url()
    working = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if urlsplit(url)._replace(scheme="") == working._replace(scheme=""):
        raise SystemExit(
            f"The battery recreates its database: it will not use {working.path[1:]!r}, the "
            "database in DATABASE_URL. Set RELIABILITY_DATABASE_URL to a database of its own."
        )
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "monitoring.settings.test"
    os.environ["REDIS_URL"] = redis_url
    os.environ["TEST_REDIS_URL"] = redis_url
    os.environ["DEBUG"] = "0"
    os.environ["MEDIA_ROOT"] = tempfile.mkdtemp(prefix="ceasefire-reliability-media-")
    import django

    django.setup()
    return url


def database_recreate() -> float:
    """Drop the battery's database and make it again: PostGIS, migrations, reference data.
    Returns the seconds taken."""
    import psycopg2
    from django.conf import settings
    from django.core.management import call_command
    from psycopg2 import sql

    started = time.perf_counter()
    db = settings.DATABASES["default"]
    server = psycopg2.connect(
        dbname="postgres",
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=unquote(db.get("PASSWORD") or "") or None,
    )
    server.autocommit = True
    try:
        with server.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(db["NAME"])
                )
            )
    finally:
        server.close()
    out = io.StringIO()
    call_command("ensure_database", stdout=out)
    call_command("migrate", interactive=False, verbosity=0, stdout=out)
    call_command("load_reference_data", stdout=out)
    return time.perf_counter() - started
