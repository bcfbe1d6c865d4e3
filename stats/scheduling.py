"""Ask a worker to drain the outbox after a commit, without ever making the writer wait on Redis."""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction

logger = logging.getLogger(__name__)

# After a failed send, skip sending for this long: the reconciler catches up once Redis is back.
BROKER_BACKOFF_SECONDS = 15.0
_last_failure = 0.0


def stats_kick() -> None:
    """After the current transaction commits, send the recompute task in the background.

    The request never waits: publishing runs on a daemon thread (redis-py retries a refused
    connection for seconds), and while the broker is known to be down nothing is sent at all.
    The outbox row is already committed, so a dropped send only delays the numbers.
    """
    transaction.on_commit(_send_in_background, robust=True)


def _send_in_background() -> None:
    if time.monotonic() - _last_failure < BROKER_BACKOFF_SECONDS:
        return
    threading.Thread(target=_send, name="stats-kick", daemon=True).start()


def _send() -> None:
    global _last_failure
    from stats.tasks import recompute_pending_stats

    try:
        recompute_pending_stats.apply_async(retry=False)
    except Exception:  # kombu/redis raise several connection error types
        _last_failure = time.monotonic()
        logger.warning("statistics task not sent (broker unreachable); the reconciler will run it")
