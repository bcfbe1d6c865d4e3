"""Project-level pages: the landing page (the map dashboard arrives with its issue) and health."""

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache

from camps.models import Camp
from incidents.models import Incident
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
    """Liveness for load balancers and make run: answers only when the database answers."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})
