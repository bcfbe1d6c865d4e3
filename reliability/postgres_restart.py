"""PostgreSQL restarted while reports come in: `fast` (sessions ended, checkpoint) and `immediate`
(no checkpoint: crash recovery). Clients retry each report with its client UUID until it is
acknowledged, as the mobile form does.

Goals: every report acknowledged before a restart is there after it; in the end every report is
stored exactly once (0 lost, 0 duplicated); the web processes and the worker recover without a
restart of their own (no server error once PostgreSQL answers again, statistics exact again).

The settings give every process persistent connections with health checks (CONN_MAX_AGE 60,
CONN_HEALTH_CHECKS on): a connection that died with the server is found unusable at the start of
the next request or task and replaced.

`terminate` ends only this database's sessions (pg_terminate_backend), which the quick battery
uses: restarting the server cuts every session on it, other people's included.
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass

import psycopg2
from django.conf import settings

from reliability import checks
from reliability.context import Context, Send, judge
from reliability.figures import Row, check, info, zero
from reliability.processes import postgres_cluster, postgres_ready, postgres_restart

NAME = "postgres_restart"
RETRY_PAUSE = 0.3
LABELS = {
    "fast": "restart -m fast",
    "immediate": "restart -m immediate",
    "terminate": "sessions ended (pg_terminate_backend)",
}


@dataclass
class Outage:
    mode: str
    acknowledged_before: set[str]
    began: float = 0.0
    ready: float = 0.0  # PostgreSQL accepts connections again
    recovered: float = 0.0  # the app answers a database read again
    failure: str = ""


def terminate_sessions() -> None:
    """End every other session on the battery's database (the app's and the battery's own)."""
    db = settings.DATABASES["default"]
    conn = psycopg2.connect(
        dbname=db["NAME"],
        host=db.get("HOST") or None,
        port=db.get("PORT") or None,
        user=db.get("USER") or None,
        password=db.get("PASSWORD") or None,
    )
    conn.autocommit = True
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
    finally:
        conn.close()


def outage(mode: str, outage_record: Outage) -> None:
    db = settings.DATABASES["default"]
    host, port = db.get("HOST") or "127.0.0.1", int(db.get("PORT") or 5432)
    outage_record.began = time.monotonic()
    if mode == "terminate":
        terminate_sessions()
    else:
        cluster = postgres_cluster(port)
        if cluster is None:
            outage_record.failure = f"no local PostgreSQL cluster on port {port} (pg_lsclusters)"
            return
        done = postgres_restart(*cluster, mode)
        if done.returncode != 0:
            outage_record.failure = f"pg_ctlcluster restart -m {mode}: {done.stderr.strip()}"
            return
    if not postgres_ready(host, port):
        outage_record.failure = "PostgreSQL did not come back in 120 s"
    outage_record.ready = time.monotonic()


def heartbeat(ctx: Context) -> str | None:
    reply = ctx.world.actors["anonymous"].api.get("/healthz", timeout=10)
    return json.loads(reply.body).get("worker_heartbeat") if reply.ok else None


def run(
    ctx: Context,
    *,
    submissions: int = 600,
    concurrency: int = 8,
    modes: tuple[str, ...] = ("fast", "immediate"),
    deadline: float = 240,
    stats_timeout: float = 240,
) -> list[Row]:
    rng = random.Random(ctx.seed + 9)  # noqa: S311 (test data, not secrets)
    reporters = ctx.world.reporters(8)
    sends = [
        Send(actor=rng.choice(reporters), body=ctx.world.report(rng, scenario=NAME))
        for _ in range(submissions)
    ]
    acknowledged: set[str] = set()
    lock = threading.Lock()
    queue = list(reversed(sends))
    finish_by = time.monotonic() + deadline

    def client() -> None:
        """Post each report until it is acknowledged (200/201) or refused (4xx)."""
        while True:
            with lock:
                if not queue:
                    return
                send = queue.pop()
            while time.monotonic() < finish_by:
                reply = send.post()
                if reply.status in (200, 201):
                    with lock:
                        acknowledged.add(send.uuid)
                    break
                if 400 <= reply.status < 500:
                    break
                time.sleep(RETRY_PAUSE)

    checks.stats_wait_exact(stats_timeout)
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    outages = []
    analyst = ctx.world.actors["analyst"].api
    for n, mode in enumerate(modes, start=1):
        while len(acknowledged) < submissions * n // (len(modes) + 1) and any(
            t.is_alive() for t in threads
        ):
            time.sleep(0.01)
        with lock:
            record = Outage(mode, set(acknowledged))
        outage(mode, record)
        outages.append(record)
        while not record.failure and time.monotonic() - record.ready < 120:
            if analyst.get("/api/v1/incidents/?page_size=1", timeout=10).status == 200:
                record.recovered = time.monotonic()
                break
            time.sleep(0.1)
    # The worker writes a heartbeat after a database query: a new one after the last restart
    # shows that the worker's connection recovered too.
    heartbeat_before = heartbeat(ctx)
    for thread in threads:
        thread.join()

    checks.fresh_connection()  # the battery's own connection died with the server
    verdict = judge(sends, tag=ctx.world.tag(NAME))
    stored = checks.stored(s.uuid for s in sends)
    missing_after = [
        f"{record.mode}: {u}"
        for record in outages
        for u in sorted(record.acknowledged_before)
        if u not in stored
    ]
    unacknowledged = [
        f"{s.uuid}: {s.final.describe() if s.final else 'never sent'}"
        for s in sends
        if s.uuid not in acknowledged
    ]
    # Server errors once PostgreSQL was back and the app had answered again: requests sent
    # after an outage's recovery that ended before the next outage began (or any time after
    # the last one's recovery).
    windows = [
        (record.recovered, outages[i + 1].began if i + 1 < len(outages) else float("inf"))
        for i, record in enumerate(outages)
        if record.recovered
    ]
    after_recovery = [
        f"{s.uuid}: {r.describe()}"
        for s in sends
        for r, at in zip(s.replies, s.started, strict=True)
        if r.failed and any(start <= at and at + r.seconds < end for start, end in windows)
    ]
    during = sum(1 for s in sends for r in s.replies if r.failed)
    retried = sum(1 for s in sends if len(s.replies) > 1)
    difference, waited = checks.stats_wait_exact(stats_timeout)
    beat_after = None
    last_ready = outages[-1].ready if outages and outages[-1].ready else time.monotonic()
    while time.monotonic() - last_ready < 120:
        now = heartbeat(ctx)
        if now and now != heartbeat_before:
            beat_after = time.monotonic() - last_ready
            break
        time.sleep(0.5)
    db = settings.DATABASES["default"]
    rows = [
        info(
            NAME,
            "the app's connections (settings)",
            f"CONN_MAX_AGE {db['CONN_MAX_AGE']}, CONN_HEALTH_CHECKS {db['CONN_HEALTH_CHECKS']}",
        ),
        info(
            NAME,
            "submissions, retried by client UUID until acknowledged",
            f"{submissions:,} at concurrency {concurrency}; {retried:,} needed retries",
        ),
    ]
    for record in outages:
        ok = not record.failure and record.recovered > 0
        value = (
            record.failure
            or f"app answering {record.recovered - record.ready:.1f} s after PostgreSQL was "
            f"ready ({record.ready - record.began:.1f} s down)"
        )
        rows.append(
            check(NAME, f"{LABELS[record.mode]}: app recovered by itself", ok, value, "yes")
        )
    rows += [
        zero(
            NAME,
            "reports acknowledged before a restart, missing after",
            len(missing_after),
            missing_after,
        ),
        zero(NAME, "reports never acknowledged (lost)", len(unacknowledged), unacknowledged),
        zero(NAME, "reports lost (acknowledged, not stored)", len(verdict.lost), verdict.lost),
        zero(NAME, "reports duplicated", verdict.extra_rows, verdict.duplicated),
        zero(
            NAME,
            "answers not as specified to a retry (409 to the same body, ...)",
            len(verdict.wrong_answers),
            verdict.wrong_answers,
        ),
        info(NAME, "server errors or no answer while PostgreSQL was down", f"{during:,}"),
        zero(
            NAME,
            "server errors once PostgreSQL and the app answered again",
            len(after_recovery),
            after_recovery,
        ),
        zero(
            NAME,
            "statistics rows differing from a plain GROUP BY (the worker recovered)",
            len(difference),
            map(repr, difference),
        ),
        info(NAME, "statistics exact again after the last submission", f"{waited:.1f} s"),
        check(
            NAME,
            "a new worker heartbeat (it queries the database) after the last outage",
            beat_after is not None,
            f"{beat_after:.1f} s" if beat_after is not None else "none",
            "within 120 s",
        ),
    ]
    return rows
