"""Thin tasks: each calls one service. Safe to repeat, so acknowledged late."""

from celery import shared_task

from stats.services import stats_rebuild, stats_recompute_pending


@shared_task(acks_late=True, reject_on_worker_lost=True)
def recompute_pending_stats() -> int:
    return stats_recompute_pending()


@shared_task(acks_late=True, reject_on_worker_lost=True)
def rebuild_stats() -> int:
    return stats_rebuild()
