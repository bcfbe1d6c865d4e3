"""factory_boy factories with explicit coordinates inside NW Syria."""

import datetime
import uuid

import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from incidents.models import Incident, SubEventType

# Named places (lon, lat) from fixtures/reference/nw_key_places.csv.
ARIHA = (36.60964, 35.81374)
ATMEH = (36.68839, 36.3095)
SARAQIB = (36.80056, 35.86361)
IDLIB = (36.63393, 35.93062)
KAFR_NUBL = (36.56449, 35.61376)


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
