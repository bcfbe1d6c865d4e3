"""The report form in headless Chromium against the real stack: gazetteer, map, GPS, the offline
outbox (a report is kept, sent when the connection returns, stored once), photos, My reports."""

import os
import uuid
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from PIL import Image

from incidents.models import Attachment, Incident, ReviewStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

XSS = "<img src=x onerror=alert(1)>"
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def reporter_login(django_db_setup, django_db_blocker):
    """A reporter committed for the stack's processes to see (module scope: created before, and
    outside, each test's transaction), with a name unique to this run."""
    username = f"field-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = get_user_model().objects.create_user(username=username, password="pw-field-123")
        user.groups.add(Group.objects.get(name="reporter"))
    return {"user": user, "username": username, "password": "pw-field-123"}


@pytest.fixture
def context(browser):
    # The form and its outbox as the page drives them, without the service worker: the worker's
    # own requests (Background Sync) pass by Playwright's offline switch and routes, which these
    # tests use to cut the API. The worker is tested through a link cut for real, in
    # test_offline_app.py.
    context = browser.new_context(viewport=PHONE, locale="en-GB", service_workers="block")
    yield context
    context.close()


@pytest.fixture
def page(app_stack, context, reporter_login):
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.dialogs = dialogs
    page.goto(app_stack.base_url + "/accounts/login/?next=/report/")
    page.fill("#id_username", reporter_login["username"])
    page.fill("#id_password", reporter_login["password"])
    page.click("main button[type=submit]")
    page.wait_for_url(app_stack.base_url + "/report/")
    page.wait_for_selector("#report-map.leaflet-container")
    return page


def reports_with(marker: str):
    return Incident.all_objects.filter(description__contains=marker)


def choose_type(page, sub="shelling-artillery-missile-attack"):
    page.select_option("#id_event_type", "explosions-remote-violence")
    page.select_option("#id_sub_event_type", sub)


def tap_map_centre(page):
    box = page.locator("#report-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_selector("#point-status:not(:empty)")


def gps_jpeg(path) -> str:
    exif = Image.Exif()
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2], gps[3], gps[4] = "N", (35.0, 52.0, 3.0), "E", (36.0, 42.0, 11.0)
    Image.new("RGB", (40, 30), (90, 90, 200)).save(path, format="JPEG", exif=exif.tobytes())
    return str(path)


def test_a_village_found_by_part_of_its_arabic_name_is_reported(page, reporter_login):
    marker = f"arabic-search-{uuid.uuid4().hex}"
    page.locator("#place-search").press_sequentially("سرمي", delay=30)
    page.locator(".suggestion", has_text="سرمين").first.click()
    assert "Sarmin" in page.input_value("#id_place_name")
    assert page.input_value("#id_location_precision") == "town"
    choose_type(page)
    page.fill("#id_explosions_count", "4")
    page.select_option("#id_direction", "NE")
    page.fill("#id_distance_estimate_m", "1500")
    page.fill("#id_description", marker)
    page.click("#send-button")
    page.wait_for_selector("#form-status.ok")

    report = reports_with(marker).get()
    assert report.review_status == ReviewStatus.SUBMITTED
    assert report.reporter_id == reporter_login["user"].pk
    assert report.subdistrict is not None  # zones assigned: it is in the review queue's scope
    assert (report.explosions_count, report.direction, report.distance_estimate_m) == (
        4,
        "NE",
        1500,
    )
    assert abs(report.location.x - 36.72) < 0.05 and abs(report.location.y - 35.86) < 0.05


def test_a_report_sent_offline_is_kept_and_sent_once_when_back_online(page, context, tmp_path):
    marker = f"offline-{uuid.uuid4().hex}"
    tap_map_centre(page)
    choose_type(page)
    page.fill("#id_description", marker)
    page.set_input_files("#id_photos", gps_jpeg(tmp_path / "IMG_0001.jpg"))
    page.wait_for_selector(".photo-item")

    context.set_offline(True)
    page.click("#send-button")
    page.wait_for_selector("#form-status.queued")
    page.wait_for_selector("#outbox-status[data-count='1']")
    assert not reports_with(marker).exists()

    context.set_offline(False)
    page.wait_for_selector("#outbox-status[data-count='0']", state="attached", timeout=30_000)
    report = reports_with(marker).get()
    assert reports_with(marker).count() == 1
    photo = Attachment.objects.get(incident=report)
    assert (photo.content_type, photo.width, photo.height) == ("image/jpeg", 40, 30)


def test_a_report_whose_answer_was_lost_is_stored_once(page, app_stack):
    """The request reached the server but the phone heard nothing: the retry gets 200."""
    marker = f"lost-answer-{uuid.uuid4().hex}"
    lost = []

    def lose_the_answer(route):
        if route.request.method == "POST" and not lost:
            route.fetch()  # the server stores the report ...
            lost.append(True)
            route.abort("connectionreset")  # ... and the answer is lost on the way back
        else:
            route.continue_()

    page.route("**/api/v1/incidents/", lose_the_answer)
    tap_map_centre(page)
    choose_type(page)
    page.fill("#id_description", marker)
    page.click("#send-button")
    page.wait_for_selector("#form-status.queued")
    assert reports_with(marker).count() == 1
    page.wait_for_selector("#outbox-status[data-count='0']", state="attached", timeout=30_000)
    assert reports_with(marker).count() == 1


def test_field_errors_from_the_server_are_shown_next_to_the_fields(page):
    tap_map_centre(page)
    choose_type(page)
    page.fill("#id_occurred_at", "2035-01-01T10:00")  # in the future: refused by the server
    page.click("#send-button")
    error = page.locator("[data-error-for=occurred_at]")
    error.wait_for()
    assert error.inner_text().strip()
    assert page.get_attribute("#id_occurred_at", "aria-invalid") == "true"
    assert page.get_attribute("#outbox-status", "data-count") == "0"


def test_the_form_needs_a_place_before_sending(page):
    choose_type(page)
    page.click("#send-button")
    assert page.locator("[data-error-for=location]").inner_text().strip()


def test_gps_sets_the_point(browser, app_stack, reporter_login):
    context = browser.new_context(
        service_workers="block",
        viewport=PHONE,
        geolocation={"latitude": 35.8636, "longitude": 36.8006, "accuracy": 25},
        permissions=["geolocation"],
    )
    try:
        page = context.new_page()
        page.goto(app_stack.base_url + "/accounts/login/?next=/report/")
        page.fill("#id_username", reporter_login["username"])
        page.fill("#id_password", reporter_login["password"])
        page.click("main button[type=submit]")
        page.wait_for_url(app_stack.base_url + "/report/")
        page.click("#gps-button")
        page.wait_for_selector("#point-status:has-text('35.86360')")
        assert page.input_value("#id_location_precision") == "exact"
    finally:
        context.close()


def test_my_reports_shows_a_description_with_markup_as_text(page, app_stack):
    marker = uuid.uuid4().hex
    description = f"{XSS} {marker}"
    tap_map_centre(page)
    choose_type(page)
    page.fill("#id_description", description)
    page.click("#send-button")
    page.wait_for_selector("#form-status.ok")

    page.goto(app_stack.base_url + "/report/mine/")
    item = page.locator(".report-item", has_text=marker)
    assert item.locator(".report-description").inner_text() == description
    assert item.locator(".status").inner_text() == "Submitted"
    assert page.locator("#my-report-list img").count() == 0
    assert page.dialogs == []


def test_my_reports_lists_the_unsent_outbox_by_type_and_time_not_its_text(page, app_stack):
    """The outbox is sealed on the device: My reports shows each waiting report by its type and
    when it was written, never its text (markup or not)."""
    marker = uuid.uuid4().hex
    # The API is unreachable (pages still load): the report waits on the device.
    page.route("**/api/v1/incidents/", lambda route: route.abort("internetdisconnected"))
    tap_map_centre(page)
    choose_type(page)
    page.fill("#id_description", f"{XSS} {marker}")
    page.click("#send-button")
    page.wait_for_selector("#form-status.queued")

    page.goto(app_stack.base_url + "/report/mine/")
    item = page.locator("#outbox-list .outbox-item").last
    item.wait_for()
    assert item.locator("strong").inner_text() == "Shelling/artillery/missile attack"
    assert item.locator(".report-meta.small").inner_text() == (
        "Encrypted on this device: only the server can read it."
    )
    assert marker not in page.content()
    assert page.locator("#outbox-list img").count() == 0
    assert page.dialogs == []
    if os.environ.get("REPORT_SCREENSHOT_DIR"):
        page.screenshot(path=f"{os.environ['REPORT_SCREENSHOT_DIR']}/mine.png", full_page=True)

    page.unroute("**/api/v1/incidents/")
    item.get_by_role("button", name="Send now").click()
    page.wait_for_selector(f"#my-report-list .report-item >> text={marker}", timeout=30_000)
    page.wait_for_selector("#outbox-status[data-count='0']", state="attached")
    assert reports_with(marker).count() == 1


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_form_fits_a_phone_screen(page, app_stack, language, tmp_path):
    page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": app_stack.base_url}]
    )
    page.goto(app_stack.base_url + "/report/")
    page.wait_for_selector("#report-map.leaflet-container")
    assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
    folder = Path(os.environ.get("REPORT_SCREENSHOT_DIR", tmp_path))
    page.screenshot(path=str(folder / f"report-{language}.png"), full_page=True)
    # Nothing in the form runs off a phone's screen (the site header belongs to base.html).
    edges = page.evaluate(
        "[...document.querySelectorAll('#report-form *:not(.leaflet-container *)')]"
        ".filter(e => e.offsetParent)"
        ".map(e => e.getBoundingClientRect()).reduce((m, r) => "
        "[Math.min(m[0], r.left), Math.max(m[1], r.right)], [1e9, -1e9])"
    )
    assert edges[0] >= 0 and edges[1] <= PHONE["width"]
