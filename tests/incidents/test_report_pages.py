"""The report form and "My reports" as served (the browser tests drive them in Chromium)."""

import json
import re

import pytest
from django.test import Client

from incidents.models import ReviewStatus
from incidents.report_views import MY_REPORTS_PAGE_SIZE
from incidents.services import incident_review
from tests.incidents.test_api import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

XSS = "<img src=x onerror=alert(1)>"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def config_of(html: str) -> dict:
    match = re.search(r'<script id="report-config" type="application/json">(.*?)</script>', html)
    return json.loads(match.group(1))


@pytest.mark.parametrize("url", ["/report/", "/report/mine/"])
def test_pages_ask_anonymous_visitors_to_sign_in(url):
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("url", ["/report/", "/report/mine/"])
@pytest.mark.parametrize("who", ["partner", "no_role"])
def test_pages_are_for_reporting_roles_only(users, url, who):
    assert signed_in(users[who]).get(url).status_code == 403


@pytest.mark.parametrize("who", ["reporter_a", "analyst", "admin"])
def test_the_form_is_served_to_reporting_roles(users, who):
    response = signed_in(users[who]).get("/report/")
    assert response.status_code == 200
    assert 'id="report-form"' in response.text


@pytest.mark.parametrize("url", ["/report/", "/report/mine/"])
def test_pages_have_no_inline_script_or_event_handlers(users, url):
    """A later CSP forbids 'unsafe-inline': every script is a file or JSON data."""
    html = signed_in(users["reporter_a"]).get(url).text
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag
    for body in re.findall(r"<script\b[^>]*src=[^>]*>(.*?)</script>", html, re.S):
        assert body.strip() == ""
    assert not re.search(r"\son[a-z]+\s*=", html)
    assert "javascript:" not in html


def test_the_form_uses_leaflet_from_our_own_static_files(users):
    html = signed_in(users["reporter_a"]).get("/report/").text
    assert "/static/leaflet/leaflet.js" in html
    assert "/static/leaflet/leaflet.css" in html
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_the_form_config_names_the_endpoints_taxonomy_and_user(users):
    config = config_of(signed_in(users["reporter_a"]).get("/report/").text)
    assert config["submitUrl"] == "/api/v1/incidents/"
    assert config["localitiesUrl"] == "/api/v1/localities/"
    assert config["attachmentsUrl"].endswith("/attachments/")
    assert config["user"] == "rep-a"
    shelling = next(t for t in config["taxonomy"] if t["slug"] == "explosions-remote-violence")
    assert "shelling-artillery-missile-attack" in [s["slug"] for s in shelling["sub_types"]]
    assert config["messages"]["queued"]


def test_the_form_is_translated_into_arabic(users):
    client = signed_in(users["reporter_a"])
    response = client.get("/report/", headers={"accept-language": "ar"})
    assert 'dir="rtl"' in response.text
    assert config_of(response.text)["lang"] == "ar"


def test_my_reports_lists_only_my_reports_newest_first_with_status(users):
    first = submit(users["reporter_a"], place_name="Sarmin")
    second = submit(users["reporter_a"], place_name="Ariha")
    submit(users["reporter_b"], place_name="Atmeh")
    incident_review(
        incident=first,
        reviewer=users["analyst"],
        status=ReviewStatus.REJECTED,
        note="No second source",
    )
    html = signed_in(users["reporter_a"]).get("/report/mine/").text
    ids = re.findall(r'class="report-item" data-id="([0-9a-f-]+)"', html)
    assert ids == [str(second.client_uuid), str(first.client_uuid)]
    assert "Atmeh" not in html
    assert "Rejected" in html and "Submitted" in html
    assert "No second source" in html


def test_my_reports_escapes_what_reporters_wrote(users):
    submit(users["reporter_a"], description=XSS, place_name=XSS)
    html = signed_in(users["reporter_a"]).get("/report/mine/").text
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_my_reports_is_paginated(users, django_assert_max_num_queries):
    for _ in range(MY_REPORTS_PAGE_SIZE + 3):
        submit(users["reporter_a"])
    client = signed_in(users["reporter_a"])
    with django_assert_max_num_queries(12):
        first_page = client.get("/report/mine/").text
    assert first_page.count('class="report-item"') == MY_REPORTS_PAGE_SIZE
    assert client.get("/report/mine/?page=2").text.count('class="report-item"') == 3
