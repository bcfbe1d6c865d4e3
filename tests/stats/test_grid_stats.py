"""Statistics, trends and briefs that readers outside the staff see are counted by the zones of
the incidents' grid points (PRODUCT.md, "Do no harm" 6): a partner's count per sub-district never
tells which side of a boundary an incident's exact point lies.

EDGE's exact point is in the Idleb sub-district (SY070000), its grid point in Ariha (SY070500,
inside the M4 corridor); see tests/incidents/test_grid_view.py."""

import datetime
import random

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from briefs.models import DailyBrief
from briefs.selectors import brief_for_reader
from briefs.services import brief_build
from stats.services import stats_rebuild, stats_recompute_pending
from tests.incidents.test_api import submit
from tests.incidents.test_grid_view import DESCRIPTION, EDGE, PLACE_TYPED
from tests.stats.helpers import actual_grid, expected_grid, random_activity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def test_the_grid_statistics_match_a_plain_group_by_after_any_activity(users):
    stats_rebuild()
    random_activity(random.Random(11), reporter=users["reporter_a"], analyst=users["analyst"])
    stats_recompute_pending()
    assert actual_grid() == expected_grid()
    assert len(actual_grid()) > 10
    stats_rebuild()
    assert actual_grid() == expected_grid()


@pytest.fixture
def three_at_the_edge(users):
    """Three verified reports at EDGE yesterday (Damascus time), statistics current."""
    from incidents.models import ReviewStatus
    from incidents.services import incident_review

    day = timezone.localdate() - datetime.timedelta(days=1)
    made = []
    for hour in (8, 9, 10):
        incident = submit(
            users["reporter_a"], EDGE, place_name=PLACE_TYPED, description=DESCRIPTION
        )
        incident.occurred_at = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(hour))
        )
        incident.save(update_fields=["occurred_at"])
        incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
        made.append(incident)
    stats_recompute_pending()
    return {"day": day, "incidents": made}


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _series(user, pcode: str, day: datetime.date) -> list:
    url = f"/api/v1/zones/{pcode}/stats/?from={day}&to={day}"
    return [(row["period"], row["incidents"]) for row in _client(user).get(url).json()["series"]]


def test_partner_zone_statistics_count_by_the_grid_points_zone(three_at_the_edge, users):
    day = three_at_the_edge["day"]
    assert _series(users["partner"], "SY070500", day) == [(day.isoformat(), 3)]
    assert _series(users["partner"], "SY070000", day) == []
    assert _series(users["partner"], "M4-SC", day) == [(day.isoformat(), 3)]
    assert _series(users["analyst"], "SY070000", day) == [(day.isoformat(), 3)]
    assert _series(users["analyst"], "SY070500", day) == []
    assert _series(users["analyst"], "M4-SC", day) == []


def test_partner_trends_count_by_the_grid_points_zone(three_at_the_edge, users):
    as_of = three_at_the_edge["day"]

    def recent(user, pcode):
        return _client(user).get(f"/api/v1/zones/{pcode}/trend/?as_of={as_of}").json()["recent"]

    assert (recent(users["partner"], "SY070500"), recent(users["partner"], "SY070000")) == (3, 0)
    assert (recent(users["analyst"], "SY070500"), recent(users["analyst"], "SY070000")) == (0, 3)


def _brief(user, day) -> dict:
    return _client(user).get(f"/api/v1/briefs/{day.isoformat()}/").json()


def test_the_partner_brief_counts_and_names_incidents_on_the_grid(three_at_the_edge, users):
    day = three_at_the_edge["day"]
    brief_build(day)
    partner = _brief(users["partner"], day)
    zones = {zone["pcode"]: zone["incidents"] for zone in partner["zones"]}
    assert zones["SY070500"] == 3 and "SY070000" not in zones
    assert zones["M4-SC"] == 3
    assert {(n["place_name"], n["zone"], n["in_corridor"]) for n in partner["notable"]} == {
        ("Nahlayya", "SY070500", True)
    }
    assert "grid" not in partner
    analyst = _brief(users["analyst"], day)
    zones = {zone["pcode"]: zone["incidents"] for zone in analyst["zones"]}
    assert zones["SY070000"] == 3 and "SY070500" not in zones
    assert {(n["place_name"], n["zone"], n["in_corridor"]) for n in analyst["notable"]} == {
        (PLACE_TYPED, "SY070000", False)
    }
    assert "grid" not in analyst


def test_no_free_text_reaches_a_partner_in_the_brief_page_or_json(three_at_the_edge, users):
    from django.test import Client

    day = three_at_the_edge["day"]
    brief_build(day)
    assert "Sarmin" not in _client(users["partner"]).get(f"/api/v1/briefs/{day}/").content.decode()
    client = Client()
    client.force_login(users["partner"])
    page = client.get(f"/briefs/{day}/").content.decode()
    assert "Nahlayya" in page and "Sarmin" not in page


def test_a_brief_written_before_the_grid_figures_loses_its_exact_place_names(
    three_at_the_edge, users
):
    from accounts.roles import Role

    brief = brief_build(three_at_the_edge["day"])
    old = {key: value for key, value in brief.data.items() if key != "grid"}
    DailyBrief.objects.filter(pk=brief.pk).update(data=old)
    shown = brief_for_reader(DailyBrief.objects.get(pk=brief.pk).data, role=Role.PARTNER)
    assert {(n["place_name"], n["zone"], n["in_corridor"]) for n in shown["notable"]} == {
        ("", None, None)
    }
