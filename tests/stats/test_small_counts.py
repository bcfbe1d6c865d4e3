"""One small-count rule (stats.privacy) for every aggregate a partner can see: counts of 1 or 2
are withheld, zero is shown, staff see everything, and the same incidents give the same answer
from every endpoint (PRODUCT.md, "Do no harm" 5)."""

import datetime

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from briefs.services import brief_build
from stats.privacy import SUPPRESS_BELOW, WITHHELD_MARK, withhold
from stats.services import stats_recompute_pending
from tests.alerts.helpers import large_camp, verified_incident
from tests.factories import ARIHA

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ARIHA_SUBDISTRICT = "SY070500"


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _day() -> datetime.date:
    return timezone.localdate() - datetime.timedelta(days=1)


def _incidents(users, n: int, *, point=ARIHA, sub_type="shelling-artillery-missile-attack"):
    at = timezone.make_aware(datetime.datetime.combine(_day(), datetime.time(10)))
    made = [
        verified_incident(
            reporter=users["reporter_a"],
            analyst=users["analyst"],
            point=point,
            sub_type=sub_type,
            occurred_at=at,
            killed=1,
        )
        for _ in range(n)
    ]
    stats_recompute_pending()
    return made


def _filters() -> dict:
    day = _day()
    return {
        "occurred_after": day.isoformat(),
        "occurred_before": (day + datetime.timedelta(days=1)).isoformat(),
    }


def _answers(user, pcode: str = ARIHA_SUBDISTRICT) -> dict:
    """The count of the same incidents (one sub-district, one day) from every endpoint."""
    day = _day()
    client = _api(user)
    choropleth = client.get("/api/v1/incidents/by-subdistrict/", _filters()).json()["results"]
    clusters = client.get(
        "/api/v1/incidents/clusters/", {"zoom": 8, "zone": pcode, **_filters()}
    ).json()
    stats = client.get(f"/api/v1/zones/{pcode}/stats/", {"from": day, "to": day}).json()
    trend = client.get(f"/api/v1/zones/{pcode}/trend/", {"as_of": day}).json()
    brief_build(day)
    brief = client.get(f"/api/v1/briefs/{day.isoformat()}/").json()
    (brief_zone,) = [zone for zone in brief["zones"] if zone["pcode"] == pcode]
    return {
        "choropleth": next(row["count"] for row in choropleth if row["pcode"] == pcode),
        "clusters": clusters["count"],
        "cluster cell": clusters["cells"][0]["count"],
        "stats": stats["series"][0]["incidents"],
        "trend": trend["recent"],
        "brief": brief_zone["incidents"],
    }


@pytest.fixture
def same_zone_for_everyone():
    """The test point's grid point lies in the same sub-district, so that exact and grid
    readers count the same incidents."""

    def check(incident):
        assert incident.subdistrict.pcode == incident.coarse_subdistrict.pcode == ARIHA_SUBDISTRICT

    return check


@pytest.mark.parametrize("n", [1, 2, SUPPRESS_BELOW])
@pytest.mark.parametrize("who", ["analyst", "admin", "partner"])
def test_every_endpoint_gives_the_same_answer_for_the_same_incidents(
    users, same_zone_for_everyone, n, who
):
    same_zone_for_everyone(_incidents(users, n)[0])
    expected = n if who != "partner" or n >= SUPPRESS_BELOW else None
    answers = _answers(users[who])
    assert answers == dict.fromkeys(answers, expected)


def test_the_callers_agree_with_the_rule_itself(users):
    for count in range(0, 6):
        assert withhold(count, viewer=users["partner"]) == (
            None if 0 < count < SUPPRESS_BELOW else count
        )
        assert withhold(count, viewer=users["analyst"]) == count
    assert withhold(1, viewer=users["reporter_a"]) is None
    assert withhold(1, viewer=users["reporter_a"], own_reports=True) == 1


def test_a_partner_sees_no_small_count_of_a_type_inside_a_cluster(users):
    _incidents(users, SUPPRESS_BELOW)
    _incidents(users, 1, sub_type="armed-clash")
    params = {"zoom": 8, **_filters()}
    (cell,) = _api(users["partner"]).get("/api/v1/incidents/clusters/", params).json()["cells"]
    assert cell["count"] == SUPPRESS_BELOW + 1
    assert cell["types"] == {"explosions-remote-violence": SUPPRESS_BELOW, "battles": None}
    (cell,) = _api(users["analyst"]).get("/api/v1/incidents/clusters/", params).json()["cells"]
    assert cell["types"] == {"explosions-remote-violence": SUPPRESS_BELOW, "battles": 1}


def test_a_partners_statistics_withhold_harm_with_the_incidents_and_show_zeros(users):
    _incidents(users, 2)
    day = _day()
    url = f"/api/v1/zones/{ARIHA_SUBDISTRICT}/stats/"
    partner = _api(users["partner"]).get(url, {"from": day - datetime.timedelta(days=1)}).json()
    assert partner["suppressed_below"] == SUPPRESS_BELOW
    (row,) = [row for row in partner["series"] if row["period"] == day.isoformat()]
    assert row == {
        "period": day.isoformat(),
        "incidents": None,
        "killed": None,
        "injured": None,
        "suppressed": True,
    }
    analyst = _api(users["analyst"]).get(url, {"from": day, "to": day}).json()
    assert analyst["series"][0]["incidents"] == 2 and analyst["series"][0]["killed"] == 2
    assert analyst["suppressed_below"] is None


def test_a_partners_trend_shows_a_zero(users):
    _incidents(users, 2)
    later = _day() + datetime.timedelta(days=10)
    trend = (
        _api(users["partner"])
        .get(f"/api/v1/zones/{ARIHA_SUBDISTRICT}/trend/", {"as_of": later})
        .json()
    )
    # Nothing in the week; the two before it are withheld with what is computed from them.
    assert trend["recent"] == 0
    assert trend["baseline"] is None and trend["p_value"] is None and trend["suppressed"]


def test_a_partners_brief_says_no_small_count_not_even_in_its_headline(users):
    _incidents(users, 2)
    day = _day()
    brief_build(day)
    partner = _api(users["partner"])
    brief = partner.get(f"/api/v1/briefs/{day.isoformat()}/").json()
    totals = brief["totals"]
    assert (totals["incidents"], totals["killed"], totals["day_before"]) == (None, None, 0)
    # Injured: 0, but a figure of the withheld incidents, withheld with them.
    assert set(totals["suppressed"]) == {"incidents", "killed", "injured"}
    assert brief["headline"]["en"].startswith(
        f"{day.isoformat()}: {WITHHELD_MARK} verified incidents (0 the day before"
    )
    assert f"{WITHHELD_MARK} killed" in brief["headline"]["en"]
    assert WITHHELD_MARK in brief["headline"]["ar"]
    assert " 2 " not in brief["headline"]["en"] and "2 killed" not in brief["headline"]["en"]
    (listed,) = partner.get("/api/v1/briefs/").json()["results"]
    assert listed["headline"] == brief["headline"]
    for zone in brief["zones"]:
        assert all(zone[key] not in (1, 2) for key in ("incidents", "killed", "day_before"))

    analyst = _api(users["analyst"]).get(f"/api/v1/briefs/{day.isoformat()}/").json()
    assert analyst["totals"]["incidents"] == 2
    assert analyst["headline"]["en"].startswith(f"{day.isoformat()}: 2 verified incidents")


def test_the_brief_pages_print_a_withheld_count_as_the_mark(users, client):
    _incidents(users, 2)
    day = _day()
    brief_build(day)
    client.force_login(users["partner"])
    page = client.get(f"/briefs/{day.isoformat()}/").content.decode()
    assert f'<td class="num">{WITHHELD_MARK.replace("<", "&lt;")}</td>' in page
    index = client.get("/briefs/").content.decode()
    assert f"{WITHHELD_MARK.replace('<', '&lt;')} verified incidents" in index


def test_a_partners_zone_page_withholds_small_counts(users, client):
    _incidents(users, 2)
    client.force_login(users["partner"])
    response = client.get(f"/zones/{ARIHA_SUBDISTRICT}/")
    assert response.context["total"] is None
    values = [n for dataset in response.context["chart"]["datasets"] for n in dataset["data"]]
    assert values and all(n not in (1, 2) for n in values)
    client.force_login(users["analyst"])
    assert client.get(f"/zones/{ARIHA_SUBDISTRICT}/").context["total"] == 2


def test_a_partners_camp_page_withholds_small_counts(users, client):
    camp = large_camp()
    _incidents(users, 2, point=(camp.location.x, camp.location.y))
    at = (_day() + datetime.timedelta(days=1)).isoformat()
    client.force_login(users["partner"])
    rows = client.get(f"/camps/{camp.site_id}/", {"at": at}).context["rows"]
    counts = [n for row in rows for n in row["counts"]]
    assert None in counts and all(n not in (1, 2) for n in counts)
    client.force_login(users["analyst"])
    rows = client.get(f"/camps/{camp.site_id}/", {"at": at}).context["rows"]
    assert 2 in [n for row in rows for n in row["counts"]]


def test_a_reporter_sees_the_counts_of_their_own_reports_but_not_the_statistics(users):
    _incidents(users, 1)
    reporter = _api(users["reporter_a"])
    clusters = reporter.get("/api/v1/incidents/clusters/", {"zoom": 8, **_filters()}).json()
    assert clusters["count"] == 1  # their own report
    day = _day()
    stats = reporter.get(
        f"/api/v1/zones/{ARIHA_SUBDISTRICT}/stats/", {"from": day, "to": day}
    ).json()
    assert stats["series"][0]["incidents"] is None  # everyone's verified reports
