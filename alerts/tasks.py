"""Thin tasks: each calls one service. Both are safe to repeat (unique alert keys, claimed
deliveries), so they are acknowledged late."""

from celery import shared_task

from alerts.deliveries import deliveries_dispatch_due
from alerts.rules import alerts_evaluate


@shared_task(acks_late=True, reject_on_worker_lost=True)
def evaluate_alerts() -> int:
    raised = alerts_evaluate()
    if raised:
        deliveries_dispatch_due()
    return len(raised)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def dispatch_deliveries() -> dict:
    return deliveries_dispatch_due()
