"""The map dashboard at / in headless Chromium, against the running app with the demo data."""

import os
import re
from urllib.parse import parse_qs, urlparse

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

LAYER_LABELS = (
    "Incidents",
    "Incidents per sub-district",
    "M4 security corridor",
    "M4 patrol route",
    "Patrol tracks (period)",
    "Camps (by population)",
    "Observation posts",
)
# Where a test may leave screenshots for a person to look at (unset: none are taken).
SCREENSHOT_DIR = os.environ.get("DASHBOARD_SCREENSHOT_DIR")


@pytest.fixture
def signed_in(app_stack, browser, admin_credentials, demo_data):
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # Tiles do not load offline; every other request must succeed.
    page.on(
        "response",
        lambda r: (
            r.status >= 400 and "/favicon" not in r.url and errors.append(f"{r.status} {r.url}")
        ),
    )
    page.goto(app_stack.base_url + "/accounts/login/")
    page.fill("#id_username", admin_credentials["username"])
    page.fill("#id_password", admin_credentials["password"])
    page.click("main form button[type=submit]")
    page.wait_for_url(app_stack.base_url + "/")
    page.errors = errors
    yield page
    context.close()


def wait_until_ready(page):
    page.wait_for_selector("body[data-map-state=ready]")
    page.wait_for_selector("#incident-count[data-count]")


def shown_count(page) -> int:
    return int(page.locator("#incident-count").get_attribute("data-count"))


def test_signing_out_users_are_sent_to_the_login_page(app_stack, browser):
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_stack.base_url + "/")
    assert urlparse(page.url).path == "/accounts/login/"
    context.close()


def test_the_dashboard_shows_each_layer(signed_in, app_stack):
    page = signed_in
    wait_until_ready(page)
    labels = page.locator(".leaflet-control-layers-overlays label").all_inner_texts()
    for label in LAYER_LABELS:
        assert any(label == text.strip() for text in labels), (label, labels)
    # Incidents: clusters coloured by type (the whole area holds more than the point limit).
    page.wait_for_selector(".incident-cluster .cluster-ring")
    # Sub-districts, corridor, route and patrol tracks are SVG paths; camps are circles on
    # their own pane; observation posts are marker icons.
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-choropleth-pane path').length > 100"
    )
    page.wait_for_selector(".leaflet-corridor-pane path")
    page.wait_for_function(
        "() => document.querySelectorAll('.leaflet-lines-pane path').length >= 3"
    )
    page.wait_for_selector(".leaflet-places-pane path.camp-marker")
    page.wait_for_selector(".leaflet-marker-pane .post-icon")
    # The legend names every event type.
    legend = page.locator(".map-legend").inner_text()
    assert "Explosions/Remote violence" in legend and "Battles" in legend
    assert shown_count(page) > 0
    assert page.locator("#incident-list .incident-item").count() > 0
    if SCREENSHOT_DIR:
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, "dashboard-en.png"))
    assert page.errors == []


def test_zooming_in_shows_the_incidents_themselves_with_escaped_popups(signed_in, app_stack):
    page = signed_in
    page.goto(app_stack.base_url + "/?lat=35.86&lon=36.75&z=13")
    wait_until_ready(page)
    assert shown_count(page) <= 2000
    page.wait_for_selector(".leaflet-marker-pane .incident-marker")
    item = page.locator("#incident-list .incident-item").first
    link = item.locator("a.incident-link")
    assert re.fullmatch(r"/incidents/[0-9a-f-]{36}/", link.get_attribute("href"))
    item.locator("button.show-on-map").click()
    popup = page.locator(".leaflet-popup-content .incident-popup")
    popup.wait_for()
    assert popup.locator("a.popup-link").get_attribute("href") == link.get_attribute("href")
    if SCREENSHOT_DIR:
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, "dashboard-zoomed.png"))


def test_changing_the_date_range_changes_the_incidents_shown(signed_in, app_stack):
    page = signed_in
    wait_until_ready(page)
    everything = shown_count(page)
    first_before = page.locator("#incident-list .incident-item").first.get_attribute("data-id")
    page.fill("#filter-from", "2020-06-01")
    page.fill("#filter-to", "2020-06-30")
    page.dispatch_event("#filter-to", "change")
    page.wait_for_function(
        f"() => document.querySelector('#incident-count').dataset.count !== '{everything}'"
    )
    wait_until_ready(page)
    june = shown_count(page)
    assert 0 < june < everything
    times = page.locator("#incident-list .incident-item time").all_inner_texts()
    assert times and all(text.startswith("2020-06") for text in times)
    assert page.locator("#incident-list .incident-item").first.get_attribute("data-id") != (
        first_before
    )
    query = parse_qs(urlparse(page.url).query)
    assert query["from"] == ["2020-06-01"] and query["to"] == ["2020-06-30"]
    # A quick range resets it: the demo data lie years back, so the last 7 days hold none.
    page.click("[data-range='7d']")
    page.wait_for_function("() => document.querySelector('#incident-count').dataset.count === '0'")


def test_reloading_the_url_restores_the_view(signed_in, app_stack):
    page = signed_in
    wait_until_ready(page)
    page.check("input[name=type][value=battles]")
    page.check("input[name=status][value=verified]")
    page.select_option("#filter-zone", "SY0703")
    page.fill("#filter-from", "2021-01-01")
    page.dispatch_event("#filter-from", "change")
    page.locator(".leaflet-control-zoom-in").click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('z') === '9'")
    page.locator(
        ".leaflet-control-layers-overlays label", has_text="Camps (by population)"
    ).locator("input").uncheck()
    page.wait_for_function(
        "() => (new URLSearchParams(location.search).get('layers') || '') !== ''"
    )
    wait_until_ready(page)
    count = shown_count(page)
    url = page.url

    page.reload()
    wait_until_ready(page)
    query = parse_qs(urlparse(page.url).query)
    assert query["z"] == ["9"] and query["type"] == ["battles"] and query["zone"] == ["SY0703"]
    assert page.is_checked("input[name=type][value=battles]")
    assert not page.is_checked("input[name=type][value=protests]")
    assert page.is_checked("input[name=status][value=verified]")
    assert page.input_value("#filter-zone") == "SY0703"
    assert page.input_value("#filter-from") == "2021-01-01"
    assert (
        not page.locator(".leaflet-control-layers-overlays label", has_text="Camps (by population)")
        .locator("input")
        .is_checked()
    )
    assert page.evaluate("() => document.querySelectorAll('path.camp-marker').length") == 0
    assert shown_count(page) == count
    assert page.url == url


def test_the_dashboard_works_right_to_left_on_a_phone(signed_in, app_stack):
    page = signed_in
    page.click("button[name=language][value=ar]")
    page.wait_for_selector("html[dir=rtl]")
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(app_stack.base_url + "/")
    wait_until_ready(page)
    page.wait_for_selector(".leaflet-choropleth-pane path")
    # On a narrow screen the map comes first, above the filters.
    map_box = page.locator("#dashboard-map").bounding_box()
    filters_box = page.locator(".dashboard-panel").bounding_box()
    assert map_box["y"] < filters_box["y"] and map_box["width"] >= 380
    if SCREENSHOT_DIR:
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, "dashboard-ar-phone.png"), full_page=True)
        page.set_viewport_size({"width": 1280, "height": 860})
        page.screenshot(path=os.path.join(SCREENSHOT_DIR, "dashboard-ar.png"))
    assert page.errors == []
