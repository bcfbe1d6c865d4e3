"""Ask a worker to drain the statistics outbox after a commit (see common.scheduling)."""

from __future__ import annotations

from common.scheduling import send_after_commit


def stats_kick() -> None:
    """After the current transaction commits, send the recompute task in the background.

    The outbox row is already committed with the incident, so a dropped send only delays the
    numbers: the beat reconciler drains the outbox.
    """
    from stats.tasks import recompute_pending_stats

    send_after_commit(recompute_pending_stats)
