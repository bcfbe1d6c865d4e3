"""Thin task: the nightly retention run (scheduled only when RETENTION_SCHEDULE=1)."""

from celery import shared_task
from django.conf import settings

from incidents.retention import retention_apply


@shared_task(acks_late=True, reject_on_worker_lost=True)
def apply_retention() -> dict:
    result = retention_apply(
        location_days=settings.RETENTION_EXACT_LOCATION_DAYS,
        photo_days=settings.RETENTION_PHOTO_DAYS,
    )
    return result.__dict__
