import datetime
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from incidents.models import Incident, SubEventType
from incidents.services import SubmissionConflict, incident_submit, incident_zones_assign
from tests.factories import ARIHA, ATMEH, KAFR_NUBL, IncidentFactory
from zones.models import Zone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def report_data(**overrides):
    shelling = SubEventType.objects.select_related("event_type").get(
        slug="shelling-artillery-missile-attack"
    )
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(hours=2),
        "location": Point(*ARIHA, srid=4326),
        "place_name": "Ariha",
        "event_type": shelling.event_type,
        "sub_event_type": shelling,
        "explosions_count": 4,
        "description": "Four shells fell on the western edge of town.",
    }
    data.update(overrides)
    return data


def test_submitting_assigns_the_zones_of_the_place(reporter):
    result = incident_submit(reporter=reporter, client_uuid=uuid.uuid4(), data=report_data())
    incident = result.incident
    assert result.created
    assert incident.subdistrict.pcode == "SY070500"  # Ariha sub-district
    assert incident.district.pcode == "SY0705"
    assert incident.governorate.pcode == "SY07"
    assert incident.in_corridor is True
    assert incident.distance_to_m4_m < 1000


def test_a_report_far_from_the_m4_is_outside_the_corridor(reporter):
    incident = incident_submit(
        reporter=reporter,
        client_uuid=uuid.uuid4(),
        data=report_data(location=Point(*ATMEH, srid=4326), place_name="Atmeh"),
    ).incident
    assert incident.in_corridor is False
    assert incident.subdistrict.pcode == "SY070301"
    assert 45_000 < incident.distance_to_m4_m < 60_000


def test_resubmitting_same_uuid_and_body_returns_the_first_report(reporter):
    key = uuid.uuid4()
    data = report_data()
    first = incident_submit(reporter=reporter, client_uuid=key, data=data)
    again = incident_submit(reporter=reporter, client_uuid=key, data=dict(data))
    assert again.created is False
    assert again.incident.pk == first.incident.pk
    assert Incident.objects.filter(client_uuid=key).count() == 1


def test_resubmitting_same_uuid_with_other_content_is_a_conflict(reporter):
    key = uuid.uuid4()
    incident_submit(reporter=reporter, client_uuid=key, data=report_data())
    with pytest.raises(SubmissionConflict):
        incident_submit(reporter=reporter, client_uuid=key, data=report_data(explosions_count=9))


def test_an_incident_in_the_future_is_refused(reporter):
    data = report_data(occurred_at=timezone.now() + datetime.timedelta(hours=3))
    with pytest.raises(ValidationError) as excinfo:
        incident_submit(reporter=reporter, client_uuid=uuid.uuid4(), data=data)
    assert "occurred_at" in excinfo.value.message_dict
    assert not Incident.objects.exists()


@pytest.mark.parametrize(
    "lonlat",
    [
        (35.8, 36.6),  # Ariha with longitude and latitude swapped: in Turkey
        (36.29, 33.51),  # Damascus
        (0.0, 0.0),
    ],
)
def test_a_place_outside_the_four_governorates_is_refused(reporter, lonlat):
    data = report_data(location=Point(*lonlat, srid=4326))
    with pytest.raises(ValidationError) as excinfo:
        incident_submit(reporter=reporter, client_uuid=uuid.uuid4(), data=data)
    assert "location" in excinfo.value.message_dict
    assert not Incident.objects.exists()


def test_a_sub_type_of_another_type_is_refused(reporter):
    clash = SubEventType.objects.get(slug="armed-clash")
    with pytest.raises(ValidationError) as excinfo:
        incident_submit(
            reporter=reporter, client_uuid=uuid.uuid4(), data=report_data(sub_event_type=clash)
        )
    assert "sub_event_type" in excinfo.value.message_dict


def test_server_fields_cannot_be_submitted(reporter):
    with pytest.raises(ValidationError) as excinfo:
        incident_submit(
            reporter=reporter, client_uuid=uuid.uuid4(), data=report_data(review_status="verified")
        )
    assert "review_status" in excinfo.value.message_dict


def test_reassigning_zones_is_one_statement_and_repeatable(django_assert_num_queries):
    rows = [
        IncidentFactory(location=Point(*ARIHA, srid=4326)),
        IncidentFactory(location=Point(*ATMEH, srid=4326)),
        IncidentFactory(location=Point(*KAFR_NUBL, srid=4326)),
    ]
    with django_assert_num_queries(1):
        changed = incident_zones_assign()
    assert changed == 3
    assert incident_zones_assign() == 0  # nothing left to change
    pcodes = [Incident.objects.get(pk=row.pk).subdistrict.pcode for row in rows]
    assert pcodes == ["SY070500", "SY070301", "SY070203"]


def test_changing_a_zone_reassigns_incidents(reporter):
    from zones.services import zones_changed_notify

    incident = incident_submit(
        reporter=reporter, client_uuid=uuid.uuid4(), data=report_data()
    ).incident
    corridor = Zone.objects.corridors().get()
    original = corridor.geom
    # Shrink the corridor to a sliver far from Ariha: the incident leaves it.
    corridor.geom = Zone.objects.get(pcode="SY070301").geom
    corridor.save()
    zones_changed_notify()
    incident.refresh_from_db()
    assert incident.in_corridor is False
    corridor.geom = original
    corridor.save()
    zones_changed_notify()
    incident.refresh_from_db()
    assert incident.in_corridor is True


def test_the_database_refuses_an_invalid_polygon():
    bowtie = "SRID=4326;MULTIPOLYGON(((36 35, 37 36, 37 35, 36 36, 36 35)))"
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO zones_zone (kind, pcode, name_en, name_ar, geom, source, updated_at) "
            "VALUES ('patrol_sector', 'BAD', 'bad', '', ST_GeomFromEWKT(%s), '', now())",
            [bowtie],
        )


def test_the_database_refuses_an_incident_dated_in_the_future():
    with pytest.raises(IntegrityError), transaction.atomic():
        row = IncidentFactory()
        Incident.objects.filter(pk=row.pk).update(
            occurred_at=row.created_at + datetime.timedelta(days=1)
        )
