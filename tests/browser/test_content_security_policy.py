"""A strict Content-Security-Policy (no 'unsafe-inline') breaks no page: every page of the app,
the admin's map widgets and the API docs load in Chromium without a single CSP violation."""

import pytest

from zones.models import Zone

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PAGES = [
    "/",
    "/report/",
    "/report/mine/",
    "/review/",
    "/zones/",
    "/zones/SY070500/",
    "/camps/",
    "/patrols/",
    "/alerts/",
    "/briefs/",
    "/api/docs/",
]


@pytest.fixture
def signed_in_page(app_stack, browser, admin_credentials, demo_data):
    context = browser.new_context()
    # Only the app: no tile server here, and no third-party request may be needed.
    context.route(
        "**/*",
        lambda route: (
            route.continue_() if route.request.url.startswith(app_stack.base_url) else route.abort()
        ),
    )
    page = context.new_page()
    violations = []
    page.on(
        "console",
        lambda message: (
            "Content Security Policy" in message.text
            and violations.append(f"{page.url}: {message.text}")
        ),
    )
    page.goto(app_stack.base_url + "/admin/login/")
    page.fill("#id_username", admin_credentials["username"])
    page.fill("#id_password", admin_credentials["password"])
    page.click("input[type=submit]")
    page.wait_for_url(app_stack.base_url + "/admin/")
    yield page, violations
    context.close()


def test_every_page_sends_a_strict_policy_and_breaks_none_of_it(signed_in_page, app_stack):
    page, violations = signed_in_page
    for path in PAGES:
        response = page.goto(app_stack.base_url + path)
        assert response.status == 200, path
        policy = dict(
            directive.strip().split(" ", 1)
            for directive in response.headers["content-security-policy"].split(";")
        )
        assert "unsafe" not in policy["script-src"] and "unsafe" not in policy["default-src"]
        # Swagger UI (third-party) injects <style> elements: inline styles on that page only.
        if path != "/api/docs/":
            assert "unsafe" not in policy["style-src"]
        assert policy["frame-ancestors"] == "'none'"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_admin_map_widget_runs_under_the_policy(signed_in_page, app_stack):
    page, violations = signed_in_page
    ariha = Zone.objects.get(pcode="SY070500")
    page.goto(f"{app_stack.base_url}/admin/zones/zone/{ariha.pk}/change/")
    page.wait_for_selector(".leaflet-overlay-pane path")
    assert violations == []
