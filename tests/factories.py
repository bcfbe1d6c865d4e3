"""factory_boy factories with explicit coordinates inside NW Syria."""

import datetime
import uuid

import factory
from django.contrib.gis.geos import LineString, Point
from django.utils import timezone

from incidents.models import Incident, SubEventType
from patrols.models import M4_PATROL_ROUTE, Forces, Patrol, PatrolEvent, Route

# Named places (lon, lat) from fixtures/reference/nw_key_places.csv.
ARIHA = (36.60964, 35.81374)
ATMEH = (36.68839, 36.3095)
SARAQIB = (36.80056, 35.86361)
IDLIB = (36.63393, 35.93062)
KAFR_NUBL = (36.56449, 35.61376)
TRUMBA = (36.76833, 35.85979)
NAYRAB = (36.71867, 35.86955)


class IncidentFactory(factory.django.DjangoModelFactory):
    """An incident row written directly (zones unassigned); incident_submit is tested apart."""

    class Meta:
        model = Incident

    occurred_at = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    location = factory.LazyFunction(lambda: Point(*ARIHA, srid=4326))
    place_name = "Ariha"
    sub_event_type = factory.LazyFunction(
        lambda: SubEventType.objects.get(slug="shelling-artillery-missile-attack")
    )
    event_type = factory.LazyAttribute(lambda o: o.sub_event_type.event_type)
    client_uuid = factory.LazyFunction(uuid.uuid4)


class PatrolFactory(factory.django.DjangoModelFactory):
    """A completed joint patrol on the M4 route, Trumba to Ariha (the route comes from the
    reference data)."""

    class Meta:
        model = Patrol

    route = factory.LazyFunction(lambda: Route.objects.get(slug=M4_PATROL_ROUTE))
    date = datetime.date(2020, 7, 14)
    forces = Forces.JOINT
    status = Patrol.Status.COMPLETED
    track = factory.LazyFunction(lambda: LineString(TRUMBA, NAYRAB, ARIHA, srid=4326))


class PatrolEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PatrolEvent

    patrol = factory.SubFactory(PatrolFactory)
    kind = PatrolEvent.Kind.PROTEST
    occurred_at = factory.LazyAttribute(
        lambda o: datetime.datetime.combine(o.patrol.date, datetime.time(9, 30), datetime.UTC)
    )
    location = factory.LazyFunction(lambda: Point(*NAYRAB, srid=4326))
