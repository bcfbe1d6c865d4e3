"""Project-wide tasks. The zone-statistics jobs arrive with their own app's tasks module."""

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

HEARTBEAT_KEY = "ceasefire:heartbeat"


@shared_task
def heartbeat() -> dict[str, str]:
    """Prove that beat, broker, worker and database work together; /healthz reads its mark."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (postgis,) = cursor.fetchone()
    at = timezone.now().isoformat()
    redis.Redis.from_url(settings.REDIS_URL).set(HEARTBEAT_KEY, at, ex=3600)
    return {"at": at, "postgis": postgis}
