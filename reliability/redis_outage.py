"""Redis killed (kill -9) while reports come in, then started again (empty: no persistence).

Redis is the broker, the result store and the throttle's store; reports are stored in PostgreSQL
first and the statistics outbox is filled by triggers, so every submission must succeed while
Redis is gone, and the statistics must become exact again once beat and the worker reconnect.
"""

from __future__ import annotations

import json
import random
import threading
import time

from reliability import checks
from reliability.context import Context, Send, judge
from reliability.figures import Row, at_most, check, info, latency_rows, zero
from stats.services import stats_pending_count

NAME = "redis_outage"


def heartbeat(ctx: Context) -> str | None:
    """The worker's last heartbeat as /healthz reports it (kept in Redis)."""
    reply = ctx.world.actors["anonymous"].api.get("/healthz", timeout=10)
    return json.loads(reply.body).get("worker_heartbeat") if reply.ok else None


def run(
    ctx: Context, *, submissions: int = 600, concurrency: int = 8, stats_timeout: float = 240
) -> list[Row]:
    rng = random.Random(ctx.seed + 6)  # noqa: S311 (test data, not secrets)
    reporters = ctx.world.reporters(8)
    sends = [
        Send(actor=rng.choice(reporters), body=ctx.world.report(rng, scenario=NAME))
        for _ in range(submissions)
    ]
    done = 0
    lock = threading.Lock()
    queue = list(reversed(sends))

    def worker() -> None:
        nonlocal done
        while True:
            with lock:
                if not queue:
                    return
                send = queue.pop()
            send.post()
            with lock:
                done += 1

    checks.stats_wait_exact(stats_timeout)
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    while done < submissions // 3:
        time.sleep(0.01)
    ctx.redis.kill()
    killed_at = time.monotonic()
    while done < 2 * submissions // 3:
        time.sleep(0.01)
    backlog = stats_pending_count()  # what the statistics must catch up on
    ctx.redis.start()
    restarted_at = time.monotonic()
    for thread in threads:
        thread.join()
    wall = time.monotonic() - started
    # Back with an empty Redis: a heartbeat appears again once beat and the worker reconnect.
    beat_back = None
    while time.monotonic() - restarted_at < 120:
        if heartbeat(ctx):
            beat_back = time.monotonic() - restarted_at
            break
        time.sleep(0.5)
    verdict = judge(sends, tag=ctx.world.tag(NAME))
    not_created = [f"{s.uuid}: {s.final.describe()}" for s in sends if s.final.status != 201]
    during = [
        r.seconds
        for s in sends
        for r, at in zip(s.replies, s.started, strict=True)
        if killed_at <= at < restarted_at
    ]
    difference, waited = checks.stats_wait_exact(stats_timeout)
    return [
        info(
            NAME,
            "submissions; Redis killed after a third, started again after two thirds",
            f"{submissions:,} at concurrency {concurrency}; "
            f"Redis down {restarted_at - killed_at:.1f} s",
        ),
        zero(NAME, "submissions not answered 201", len(not_created), not_created),
        zero(
            NAME,
            "server errors (5xx or no answer)",
            len(verdict.server_errors),
            verdict.server_errors,
        ),
        zero(NAME, "reports lost", len(verdict.lost), verdict.lost),
        zero(NAME, "reports duplicated", verdict.extra_rows, verdict.duplicated),
        at_most(NAME, "slowest submission while Redis was down", max(during, default=0), 10, " s"),
        *latency_rows(NAME, [r.seconds for s in sends for r in s.replies], wall),
        check(
            NAME,
            "worker heartbeat back after Redis restarted",
            beat_back is not None,
            f"{beat_back:.1f} s" if beat_back is not None else "never",
            "within 120 s",
        ),
        zero(
            NAME,
            "statistics rows differing from a plain GROUP BY",
            len(difference),
            map(repr, difference),
        ),
        info(NAME, "statistics outbox entries waiting when Redis came back", f"{backlog:,}"),
        info(NAME, "statistics exact again after the last submission", f"{waited:.1f} s"),
    ]
