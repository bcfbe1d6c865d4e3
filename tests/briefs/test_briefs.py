"""The daily brief: numbers against the day before and the baseline, notable incidents, patrols;
as JSON and as a page, in English and Arabic; trimmed for partners."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from briefs.models import DailyBrief
from briefs.services import brief_build
from briefs.tasks import build_daily_brief
from patrols.models import Patrol
from stats.services import stats_recompute_pending
from tests.alerts.helpers import verified_incident
from tests.factories import ARIHA, IDLIB, PatrolFactory

pytestmark = pytest.mark.django_db


def _at(day: datetime.date, hour: int) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


@pytest.fixture
def day_with_events(reference_data, users):
    """Yesterday: three incidents in Idlib (one deadly), one in Ariha; the day before: one."""
    day = timezone.localdate() - datetime.timedelta(days=1)
    reporter, analyst = users["reporter_a"], users["analyst"]
    deadly = verified_incident(
        reporter=reporter, analyst=analyst, point=IDLIB, occurred_at=_at(day, 9), killed=4
    )
    for hour in (10, 11):
        verified_incident(
            reporter=reporter, analyst=analyst, point=IDLIB, occurred_at=_at(day, hour)
        )
    verified_incident(reporter=reporter, analyst=analyst, point=ARIHA, occurred_at=_at(day, 12))
    verified_incident(
        reporter=reporter,
        analyst=analyst,
        point=IDLIB,
        occurred_at=_at(day - datetime.timedelta(days=1), 12),
    )
    # Not verified: not in the brief.
    verified_incident(
        reporter=reporter, analyst=analyst, point=IDLIB, occurred_at=_at(day, 13), verify=False
    )
    PatrolFactory(date=day, status=Patrol.Status.CUT_SHORT)
    PatrolFactory(date=day, status=Patrol.Status.COMPLETED)
    stats_recompute_pending()
    return {"day": day, "deadly": deadly}


def test_the_brief_counts_the_day_against_the_day_before_and_the_baseline(day_with_events):
    brief = brief_build(day_with_events["day"])
    data = brief.data
    assert data["totals"]["incidents"] == 4 and data["totals"]["day_before"] == 1
    assert data["totals"]["killed"] == 4
    assert data["totals"]["baseline"] == 1
    assert data["totals"]["baseline_daily"] == round(1 / 28, 2)
    idlib = next(
        z for z in data["zones"] if z["pcode"] == day_with_events["deadly"].subdistrict.pcode
    )
    assert (idlib["incidents"], idlib["day_before"], idlib["killed"]) == (3, 1, 4)
    assert data["notable"][0]["id"] == str(day_with_events["deadly"].client_uuid)
    assert len(data["notable"]) == 4
    assert data["patrol_counts"] == {"total": 2, "cut_short": 1, "completed": 1}
    assert data["headline"]["en"].startswith(f"{day_with_events['day'].isoformat()}: 4 verified")
    assert data["headline"]["ar"] != data["headline"]["en"]
    # Writing it again replaces it.
    brief_build(day_with_events["day"])
    assert DailyBrief.objects.count() == 1


def test_the_scheduled_task_writes_yesterdays_brief(day_with_events):
    assert build_daily_brief() == day_with_events["day"].isoformat()
    assert DailyBrief.objects.get().day == day_with_events["day"]


def test_the_command_writes_a_range(reference_data, capsys):
    call_command("build_daily_brief", "--day", "2021-03-10", "--days", "3")
    assert list(DailyBrief.objects.order_by("day").values_list("day", flat=True)) == [
        datetime.date(2021, 3, 8),
        datetime.date(2021, 3, 9),
        datetime.date(2021, 3, 10),
    ]


def test_partners_get_grid_locations_and_no_small_counts(day_with_events, users):
    day = day_with_events["day"].isoformat()
    brief_build(day_with_events["day"])
    analyst = APIClient()
    analyst.force_authenticate(users["analyst"])
    full = analyst.get(f"/api/v1/briefs/{day}/").json()
    deadly = day_with_events["deadly"]
    assert full["notable"][0]["location"] == [deadly.location.x, deadly.location.y]

    partner = APIClient()
    partner.force_authenticate(users["partner"])
    trimmed = partner.get(f"/api/v1/briefs/{day}/").json()
    assert trimmed["notable"][0]["location"] == [deadly.location_coarse.x, deadly.location_coarse.y]
    assert "location_coarse" not in trimmed["notable"][0]
    ariha = next(
        z for z in trimmed["zones"] if z["kind"] == "subdistrict" and z["incidents"] is None
    )
    assert "incidents" in ariha["suppressed"]
    assert trimmed["totals"]["incidents"] == 4  # at or above the threshold: shown
    listing = partner.get("/api/v1/briefs/").json()
    assert listing["results"][0]["day"] == day
    assert set(listing["results"][0]["headline"]) == {"en", "ar"}
    assert partner.get("/api/v1/briefs/2001-01-01/").status_code == 404


def test_the_brief_page_in_english_and_arabic(day_with_events, users, client):
    brief_build(day_with_events["day"])
    day = day_with_events["day"].isoformat()
    client.force_login(users["analyst"])
    english = client.get(f"/briefs/{day}/").content.decode()
    assert "4 verified incidents" in english
    assert client.get("/briefs/").status_code == 200
    client.cookies["django_language"] = "ar"
    arabic = client.get(f"/briefs/{day}/").content.decode()
    assert 'dir="rtl"' in arabic
    brief = DailyBrief.objects.get()
    assert brief.data["headline"]["ar"] in arabic
    assert client.get("/briefs/not-a-day/").status_code == 404


def _ids_of_the_day(day) -> set[str]:
    from incidents.models import Incident

    return {str(uuid) for uuid in Incident.all_objects.values_list("client_uuid", flat=True)}


@pytest.mark.parametrize("who", ["reporter_a", "reporter_b"])
def test_reporters_get_the_counts_of_the_brief_but_no_incidents(day_with_events, users, who):
    day = day_with_events["day"]
    brief_build(day)
    reporter = APIClient()
    reporter.force_authenticate(users[who])

    response = reporter.get(f"/api/v1/briefs/{day.isoformat()}/")

    assert response.status_code == 200
    body = response.json()
    assert body["notable"] == [] and body["notable_withheld"] is True
    assert body["totals"]["incidents"] == 4  # the aggregates stay, suppressed as for partners
    assert any(zone["incidents"] is None for zone in body["zones"])
    text = response.content.decode()
    assert not any(incident_id in text for incident_id in _ids_of_the_day(day))
    deadly = day_with_events["deadly"]
    assert str(deadly.location.x) not in text and str(deadly.location_coarse.x) not in text


def test_partners_and_analysts_still_get_the_notable_incidents(day_with_events, users):
    day = day_with_events["day"].isoformat()
    brief_build(day_with_events["day"])
    for who in ("partner", "analyst"):
        client = APIClient()
        client.force_authenticate(users[who])
        body = client.get(f"/api/v1/briefs/{day}/").json()
        assert len(body["notable"]) == 4 and body["notable_withheld"] is False


def test_the_brief_page_lists_no_incident_to_a_reporter(day_with_events, users, client):
    day = day_with_events["day"]
    brief_build(day)
    client.force_login(users["reporter_b"])

    page = client.get(f"/briefs/{day.isoformat()}/").content.decode()

    assert "4 verified incidents" in page  # the headline's counts
    assert 'class="notable"' not in page
    assert "Incidents are not listed one by one for reporters" in page
    assert not any(incident_id in page for incident_id in _ids_of_the_day(day))
    client.force_login(users["partner"])
    assert 'class="notable"' in client.get(f"/briefs/{day.isoformat()}/").content.decode()
