"""The camp index and a camp's page: population history, incidents within 1, 3 and 5 km over
7 and 30 days, by role."""

import datetime
import json
import math
import re

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from camps.models import Camp, CampPopulation
from incidents.models import ReviewStatus
from incidents.selectors import incident_counts_near
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

# On a point of the 0.05 degree grid, so the coarse locations partners see are predictable.
CAMP_LON, CAMP_LAT = 36.70, 36.30
AT = datetime.date(2021, 3, 1)
# The end of the ?at= day, Damascus time: the windows end there.
AT_END = timezone.make_aware(datetime.datetime(2021, 3, 2))
DISTANCES_M = (500, 2_000, 4_000, 8_000)
DAYS_BEFORE = (2, 20)


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def east_of_camp(metres: float) -> Point:
    degrees = metres / (111_320 * math.cos(math.radians(CAMP_LAT)))
    return Point(CAMP_LON + degrees, CAMP_LAT, srid=4326)


def json_config(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


def counts_table(html: str) -> list[list[int | None]]:
    """The near-counts table; None for a count withheld from the reader (stats.privacy)."""
    table = re.search(
        r'<table class="data-table counts-table" id="near-counts">(.*?)</table>', html, re.S
    )
    body = re.search(r"<tbody>(.*?)</tbody>", table.group(1), re.S).group(1)
    return [
        [
            None if cell == "&lt;3" else int(cell)
            for cell in re.findall(r'<td class="num">(\d+|&lt;3)</td>', row)
        ]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


@pytest.fixture
def camp():
    camp = Camp.objects.create(
        site_id="TEST-CAMP-1",
        name_en="Test camp <b>bold</b>",
        name_ar="مخيم الاختبار",
        camp_type=Camp.Type.PLANNED_CAMP,
        location=Point(CAMP_LON, CAMP_LAT, srid=4326),
        adm1_pcode="SY07",
        adm2_pcode="SY0703",
        adm3_pcode="SY070301",
    )
    for day, people in ((datetime.date(2020, 4, 1), 1200), (datetime.date(2020, 10, 1), 1500)):
        CampPopulation.objects.create(
            camp=camp, date=day, individuals=people, households=people // 5
        )
    return camp


@pytest.fixture
def ring_of_incidents(camp):
    """One incident at 0.5, 2, 4 and 8 km east of the camp, 2 and 20 days before AT_END;
    status verified unless a test changes it."""
    return [
        IncidentFactory(
            location=east_of_camp(metres),
            occurred_at=AT_END - datetime.timedelta(days=days, hours=1),
            review_status=ReviewStatus.VERIFIED,
        )
        for metres in DISTANCES_M
        for days in DAYS_BEFORE
    ]


@pytest.mark.parametrize("url", ["/camps/", "/camps/TEST-CAMP-1/"])
def test_camp_pages_ask_anonymous_visitors_to_sign_in(camp, url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/camps/", "/camps/TEST-CAMP-1/"])
def test_camp_pages_refuse_users_without_a_role(camp, users, url):
    assert signed_in(users["no_role"]).get(url).status_code == 403


def test_an_unknown_camp_is_not_found(users):
    assert signed_in(users["analyst"]).get("/camps/NO-SUCH-CAMP/").status_code == 404


def test_the_index_links_every_camp(camp, users):
    html = signed_in(users["partner"]).get("/camps/").text
    assert 'href="/camps/TEST-CAMP-1/"' in html
    assert 'href="/camps/ACU-ATMA/"' in html


def test_counts_within_1_3_5_km_over_7_and_30_days(ring_of_incidents, users):
    html = signed_in(users["analyst"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    # Rows 1, 3, 5 km; columns 7 and 30 days. The 8 km incidents are never counted.
    assert counts_table(html) == [[1, 2], [2, 4], [3, 6]]


def test_the_selector_counts_in_one_query(ring_of_incidents, users, django_assert_num_queries):
    analyst = users["analyst"]
    point = Point(CAMP_LON, CAMP_LAT, srid=4326)
    incident_counts_near(point=point, user=analyst, at=AT_END)  # caches the role
    with django_assert_num_queries(1):
        counts = incident_counts_near(point=point, user=analyst, at=AT_END)
    assert counts == {1000: {7: 1, 30: 2}, 3000: {7: 2, 30: 4}, 5000: {7: 3, 30: 6}}


def test_incidents_after_the_anchor_day_are_not_counted(ring_of_incidents, users):
    html = signed_in(users["analyst"]).get("/camps/TEST-CAMP-1/?at=2021-02-10").text
    # Only the 20-days-before incidents (9 February) fall in the windows ending 10 February.
    assert counts_table(html) == [[1, 1], [2, 2], [3, 3]]


def test_rejected_reports_and_duplicates_are_not_counted(ring_of_incidents, users):
    for incident in ring_of_incidents:
        incident.review_status = ReviewStatus.REJECTED
        incident.save()
    html = signed_in(users["analyst"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    assert counts_table(html) == [[0, 0], [0, 0], [0, 0]]


def test_partners_count_only_verified_reports(ring_of_incidents, users):
    for incident in ring_of_incidents[:4]:  # the 0.5 and 2 km ones
        incident.review_status = ReviewStatus.SUBMITTED
        incident.save()
    html = signed_in(users["partner"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    # Left: the 4 and 8 km ones, counted on their coarse points (36.75 and 36.80 east: 4.5 and
    # 9 km), so only the 4 km pair is within 5 km: 1 and 2, withheld from a partner.
    assert counts_table(html) == [[0, 0], [0, 0], [None, None]]


def test_partners_are_counted_on_the_coarse_location(camp, users):
    # 2 km east snaps back to the camp's grid point: a partner sees it within 1 km.
    IncidentFactory(
        location=east_of_camp(2_000),
        occurred_at=AT_END - datetime.timedelta(days=2),
        review_status=ReviewStatus.VERIFIED,
    )
    partner = signed_in(users["partner"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    analyst = signed_in(users["analyst"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    assert counts_table(partner)[0] == [None, None]  # one: counted, and withheld
    assert counts_table(analyst)[0] == [0, 0]
    assert "approximate locations" in partner
    assert "approximate locations" not in analyst


def test_reporters_count_only_their_own_reports(ring_of_incidents, users):
    mine = ring_of_incidents[0]
    mine.reporter = users["reporter_a"]
    mine.save()
    html = signed_in(users["reporter_a"]).get(f"/camps/TEST-CAMP-1/?at={AT}").text
    assert counts_table(html) == [[1, 1], [1, 1], [1, 1]]


def test_a_date_that_is_not_understood_counts_up_to_now(ring_of_incidents, users):
    response = signed_in(users["analyst"]).get("/camps/TEST-CAMP-1/?at=2021-13-45")
    assert response.status_code == 200
    assert "was not understood" in response.text
    assert counts_table(response.text) == [[0, 0], [0, 0], [0, 0]]


def test_the_page_documents_the_at_parameter(camp, users):
    html = signed_in(users["analyst"]).get("/camps/TEST-CAMP-1/").text
    assert "?at=YYYY-MM-DD" in html


def test_the_population_history_feeds_the_chart(camp, users):
    html = signed_in(users["analyst"]).get("/camps/TEST-CAMP-1/").text
    chart = json_config(html, "camp-chart-config")
    assert chart["labels"] == ["2020-04-01", "2020-10-01"]
    assert chart["datasets"][0]["data"] == [1200, 1500]
    assert chart["datasets"][1]["data"] == [240, 300]


def test_the_camp_name_is_escaped(camp, users):
    html = signed_in(users["analyst"]).get("/camps/TEST-CAMP-1/").text
    assert "<b>bold</b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_a_camp_without_a_location_says_it_cannot_count(users):
    html = signed_in(users["analyst"]).get("/camps/ACU-AL-KARAMA/").text
    assert "location is not known" in html
    assert 'id="near-counts"' not in html


def test_the_camp_page_uses_a_constant_number_of_queries(
    ring_of_incidents, users, django_assert_max_num_queries
):
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(8):
        assert client.get(f"/camps/TEST-CAMP-1/?at={AT}").status_code == 200


def test_the_index_uses_a_constant_number_of_queries(camp, users, django_assert_max_num_queries):
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(7):
        assert client.get("/camps/").status_code == 200


@pytest.mark.parametrize("url", ["/camps/", "/camps/TEST-CAMP-1/"])
def test_camp_pages_have_no_inline_script_or_event_handlers(camp, users, url):
    html = signed_in(users["analyst"]).get(url).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert not any(re.search(r"\son[a-z]+\s*=", tag) for tag in tags)
