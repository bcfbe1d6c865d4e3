"""A Celery worker killed (kill -9 of its pool process) in the middle of a statistics task.

The statistics tasks are acknowledged late and rejected when their worker is lost, so the broker
hands the task out again; the work is recomputed from the incidents (never incremented), and a
killed task's transaction never commits. Two cases, each stopped mid-statement by a row lock the
battery holds on the statistics table, then killed:

- the full rebuild, after the battery has made the table wrong on purpose (all counts +1000):
  only a rebuild that runs again to its end can repair it;
- the incremental recompute of new reports' buckets (the outbox).

Either way the statistics must end equal to a plain GROUP BY over the incidents.
"""

from __future__ import annotations

import random
import time

import psycopg2
from django.conf import settings
from django.db import connection

from monitoring.celery import app as celery_app
from reliability import checks
from reliability.context import Context, Send, run_concurrently
from reliability.figures import Row, at_least, info, zero
from reliability.processes import kill_process, owner_of_local_port

NAME = "worker_kill"

# A session waiting on a lock, in a statement that names `table` (not `other`), or on the
# statistics' advisory lock (held by another worker that waits on the battery's lock: a test
# session's stack may share the database).
BLOCKED_SQL = """
SELECT client_port FROM pg_stat_activity
WHERE datname = current_database() AND pid <> %(locker)s AND wait_event_type = 'Lock'
  AND ((strpos(query, %(table)s) > 0 AND strpos(query, %(other)s) = 0)
       OR strpos(query, 'pg_advisory_xact_lock') > 0)
"""


def locker() -> psycopg2.extensions.connection:
    """A connection of the battery's own (outside Django's), for holding row locks."""
    db = settings.DATABASES["default"]
    return psycopg2.connect(
        dbname=db["NAME"],
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )


def blocked_pool_process(ctx: Context, lock_pid: int, names: tuple[str, str]) -> int | None:
    """Wait until the stack's pool process, inside its task's transaction, waits on the
    battery's lock (or on the stack that does); its process id. Only a session of this stack's
    pool process counts."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(BLOCKED_SQL, {"locker": lock_pid, "table": names[0], "other": names[1]})
            ports = [port for (port,) in cursor.fetchall() if port]
        pool = ctx.stack.pool_pids()
        for port in ports:
            pid = owner_of_local_port(port, pool)
            if pid is not None:
                return pid
        time.sleep(0.1)
    return None


def kill_mid_statement(ctx: Context, lock_sql: str, params: list, names: tuple, start) -> dict:
    """Lock rows, start the work (it blocks on them mid-statement), kill the pool process that
    runs it, release the lock. Returns what happened."""
    conn = locker()
    killed = []
    try:
        with conn.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (lock_pid,) = cursor.fetchone()
            cursor.execute(lock_sql, params)
            locked = cursor.rowcount
        start()
        pid = blocked_pool_process(ctx, lock_pid, names)
        if pid is not None:
            kill_process(pid)
            killed.append(pid)
    finally:
        conn.rollback()
        conn.close()
    return {"locked": locked, "blocked": bool(killed), "killed": killed}


def rebuild_case(ctx: Context, timeout: float) -> list[Row]:
    from stats.tasks import rebuild_stats

    task_id = {}
    with connection.cursor() as cursor:
        cursor.execute("UPDATE stats_zonedaystat SET incidents = incidents + 1000")
        corrupted = cursor.rowcount

    def start() -> None:
        # Through the stack's Redis (a test process's own settings may name another one).
        with celery_app.connection_for_write(ctx.redis.url) as broker:
            task_id["id"] = rebuild_stats.apply_async(connection=broker).id

    happened = kill_mid_statement(
        ctx,
        "SELECT 1 FROM stats_zonedaystat ORDER BY zone_id, day LIMIT 1 FOR UPDATE",
        [],
        ("stats_zonedaystat", "stats_statsoutbox"),  # the rebuild's DELETE or TRUNCATE
        start,
    )
    difference, waited = checks.stats_wait_exact(timeout)
    received = ctx.stack.log_count(rf"Task stats\.tasks\.rebuild_stats\[{task_id['id']}\] received")
    name = "full rebuild"
    caught = happened["blocked"] and bool(happened["killed"]) and happened["locked"] > 0
    return [
        Row(
            NAME,
            f"{name}: caught mid-statement and its pool process killed",
            "yes" if caught else "no",
            "yes",
            caught,
        ),
        info(
            NAME,
            f"{name}: rows made wrong on purpose, then the task killed mid-statement",
            f"{corrupted:,} rows; pool process {happened['killed'] or 'not'} killed",
        ),
        at_least(NAME, f"{name}: times the worker received the task (redelivered)", received, 2),
        zero(
            NAME,
            f"{name}: statistics rows differing from a plain GROUP BY after",
            len(difference),
            map(repr, difference),
        ),
        info(NAME, f"{name}: statistics exact again after the kill", f"{waited:.1f} s"),
    ]


def incremental_case(ctx: Context, timeout: float) -> list[Row]:
    """New reports in one bucket whose statistics row the battery locks: the recompute task
    (sent after each commit, and by beat) blocks on it and is killed."""
    rng = random.Random(ctx.seed + 7)  # noqa: S311 (test data, not secrets)
    place = rng.choice(ctx.world.places)
    actor = ctx.world.reporters(1)[0]
    first = ctx.world.report(rng, scenario=NAME, place=place)
    Send(actor=actor, body=first).post()
    checks.stats_wait_exact(timeout)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT subdistrict_id, (occurred_at AT TIME ZONE 'Asia/Damascus')::date, "
            "sub_event_type_id FROM incidents_incident WHERE client_uuid = %s",
            [first["client_uuid"]],
        )
        zone, day, sub_type = cursor.fetchone()
    more = [
        Send(
            actor=actor,
            body={
                **ctx.world.report(rng, scenario=NAME, place=place),
                "occurred_at": first["occurred_at"],
                "sub_event_type": first["sub_event_type"],
            },
        )
        for _ in range(20)
    ]

    def start() -> None:
        run_concurrently(more, Send.post, 4)

    happened = kill_mid_statement(
        ctx,
        "SELECT 1 FROM stats_zonedaystat WHERE zone_id = %s AND day = %s "
        "AND sub_event_type_id = %s AND review_status = 'submitted' FOR UPDATE",
        [zone, day, sub_type],
        ("stats_statsoutbox", "TRUNCATE"),  # the recompute's one statement
        start,
    )
    difference, waited = checks.stats_wait_exact(timeout)
    stored = sum(1 for s in more if s.final and s.final.status == 201)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT incidents FROM stats_zonedaystat WHERE zone_id = %s AND day = %s "
            "AND sub_event_type_id = %s AND review_status = 'submitted'",
            [zone, day, sub_type],
        )
        counted = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM incidents_incident WHERE subdistrict_id = %s AND deleted_at "
            "IS NULL AND (occurred_at AT TIME ZONE 'Asia/Damascus')::date = %s AND "
            "sub_event_type_id = %s AND review_status = 'submitted'",
            [zone, day, sub_type],
        )
        plain = cursor.fetchone()[0]
    name = "incremental recompute"
    caught = happened["blocked"] and bool(happened["killed"]) and happened["locked"] > 0
    return [
        Row(
            NAME,
            f"{name}: caught mid-statement and its pool process killed",
            "yes" if caught else "no",
            "yes",
            caught,
        ),
        info(
            NAME,
            f"{name}: reports into the locked bucket, then the task killed mid-statement",
            f"{stored} of {len(more)} stored; pool process {happened['killed'] or 'not'} killed",
        ),
        zero(
            NAME,
            f"{name}: reports counted twice (or not at all) in the locked bucket",
            abs(counted - plain),
            [f"counted {counted}, plain count {plain}"],
        ),
        zero(
            NAME,
            f"{name}: statistics rows differing from a plain GROUP BY after",
            len(difference),
            map(repr, difference),
        ),
        info(NAME, f"{name}: statistics exact again after the kill", f"{waited:.1f} s"),
    ]


def run(ctx: Context, *, timeout: float = 180) -> list[Row]:
    # Some statistics to spoil and rebuild, whatever ran before.
    rng = random.Random(ctx.seed + 8)  # noqa: S311 (test data, not secrets)
    actor = ctx.world.reporters(1)[0]
    seed = [Send(actor=actor, body=ctx.world.report(rng, scenario=NAME)) for _ in range(30)]
    run_concurrently(seed, Send.post, 4)
    checks.stats_wait_exact(timeout)
    rows = rebuild_case(ctx, timeout)
    rows += incremental_case(ctx, timeout)
    alive = ctx.stack.alive() and bool(ctx.stack.pool_pids())
    rows.append(
        Row(
            NAME,
            "stack still running, with a new pool process",
            "yes" if alive else "no",
            "yes",
            alive,
        )
    )
    return rows
