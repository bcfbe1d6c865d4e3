"""Ask a worker to run a task after the current transaction commits, never making the writer wait
on Redis.

Every task sent this way must be backed by state in the database (an outbox, a due date) that a
beat job also reads, so a send that is dropped while the broker is down only delays the work.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import transaction

logger = logging.getLogger(__name__)

# After a failed send, skip sending for this long: the beat jobs catch up once Redis is back.
BROKER_BACKOFF_SECONDS = 15.0
_last_failure = 0.0


def send_after_commit(task, *args) -> None:
    """After the current transaction commits, publish `task` on a daemon thread.

    The request never waits: redis-py retries a refused connection for seconds, so publishing
    runs in the background, and while the broker is known to be down nothing is sent at all.
    """
    transaction.on_commit(lambda: _send_in_background(task, args), robust=True)


def _send_in_background(task, args: tuple) -> None:
    if time.monotonic() - _last_failure < BROKER_BACKOFF_SECONDS:
        return
    threading.Thread(target=_send, args=(task, args), name="task-kick", daemon=True).start()


def _send(task, args: tuple) -> None:
    global _last_failure
    try:
        task.apply_async(args=args, retry=False)
    except Exception:  # kombu/redis raise several connection error types
        _last_failure = time.monotonic()
        logger.warning("task %s not sent (broker unreachable); beat will run it", task.name)
