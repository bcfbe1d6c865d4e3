"""Project-wide tasks. The zone-statistics jobs arrive with their own app's tasks module."""

from celery import shared_task
from django.db import connection
from django.utils import timezone


@shared_task(ignore_result=False)
def heartbeat() -> dict[str, str]:
    """Prove that beat, broker, worker and database are connected (make run's health line)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT postgis_lib_version()")
        (postgis,) = cursor.fetchone()
    return {"at": timezone.now().isoformat(), "postgis": postgis}
