"""Incidents for the alert and brief tests: submitted and verified through the services."""

import datetime
import uuid

from django.contrib.gis.geos import Point
from django.utils import timezone

from camps.models import Camp
from incidents.models import ReviewStatus, SubEventType
from incidents.services import incident_review, incident_submit


def verified_incident(
    *,
    reporter,
    analyst,
    point: tuple[float, float],
    sub_type: str = "shelling-artillery-missile-attack",
    occurred_at: datetime.datetime | None = None,
    killed: int = 0,
    verify: bool = True,
):
    sub = SubEventType.objects.select_related("event_type").get(slug=sub_type)
    incident = incident_submit(
        reporter=reporter,
        client_uuid=uuid.uuid4(),
        data={
            "occurred_at": occurred_at or timezone.now() - datetime.timedelta(hours=2),
            "location": Point(*point, srid=4326),
            "event_type": sub.event_type,
            "sub_event_type": sub,
            "killed_civilians": killed,
        },
    ).incident
    if verify:
        incident_review(incident=incident, reviewer=analyst, status=ReviewStatus.VERIFIED)
        incident.refresh_from_db()
    return incident


def large_camp(min_population: int = 1000) -> Camp:
    return (
        Camp.objects.with_latest_population()
        .filter(location__isnull=False, population_individuals__gte=min_population)
        .order_by("-population_individuals")
        .first()
    )
