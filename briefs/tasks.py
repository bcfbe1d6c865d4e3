"""The scheduled brief: yesterday's, in Damascus time. Rewriting a brief is harmless."""

import datetime

from celery import shared_task
from django.utils import timezone

from briefs.services import brief_build


@shared_task(acks_late=True, reject_on_worker_lost=True)
def build_daily_brief(day: str | None = None) -> str:
    target = (
        datetime.date.fromisoformat(day)
        if day
        else timezone.localdate() - datetime.timedelta(days=1)
    )
    return str(brief_build(target))
