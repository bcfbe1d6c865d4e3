"""Escalation trends: the Poisson tail, the flag, and the trends API with partner suppression."""

import datetime
import math

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from stats.services import stats_recompute_pending
from stats.trends import poisson_tail, zone_trends
from tests.alerts.helpers import verified_incident
from tests.factories import ARIHA, IDLIB

pytestmark = pytest.mark.django_db


def _exact_tail(k: int, rate: float) -> float:
    return 1 - sum(math.exp(-rate) * rate**i / math.factorial(i) for i in range(k))


@pytest.mark.parametrize(("k", "rate"), [(0, 2.0), (1, 2.0), (3, 2.0), (7, 1.75), (12, 5.0)])
def test_poisson_tail_matches_the_textbook_sum(k, rate):
    assert poisson_tail(k, rate) == pytest.approx(_exact_tail(k, rate), rel=1e-9, abs=1e-12)


def test_poisson_tail_is_accurate_far_in_the_tail():
    # P(X >= 60 | 5): 1 - cdf rounds to 0 in floating point; the direct sum does not.
    tail = poisson_tail(60, 5.0)
    first_term = math.exp(-5 + 60 * math.log(5) - math.lgamma(61))
    assert first_term < tail < first_term * 1.1
    assert poisson_tail(5, 0.0) == 0.0


@pytest.fixture
def week_in_idlib(reference_data, users):
    """Eight verified incidents in Idlib sub-district this week, one in the month before."""
    now = timezone.now()
    reporter, analyst = users["reporter_a"], users["analyst"]

    def add(when, point=IDLIB):
        return verified_incident(
            reporter=reporter, analyst=analyst, point=point, sub_type="arrests", occurred_at=when
        )

    first = add(now - datetime.timedelta(days=15))
    for n in range(8):
        add(now - datetime.timedelta(hours=2 + 10 * n))
    add(now - datetime.timedelta(hours=5), point=ARIHA)
    stats_recompute_pending()
    return first.subdistrict


def test_a_burst_against_a_quiet_baseline_is_flagged_and_a_steady_zone_is_not(week_in_idlib):
    trends = {trend.pcode: trend for trend in zone_trends()}
    idlib = trends[week_in_idlib.pcode]
    assert (idlib.recent, idlib.baseline) == (8, 1)
    assert idlib.expected == pytest.approx(0.25)
    assert idlib.p_value < 0.01 and idlib.escalation
    ariha = next(t for t in trends.values() if t.kind == "subdistrict" and t.recent == 1)
    assert not ariha.escalation  # one incident is below the minimum count


def test_the_same_week_without_the_burst_is_not_flagged(week_in_idlib):
    later = timezone.localdate() + datetime.timedelta(days=10)
    trend = zone_trends(as_of=later, zone_ids=[week_in_idlib.pk])[0]
    assert trend.recent == 0 and not trend.escalation


def test_trends_api_for_analysts_and_partners(week_in_idlib, users):
    analyst = APIClient()
    analyst.force_authenticate(users["analyst"])
    body = analyst.get("/api/v1/trends/?escalation=true&kind=subdistrict").json()
    assert body["recent_days"] == 7 and body["baseline_days"] == 28
    flagged = {row["zone"]: row for row in body["results"]}
    assert flagged[week_in_idlib.pcode]["recent"] == 8
    assert flagged[week_in_idlib.pcode]["baseline"] == 1
    one = analyst.get(f"/api/v1/zones/{week_in_idlib.pcode}/trend/").json()
    assert one["escalation"] is True and one["suppressed"] is False

    partner = APIClient()
    partner.force_authenticate(users["partner"])
    row = partner.get(f"/api/v1/zones/{week_in_idlib.pcode}/trend/").json()
    # A baseline of one incident is a small count: withheld with every figure computed from it,
    # while the week's eight and the flag still show.
    assert row["baseline"] is None and row["suppressed"] is True
    assert row["expected"] is None and row["ratio"] is None and row["p_value"] is None
    assert row["recent"] == 8
    assert row["escalation"] is True


def test_trends_api_refuses_bad_parameters(reference_data, users):
    client = APIClient()
    client.force_authenticate(users["analyst"])
    assert "as_of" in client.get("/api/v1/trends/?as_of=soon").json()
    assert "kind" in client.get("/api/v1/trends/?kind=planet").json()
    assert "escalation" in client.get("/api/v1/trends/?escalation=maybe").json()
    assert client.get("/api/v1/zones/XX999/trend/").status_code == 404
