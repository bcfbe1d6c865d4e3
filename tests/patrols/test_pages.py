"""The patrol list and a patrol's page (track, route, events): analysts, admins and partners."""

import datetime
import json
import re

import pytest
from django.test import Client

from patrols.models import PatrolEvent
from patrols.views import MAX_PAGE_SIZE
from tests.factories import PatrolEventFactory, PatrolFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

XSS = "<img src=x onerror=alert(1)>"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def patrol():
    patrol = PatrolFactory(notes=XSS)
    PatrolEventFactory(
        patrol=patrol,
        kind=PatrolEvent.Kind.BLOCKED_ROAD,
        occurred_at=datetime.datetime(2020, 7, 14, 7, 40, tzinfo=datetime.UTC),
        description=XSS,
    )
    PatrolEventFactory(
        patrol=patrol,
        kind=PatrolEvent.Kind.PROTEST,
        occurred_at=datetime.datetime(2020, 7, 14, 6, 10, tzinfo=datetime.UTC),
    )
    return patrol


def test_patrol_pages_ask_anonymous_visitors_to_sign_in(patrol):
    for url in ("/patrols/", f"/patrols/{patrol.pk}/"):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["reporter_a", "no_role"])
def test_patrol_pages_are_refused_to_reporters_as_in_the_api(patrol, users, who):
    client = signed_in(users[who])
    assert client.get("/patrols/").status_code == 403
    assert client.get(f"/patrols/{patrol.pk}/").status_code == 403


@pytest.mark.parametrize("who", ["partner", "analyst", "admin"])
def test_patrol_pages_are_served_to_partners_analysts_and_admins(patrol, users, who):
    client = signed_in(users[who])
    assert client.get("/patrols/").status_code == 200
    assert client.get(f"/patrols/{patrol.pk}/").status_code == 200


def test_an_unknown_patrol_is_not_found(users):
    assert signed_in(users["analyst"]).get("/patrols/999999/").status_code == 404


def test_events_are_listed_in_time_order_with_their_kinds(patrol, users):
    html = signed_in(users["partner"]).get(f"/patrols/{patrol.pk}/").text
    protest, blocked = html.index("Protest"), html.index("Blocked road")
    assert protest < blocked
    # Times in Damascus time (UTC+3 in July 2020).
    assert "2020-07-14 09:10" in html
    assert "2020-07-14 10:40" in html


def test_user_text_is_escaped(patrol, users):
    html = signed_in(users["analyst"]).get(f"/patrols/{patrol.pk}/").text
    assert XSS not in html
    assert html.count("&lt;img src=x onerror=alert(1)&gt;") == 2


def test_the_map_fetches_the_track_and_route_from_the_api(patrol, users):
    client = signed_in(users["partner"])
    html = client.get(f"/patrols/{patrol.pk}/").text
    match = re.search(
        r'<script id="patrol-map-config" type="application/json">(.*?)</script>', html
    )
    config = json.loads(match.group(1))
    track = client.get(config["patrolUrl"]).json()
    assert track["geometry"]["type"] == "LineString"
    assert len(track["properties"]["events"]) == 2
    assert client.get(config["routeUrl"]).json()["geometry"]["type"] == "LineString"


def test_the_index_links_each_patrol_newest_first(users):
    older = PatrolFactory(date=datetime.date(2020, 6, 1))
    newer = PatrolFactory(date=datetime.date(2020, 8, 1))
    html = signed_in(users["analyst"]).get("/patrols/").text
    assert html.index(f'href="/patrols/{newer.pk}/"') < html.index(f'href="/patrols/{older.pk}/"')


def test_the_index_page_size_is_capped(users):
    PatrolFactory.create_batch(MAX_PAGE_SIZE + 5)
    html = signed_in(users["analyst"]).get("/patrols/?page_size=100000").text
    assert len(re.findall(r'href="/patrols/\d+/"', html)) == MAX_PAGE_SIZE
    assert 'rel="next"' in html


def test_the_index_filters_by_status(users):
    cut = PatrolFactory(status="cut_short")
    done = PatrolFactory(status="completed")
    html = signed_in(users["analyst"]).get("/patrols/?status=cut_short").text
    assert f'href="/patrols/{cut.pk}/"' in html
    assert f'href="/patrols/{done.pk}/"' not in html


def test_the_patrol_page_uses_a_constant_number_of_queries(
    patrol, users, django_assert_max_num_queries
):
    PatrolEventFactory.create_batch(10, patrol=patrol)
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(7):
        assert client.get(f"/patrols/{patrol.pk}/").status_code == 200


def test_the_index_uses_a_constant_number_of_queries(users, django_assert_max_num_queries):
    PatrolFactory.create_batch(30)
    client = signed_in(users["analyst"])
    with django_assert_max_num_queries(7):
        assert client.get("/patrols/").status_code == 200


def test_patrol_pages_have_no_inline_script_or_event_handlers(patrol, users):
    for url in ("/patrols/", f"/patrols/{patrol.pk}/"):
        html = signed_in(users["analyst"]).get(url).text
        for tag in re.findall(r"<script\b[^>]*>", html):
            assert "src=" in tag or 'type="application/json"' in tag, tag
        assert not any(
            re.search(r"\son[a-z]+\s*=", tag) for tag in re.findall(r"<[a-z][^>]*>", html)
        )
