"""The zone index and a zone's page: chart of incidents by type per month, latest incidents,
camps, by role."""

import datetime
import json
import re

import pytest
from django.contrib.gis.geos import Point
from django.test import Client
from django.utils import timezone

from camps.models import Camp
from incidents.models import ReviewStatus, SubEventType
from tests.factories import ARIHA, NAYRAB, IncidentFactory
from zones.models import Zone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

XSS = "<img src=x onerror=alert(1)>"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def json_config(html: str, element_id: str):
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


def at(day: str) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.fromisoformat(day + "T12:00"))


def in_ariha(**fields):
    """An incident in the Ariha sub-district, its zones stored as incident_zones_assign would."""
    fields.setdefault("review_status", ReviewStatus.VERIFIED)
    return IncidentFactory(
        location=Point(*ARIHA, srid=4326),
        subdistrict=Zone.objects.get(pcode="SY070500"),
        district=Zone.objects.get(pcode="SY0705"),
        governorate=Zone.objects.get(pcode="SY07"),
        # Its grid point (36.60, 35.80) lies in Ariha too.
        coarse_subdistrict=Zone.objects.get(pcode="SY070500"),
        coarse_district=Zone.objects.get(pcode="SY0705"),
        coarse_governorate=Zone.objects.get(pcode="SY07"),
        **fields,
    )


@pytest.fixture
def clash():
    return SubEventType.objects.get(slug="armed-clash")


@pytest.mark.parametrize("url", ["/zones/", "/zones/SY070500/"])
def test_zone_pages_ask_anonymous_visitors_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/zones/", "/zones/SY070500/"])
def test_zone_pages_refuse_users_without_a_role(users, url):
    assert signed_in(users["no_role"]).get(url).status_code == 403


def test_an_unknown_pcode_is_not_found(users):
    assert signed_in(users["analyst"]).get("/zones/SY999999/").status_code == 404


def test_the_index_links_governorates_districts_and_subdistricts(users):
    html = signed_in(users["reporter_a"]).get("/zones/").text
    for pcode in ("SY07", "SY0705", "SY070500", "M4-SC"):
        assert f'href="/zones/{pcode}/"' in html
    assert html.count('href="/zones/SY') == Zone.objects.filter(pcode__startswith="SY").count()


def test_the_chart_counts_incidents_by_type_per_month(users, clash):
    in_ariha(occurred_at=at("2021-01-05"))
    in_ariha(occurred_at=at("2021-01-25"))
    in_ariha(occurred_at=at("2021-03-10"), sub_event_type=clash, event_type=clash.event_type)
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    chart = json_config(html, "zone-chart-config")
    assert chart["labels"] == ["2021-01", "2021-02", "2021-03"]
    by_type = {dataset["label"]: dataset["data"] for dataset in chart["datasets"]}
    assert by_type == {"Explosions/Remote violence": [2, 0, 0], "Battles": [0, 0, 1]}


def test_the_chart_can_count_per_week(users):
    in_ariha(occurred_at=at("2021-01-04"))  # a Monday
    in_ariha(occurred_at=at("2021-01-20"))
    html = signed_in(users["analyst"]).get("/zones/SY070500/?period=week").text
    chart = json_config(html, "zone-chart-config")
    assert chart["labels"] == ["2021-01-04", "2021-01-11", "2021-01-18"]
    assert chart["datasets"][0]["data"] == [1, 0, 1]


def test_a_governorate_counts_the_incidents_of_its_subdistricts(users):
    in_ariha(occurred_at=at("2021-01-05"))
    html = signed_in(users["analyst"]).get("/zones/SY07/").text
    assert json_config(html, "zone-chart-config")["datasets"][0]["data"] == [1]


def test_rejected_reports_and_duplicates_are_not_counted(users):
    in_ariha(occurred_at=at("2021-01-05"))
    in_ariha(occurred_at=at("2021-01-06"), review_status=ReviewStatus.REJECTED)
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    assert json_config(html, "zone-chart-config")["datasets"][0]["data"] == [1]


def test_partners_see_only_verified_reports(users):
    for day in ("2021-01-05", "2021-01-07", "2021-01-08"):  # three: no small count to withhold
        in_ariha(occurred_at=at(day))
    hidden = in_ariha(occurred_at=at("2021-01-06"), review_status=ReviewStatus.SUBMITTED)
    html = signed_in(users["partner"]).get("/zones/SY070500/").text
    assert json_config(html, "zone-chart-config")["datasets"][0]["data"] == [3]
    assert str(hidden.client_uuid) not in html


def test_reporters_see_only_their_own_reports(users):
    mine = in_ariha(occurred_at=at("2021-01-05"), reporter=users["reporter_a"])
    theirs = in_ariha(occurred_at=at("2021-01-06"), reporter=users["reporter_b"])
    html = signed_in(users["reporter_a"]).get("/zones/SY070500/").text
    assert f"/incidents/{mine.client_uuid}/" in html
    assert str(theirs.client_uuid) not in html


def test_latest_incidents_link_to_their_pages_newest_first(users):
    old = in_ariha(occurred_at=at("2021-01-05"))
    new = in_ariha(occurred_at=at("2021-02-05"))
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    assert html.index(f"/incidents/{new.client_uuid}/") < html.index(
        f"/incidents/{old.client_uuid}/"
    )


def test_the_latest_list_is_capped(users):
    for day in range(1, 26):
        in_ariha(occurred_at=at(f"2021-01-{day:02d}"))
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    assert html.count('href="/incidents/') == 20


def test_reporter_names_never_appear(users):
    in_ariha(occurred_at=at("2021-01-05"), reporter=users["reporter_b"])
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    assert "rep-b" not in html


def test_user_text_is_escaped(users):
    in_ariha(occurred_at=at("2021-01-05"), place_name=XSS)
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_camps_of_a_subdistrict_are_listed_by_pcode(users):
    html = signed_in(users["partner"]).get("/zones/SY070301/").text
    # Al Karama has no point; its P-code places it.
    assert 'href="/camps/ACU-AL-KARAMA/"' in html
    assert 'href="/camps/ACU-ATMA/"' in html
    assert 'href="/camps/ACU-JARABLUS/"' not in html


def test_camps_are_found_by_their_point_in_agreement_zones(users):
    Camp.objects.create(
        site_id="TEST-NAYRAB",
        name_en="Camp by the M4",
        camp_type=Camp.Type.INFORMAL_SETTLEMENT,
        location=Point(*NAYRAB, srid=4326),
    )
    html = signed_in(users["analyst"]).get("/zones/M4-SC/").text
    assert 'href="/camps/TEST-NAYRAB/"' in html
    assert 'href="/camps/ACU-ATMA/"' not in html


def test_the_map_fetches_a_simplified_outline_from_the_api(users):
    html = signed_in(users["analyst"]).get("/zones/SY070500/").text
    config = json_config(html, "zone-map-config")
    assert config["outlineUrl"].startswith("/api/v1/zones/SY070500/?format=geojson&simplify=")
    client = signed_in(users["analyst"])
    response = client.get(config["outlineUrl"])
    assert response.status_code == 200
    assert response.json()["geometry"]["type"] == "MultiPolygon"


def test_arabic_pages_show_arabic_zone_names(users):
    client = signed_in(users["analyst"])
    client.cookies["django_language"] = "ar"
    html = client.get("/zones/SY070500/", headers={"accept-language": "ar"}).text
    zone = Zone.objects.get(pcode="SY070500")
    assert 'dir="rtl"' in html
    assert zone.name_ar in html


def test_the_zone_page_uses_a_constant_number_of_queries(users, django_assert_max_num_queries):
    for day in range(1, 29):
        in_ariha(occurred_at=at(f"2021-02-{day:02d}"))
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(10):
        assert client.get("/zones/SY07/").status_code == 200


def test_the_index_uses_a_constant_number_of_queries(users, django_assert_max_num_queries):
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(6):
        assert client.get("/zones/").status_code == 200


@pytest.mark.parametrize("url", ["/zones/", "/zones/SY070500/"])
def test_zone_pages_have_no_inline_script_or_event_handlers(users, url):
    in_ariha(occurred_at=at("2021-01-05"), place_name=XSS)
    html = signed_in(users["analyst"]).get(url).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    tags = re.findall(r"<[a-z][^>]*>", html)
    assert not any(re.search(r"\son[a-z]+\s*=", tag) for tag in tags)
