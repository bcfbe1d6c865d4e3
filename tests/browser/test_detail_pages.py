"""Zone, camp and patrol pages in headless Chromium against the real stack and the demo data:
each draws its map (SVG paths in Leaflet's overlay pane) and its chart (a canvas) without a
JavaScript error, in English and in Arabic, with map tiles unreachable (closed networks)."""

import os
from pathlib import Path

import pytest

from patrols.models import Patrol

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
# Set DETAIL_SCREENSHOTS=/some/dir to keep screenshots of the pages for a person to look at.
SCREENSHOTS = os.environ.get("DETAIL_SCREENSHOTS")


def screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


@pytest.fixture
def open_page(app_stack, browser, admin_credentials, demo_data):
    """Sign in as the committed superuser in a fresh context; returns (page, errors)."""
    contexts = []

    def open_(language: str = "en", viewport=None):
        context = browser.new_context(viewport=viewport or {"width": 1280, "height": 900})
        contexts.append(context)
        # No tile server on closed networks (nor here): the maps must work without one.
        context.route("**/*", _only_the_app(app_stack.base_url))
        context.add_cookies(
            [{"name": "django_language", "value": language, "url": app_stack.base_url}]
        )
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(app_stack.base_url + "/accounts/login/")
        page.fill("#id_username", admin_credentials["username"])
        page.fill("#id_password", admin_credentials["password"])
        with page.expect_navigation():
            page.click("main button[type=submit]")
        assert "/accounts/login/" not in page.url, "sign-in failed"
        return page, errors

    yield open_
    for context in contexts:
        context.close()


def _only_the_app(base_url: str):
    def handle(route):
        if route.request.url.startswith(base_url):
            route.continue_()
        else:
            route.abort()

    return handle


def wait_for_map(page, selector: str) -> None:
    page.wait_for_selector(f"{selector}.map-ready")
    page.wait_for_selector(f"{selector} .leaflet-overlay-pane path")


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_zone_page_draws_its_outline_and_chart(open_page, app_stack, language):
    page, errors = open_page(language)
    page.goto(app_stack.base_url + "/zones/SY07/")
    wait_for_map(page, "#zone-map")
    page.wait_for_selector("#zone-chart.chart-ready")
    assert page.locator("#zone-map .leaflet-overlay-pane path").count() >= 1
    box = page.locator("#zone-chart").bounding_box()
    assert box["width"] > 200 and box["height"] > 100
    assert page.locator(".incident-list li").count() == 20
    assert page.evaluate("document.documentElement.dir") == ("rtl" if language == "ar" else "ltr")
    screenshot(page, f"zone-{language}")
    assert errors == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_camp_page_draws_its_circles_and_population_chart(open_page, app_stack, language):
    page, errors = open_page(language)
    page.goto(app_stack.base_url + "/camps/ACU-ATMA/?at=2021-03-01")
    wait_for_map(page, "#camp-map")
    page.wait_for_selector("#camp-chart.chart-ready")
    # Three circles and the camp's marker.
    assert page.locator("#camp-map .leaflet-overlay-pane path").count() == 4
    assert page.locator("#near-counts tbody tr").count() == 3
    screenshot(page, f"camp-{language}")
    assert errors == []


@pytest.mark.parametrize("language", ["en", "ar"])
def test_the_patrol_page_draws_the_route_track_and_events(open_page, app_stack, language):
    patrol = (
        Patrol.objects.filter(track__isnull=False, events__isnull=False).order_by("date").first()
    )
    page, errors = open_page(language)
    page.goto(f"{app_stack.base_url}/patrols/{patrol.pk}/")
    wait_for_map(page, "#patrol-map")
    # The route, the track, and one marker per located event.
    located = patrol.events.filter(location__isnull=False).count()
    assert page.locator("#patrol-map .leaflet-overlay-pane path").count() == 2 + located
    assert page.locator(".event-list li").count() == patrol.events.count()
    screenshot(page, f"patrol-{language}")
    assert errors == []


def test_the_index_pages_lead_to_the_detail_pages(open_page, app_stack):
    page, errors = open_page("en")
    page.goto(app_stack.base_url + "/zones/")
    page.click("text=Idleb")
    page.wait_for_url("**/zones/SY07/")
    page.goto(app_stack.base_url + "/camps/")
    page.click("a[href='/camps/ACU-ATMA/']")
    page.wait_for_url("**/camps/ACU-ATMA/")
    page.goto(app_stack.base_url + "/patrols/")
    page.locator("table a[href^='/patrols/']").first.click()
    wait_for_map(page, "#patrol-map")
    assert errors == []


def test_the_zone_page_fits_a_phone_screen(open_page, app_stack):
    page, errors = open_page("ar", viewport=PHONE)
    page.goto(app_stack.base_url + "/zones/SY0703/")
    wait_for_map(page, "#zone-map")
    page.wait_for_selector("#zone-chart.chart-ready")
    # The page's own content (the site header belongs to base.html) stays within the screen.
    wide = page.evaluate(
        """() => [...document.querySelectorAll('main *')]
        .filter((node) => { const box = node.getBoundingClientRect();
                            return box.right > window.innerWidth + 1 || box.left < -1; })
        .filter((node) => !node.closest('.table-scroll, .leaflet-container'))
        .map((node) => node.tagName + '.' + node.className)"""
    )
    assert wide == []
    screenshot(page, "zone-phone-ar")
    assert errors == []
