"""Project-level pages: the landing page (the map dashboard arrives with its issue) and health."""

import redis
from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from camps.models import Camp
from incidents.models import Incident
from monitoring.tasks import HEARTBEAT_KEY
from patrols.models import Patrol
from zones.models import Zone


def home(request):
    counts = {
        "zones": Zone.objects.count(),
        "incidents": Incident.objects.count(),
        "patrols": Patrol.objects.count(),
        "camps": Camp.objects.count(),
    }
    return render(request, "monitoring/home.html", {"counts": counts})


@never_cache
def health(request):
    """Liveness for load balancers: answers when the database answers; reports the last heartbeat
    that beat scheduled and a worker ran (null when Redis is down or no worker has run one)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    try:
        raw = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5).get(HEARTBEAT_KEY)
        last_heartbeat = raw.decode() if raw else None
    except redis.RedisError:
        last_heartbeat = None
    return JsonResponse({"status": "ok", "worker_heartbeat": last_heartbeat})
