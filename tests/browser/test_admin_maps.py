"""The admin shows the reference data on Leaflet maps (headless Chromium through Playwright)."""

import pytest

from zones.models import Zone

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.fixture
def admin_page(app_stack, browser, admin_credentials):
    context = browser.new_context()
    page = context.new_page()
    page.goto(app_stack.base_url + "/admin/login/")
    page.fill("#id_username", admin_credentials["username"])
    page.fill("#id_password", admin_credentials["password"])
    page.click("input[type=submit]")
    page.wait_for_url(app_stack.base_url + "/admin/")
    yield page
    context.close()


def test_a_subdistrict_is_drawn_on_the_admin_map(admin_page, app_stack):
    ariha = Zone.objects.get(pcode="SY070500")
    admin_page.goto(f"{app_stack.base_url}/admin/zones/zone/{ariha.pk}/change/")
    admin_page.wait_for_selector(".leaflet-container")
    # The polygon is an SVG path in Leaflet's overlay pane.
    admin_page.wait_for_selector(".leaflet-overlay-pane path")
    assert admin_page.locator(".leaflet-overlay-pane path").count() >= 1
    assert "Ariha" in admin_page.content()


def test_the_m4_corridor_and_patrol_route_are_drawn(admin_page, app_stack):
    from patrols.models import Route

    corridor = Zone.objects.corridors().get()
    admin_page.goto(f"{app_stack.base_url}/admin/zones/zone/{corridor.pk}/change/")
    admin_page.wait_for_selector(".leaflet-overlay-pane path")
    route = Route.objects.get(slug="m4-patrol")
    admin_page.goto(f"{app_stack.base_url}/admin/patrols/route/{route.pk}/change/")
    admin_page.wait_for_selector(".leaflet-overlay-pane path")


def test_the_zone_list_is_searchable_by_arabic_name(admin_page, app_stack):
    admin_page.goto(f"{app_stack.base_url}/admin/zones/zone/?q=أريحا")
    assert admin_page.locator("#result_list tbody tr").count() >= 1
    assert "SY070500" in admin_page.content()
