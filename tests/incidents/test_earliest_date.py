"""No incident is dated before 15 March 2011, the start of the conflict: the API, the service
(which the admin's form calls too) and the report form refuse earlier dates, naming the field;
date filters take any date."""

import datetime
import uuid
import zoneinfo

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import translation
from rest_framework.test import APIClient

from incidents.dates import EARLIEST_OCCURRED_DATE, earliest_occurred_at
from incidents.models import Incident, SubEventType
from incidents.services import incident_submit
from tests.factories import IDLIB, IncidentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

MESSAGE = "The time of an incident cannot be before 2011-03-15, the start of the conflict."
MESSAGE_AR = "لا يمكن أن يكون وقت الحادثة قبل 2011-03-15، تاريخ بداية النزاع."
DAMASCUS = zoneinfo.ZoneInfo("Asia/Damascus")


def submission(occurred_at: str) -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": occurred_at,
        "location": {"type": "Point", "coordinates": list(IDLIB)},
        "place_name": "Idlib",
        "sub_event_type": "air-drone-strike",
    }


def reporter_client(users) -> APIClient:
    client = APIClient()
    client.force_authenticate(users["reporter_a"])
    return client


def test_the_bound_is_midnight_of_15_march_2011_in_damascus():
    assert datetime.date(2011, 3, 15) == EARLIEST_OCCURRED_DATE
    assert earliest_occurred_at() == datetime.datetime(2011, 3, 15, tzinfo=DAMASCUS)


@pytest.mark.parametrize(
    "occurred_at", ["0001-01-01T00:00:00Z", "1999-12-31T12:00:00Z", "2011-03-14T21:59:00Z"]
)
def test_the_api_refuses_a_report_dated_before_the_conflict_naming_the_field(users, occurred_at):
    response = reporter_client(users).post(
        "/api/v1/incidents/", submission(occurred_at), format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"occurred_at": [MESSAGE]}
    assert not Incident.all_objects.exists()


def test_the_api_accepts_a_report_dated_at_the_first_minute_of_the_conflict(users):
    # 2011-03-15 00:00 in Damascus (UTC+2 then) is 2011-03-14 22:00 UTC.
    response = reporter_client(users).post(
        "/api/v1/incidents/", submission("2011-03-14T22:00:00Z"), format="json"
    )
    assert response.status_code == 201


def test_the_message_is_in_arabic_for_arabic_callers(users):
    response = reporter_client(users).post(
        "/api/v1/incidents/",
        submission("2010-01-01T00:00:00Z"),
        format="json",
        HTTP_ACCEPT_LANGUAGE="ar",
    )
    assert response.json() == {"occurred_at": [MESSAGE_AR]}


def test_the_service_refuses_a_date_before_the_conflict(reporter):
    shelling = SubEventType.objects.select_related("event_type").get(
        slug="shelling-artillery-missile-attack"
    )
    data = {
        "occurred_at": datetime.datetime(2011, 3, 14, 23, 59, tzinfo=DAMASCUS),
        "location": Point(*IDLIB, srid=4326),
        "event_type": shelling.event_type,
        "sub_event_type": shelling,
    }
    with pytest.raises(ValidationError) as excinfo, translation.override("en"):
        incident_submit(reporter=reporter, client_uuid=uuid.uuid4(), data=data)
    assert excinfo.value.message_dict == {"occurred_at": [MESSAGE]}


def test_the_report_form_sets_the_bound_and_its_message(users):
    client = Client()
    client.force_login(users["reporter_a"])
    page = client.get("/report/").content.decode()
    assert 'min="2011-03-15T00:00"' in page
    assert '"occurredMin": "2011-03-15T00:00:00+02:00"' in page
    assert f'"tooEarly": "{MESSAGE}"' in page


@pytest.mark.parametrize("since", ["2000-01-01", "0001-01-01"])
def test_date_filters_take_dates_before_the_conflict(users, since):
    IncidentFactory()
    client = APIClient()
    client.force_authenticate(users["analyst"])
    response = client.get("/api/v1/incidents/", {"occurred_after": since})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 1


def test_the_database_refuses_an_earlier_date_whatever_the_path():
    """The constraint holds where no validation runs: a queryset update, as a raw statement
    or a future import would write."""
    incident = IncidentFactory(occurred_at=earliest_occurred_at())
    with pytest.raises(IntegrityError, match="incident_not_before_conflict"), transaction.atomic():
        Incident.all_objects.filter(pk=incident.pk).update(
            occurred_at=earliest_occurred_at() - datetime.timedelta(seconds=1)
        )
    incident.refresh_from_db()
    assert incident.occurred_at == earliest_occurred_at()
