"""The review queue and the incident page in headless Chromium against the real stack: verify,
mark a duplicate from the suggestions, user text shown as text, the incident map, phone and RTL."""

import datetime
import os
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.db import connection
from django.utils import timezone

from incidents.models import Incident, ReviewStatus, SubEventType
from incidents.services import incident_review, incident_submit
from tests.factories import ARIHA

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

XSS = "<img src=x onerror=alert(1)>"
PHONE = {"width": 390, "height": 844}
# Set REVIEW_SCREENSHOTS=/some/dir to keep screenshots of the pages for a person to look at.
SCREENSHOTS = os.environ.get("REVIEW_SCREENSHOTS")


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def committed(app_stack, django_db_blocker):
    """Users and reports committed for the stack's processes to see; the reports are removed
    after the test.

    The test itself runs inside a transaction (django_db) that other processes cannot see, so
    these writes go through a thread of their own: its own database connection, in autocommit.
    """
    created = []
    worker = ThreadPoolExecutor(max_workers=1)

    def run(function, *args, **kwargs):
        with django_db_blocker.unblock():
            return worker.submit(function, *args, **kwargs).result()

    def make_user(role: str):
        username = f"{role}-{uuid.uuid4().hex[:8]}"
        person = get_user_model().objects.create_user(username=username, password=f"pw-{role}")
        person.groups.add(Group.objects.get(name=role))
        return {"user": person, "username": username, "password": f"pw-{role}"}

    def make_report(reporter, metres_east, hours_ago, extra):
        sub_type = SubEventType.objects.select_related("event_type").get(
            slug="shelling-artillery-missile-attack"
        )
        data = {
            "occurred_at": timezone.now() - datetime.timedelta(hours=hours_ago),
            "location": Point(ARIHA[0] + metres_east / 90_200, ARIHA[1], srid=4326),
            "place_name": extra.pop("place_name", "Ariha"),
            "event_type": sub_type.event_type,
            "sub_event_type": sub_type,
            **extra,
        }
        incident = incident_submit(
            reporter=reporter["user"], client_uuid=uuid.uuid4(), data=data
        ).incident
        created.append(incident.pk)
        return incident

    def remove_reports():
        # Duplicates first: they point at their originals.
        rows = Incident.all_objects.filter(pk__in=created)
        rows.filter(duplicate_of__isnull=False).delete()
        rows.delete()
        connection.close()

    class Committed:
        @staticmethod
        def user(role: str):
            return run(make_user, role)

        @staticmethod
        def report(reporter, *, metres_east=0.0, hours_ago=20.0, **extra):
            return run(make_report, reporter, metres_east, hours_ago, extra)

        @staticmethod
        def review(incident, reviewer, status, **kwargs):
            return run(
                lambda: incident_review(
                    incident=incident, reviewer=reviewer["user"], status=status, **kwargs
                )
            )

        @staticmethod
        def fetch(incident) -> Incident:
            return run(lambda: Incident.all_objects.get(pk=incident.pk))

        @staticmethod
        def visible_to(user, incident) -> bool:
            return run(lambda: Incident.objects.visible_to(user).filter(pk=incident.pk).exists())

    yield Committed
    run(remove_reports)
    worker.shutdown()


def sign_in(browser, app_stack, account, *, viewport=None, locale="en-GB"):
    context = browser.new_context(
        viewport=viewport or {"width": 1280, "height": 900}, locale=locale
    )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(app_stack.base_url + "/accounts/login/")
    page.fill("#id_username", account["username"])
    page.fill("#id_password", account["password"])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    assert "/accounts/login/" not in page.url, "sign-in failed"
    return context, page


@pytest.fixture
def analyst(committed):
    return committed.user("analyst")


@pytest.fixture
def reporter(committed):
    return committed.user("reporter")


@pytest.fixture
def analyst_page(browser, app_stack, analyst):
    context, page = sign_in(browser, app_stack, analyst)
    yield page
    context.close()


def verified_ids(page, app_stack) -> set[str]:
    response = page.request.get(
        app_stack.base_url + "/api/v1/incidents/?review_status=verified&page_size=1000"
    )
    assert response.ok
    return {row["id"] for row in response.json()["results"]}


def test_an_analyst_verifies_a_report_and_it_is_listed_as_verified(
    analyst_page, app_stack, committed, reporter
):
    report = committed.report(reporter, place_name="Ariha west")
    page = analyst_page
    page.goto(app_stack.base_url + "/review/")
    item = page.locator(f"#report-{report.client_uuid}")
    screenshot(page, "queue")
    item.locator("button.decision-verified").click()
    page.wait_for_selector(".messages li")
    assert page.locator(f"#report-{report.client_uuid}").count() == 0
    assert str(report.client_uuid) in verified_ids(page, app_stack)
    assert committed.fetch(report).review_status == ReviewStatus.VERIFIED


def test_marking_a_suggested_duplicate_hides_it(analyst_page, app_stack, committed, reporter):
    original = committed.report(reporter, place_name="Original")
    copy = committed.report(reporter, metres_east=400, hours_ago=21, place_name="Copy")
    committed.review(original, committed.user("analyst"), ReviewStatus.VERIFIED)
    page = analyst_page
    page.goto(app_stack.base_url + "/review/")
    item = page.locator(f"#report-{copy.client_uuid}")
    item.locator(".candidates-toggle").click()
    use = item.locator(f'.use-candidate[data-uuid="{original.client_uuid}"]')
    use.wait_for()
    assert re.search(r"\b(39\d|40\d) m away", item.locator(".candidates").inner_text())
    screenshot(page, "queue-candidates")
    use.click()
    assert item.locator(".duplicate-of-input").input_value() == str(original.client_uuid)
    item.locator("button.decision-duplicate").click()
    page.wait_for_selector(".messages li")
    assert page.locator(f"#report-{copy.client_uuid}").count() == 0
    ids = verified_ids(page, app_stack)
    assert str(original.client_uuid) in ids
    assert str(copy.client_uuid) not in ids
    copy = committed.fetch(copy)
    assert (copy.review_status, copy.duplicate_of_id) == (ReviewStatus.DUPLICATE, original.pk)
    assert not committed.visible_to(committed.user("partner")["user"], copy)


def test_rejecting_without_a_reason_shows_the_field_error(
    analyst_page, app_stack, committed, reporter
):
    report = committed.report(reporter)
    page = analyst_page
    page.goto(app_stack.base_url + "/review/")
    page.locator(f"#report-{report.client_uuid} button.decision-rejected").click()
    page.wait_for_selector(".error-summary")
    assert (
        "Give the reason for rejecting the report." in page.locator(".error-summary").inner_text()
    )
    assert committed.fetch(report).review_status == ReviewStatus.SUBMITTED


def test_markup_in_a_description_shows_as_text(analyst_page, app_stack, committed, reporter):
    report = committed.report(reporter, description=XSS, place_name=XSS)
    page = analyst_page
    page.goto(app_stack.base_url + "/review/")
    item = page.locator(f"#report-{report.client_uuid}")
    assert item.locator(".description").inner_text() == XSS
    assert item.locator("img").count() == 0
    page.goto(f"{app_stack.base_url}/incidents/{report.client_uuid}/")
    page.wait_for_selector("#incident-map.map-ready")
    assert page.locator(".description").inner_text() == XSS
    assert page.locator("main img[src=x]").count() == 0
    page.locator("#incident-map path.leaflet-interactive").hover()
    page.wait_for_selector(".leaflet-tooltip")
    assert page.locator(".leaflet-tooltip").inner_text() == XSS
    assert page.dialogs == []


def test_the_incident_page_draws_its_map_and_history_without_tiles(
    analyst_page, app_stack, committed, reporter
):
    report = committed.report(reporter, description="قصف مدفعي على أريحا")
    committed.review(report, committed.user("analyst"), ReviewStatus.VERIFIED, note="two sources")
    page = analyst_page
    # Tiles come from the internet, which a closed network (and this test) does not reach.
    page.route("**/tile.openstreetmap.org/**", lambda route: route.abort())
    page.goto(f"{app_stack.base_url}/incidents/{report.client_uuid}/")
    page.wait_for_selector("#incident-map.map-ready path.leaflet-interactive")
    history = page.locator("#history").inner_text()
    assert "Review decision" in history and "Verified" in history
    screenshot(page, "incident")


def test_a_partner_sees_the_grid_cell_not_the_point(browser, app_stack, committed, reporter):
    report = committed.report(reporter)
    committed.review(report, committed.user("analyst"), ReviewStatus.VERIFIED)
    context, page = sign_in(browser, app_stack, committed.user("partner"))
    page.goto(f"{app_stack.base_url}/incidents/{report.client_uuid}/")
    page.wait_for_selector("#incident-map.map-ready path.leaflet-interactive")
    assert reporter["username"] not in page.content()
    assert page.locator("#history").count() == 0
    context.close()


def wider_than_the_screen(page) -> list[str]:
    """Elements of the page's own content (main) that stick out of the screen on either side.

    The site header (base.html) is checked by its own tests; map panes are clipped by the map."""
    return page.evaluate(
        """[...document.querySelectorAll('main *')]
            .filter(e => !e.closest('.leaflet-container'))
            .filter(e => { const r = e.getBoundingClientRect();
                           return r.width && (r.left < -1 || r.right > innerWidth + 1); })
            .map(e => e.tagName + '.' + e.className)"""
    )


def test_the_queue_fits_a_phone_in_arabic(browser, app_stack, committed, reporter, analyst):
    report = committed.report(reporter, description="وصف التقرير")
    context, page = sign_in(browser, app_stack, analyst, viewport=PHONE, locale="ar")
    page.goto(app_stack.base_url + "/review/")
    page.locator("button[name=language][value=ar]").click()
    page.wait_for_selector("html[dir=rtl]")
    page.locator(f"#report-{report.client_uuid}").wait_for()
    assert wider_than_the_screen(page) == []
    screenshot(page, "queue-phone-ar")
    page.goto(f"{app_stack.base_url}/incidents/{report.client_uuid}/")
    page.wait_for_selector("#incident-map.map-ready")
    assert wider_than_the_screen(page) == []
    screenshot(page, "incident-phone-ar")
    context.close()
