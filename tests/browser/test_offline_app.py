"""The reporters' offline app in headless Chromium on a phone-sized screen, against its own stack
(so that it can be stopped and redeployed on the same address): the form opens offline after
one visit, in English and Arabic; a report written offline waits sealed (no clear text in
IndexedDB) and is sent exactly once when the network returns while the reporter is on another
page; a signed-out session keeps the queue; a refused or conflicting report stays with the
server's words; wipe leaves nothing; a new deployment's worker takes over and the queued report
still goes out."""

from __future__ import annotations

import json
import re
import time
import uuid
from types import SimpleNamespace

import pytest
import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from playwright.sync_api import Error as PlaywrightError

from incidents.models import Incident
from sealing.models import QuarantinedSubmission
from zones.models import Locality
from zones.text import normalize_name

pytestmark = [pytest.mark.browser, pytest.mark.django_db]

PHONE = {"width": 390, "height": 844}
PASSWORD = "pw-field-123"

BANNER_STATE = """() => Promise.all([
  document.getElementById('outbox-banner').outerHTML,
  window.CeasefireOutbox && window.CeasefireOutbox.entries(window.CeasefireApp.config.user)
    .then((entries) => entries.map((e) => e.state)),
  window.CeasefireOutbox && window.CeasefireOutbox.sentLog(window.CeasefireApp.config.user)
    .then((log) => log.length),
  location.href, navigator.onLine,
])"""

READ_OUTBOX = """() => new Promise((resolve, reject) => {
  const open = indexedDB.open("ceasefire-monitor-field");
  open.onsuccess = () => {
    const db = open.result;
    const request = db.transaction("outbox").objectStore("outbox").getAll();
    request.onsuccess = () => { db.close(); resolve(request.result.map((e) => ({
      ...e, photos: (e.photos || []).map((p) => ({ iv: p.iv, size: p.size })),
    }))); };
    request.onerror = () => reject(request.error);
  };
  open.onerror = () => reject(open.error);
})"""


@pytest.fixture(scope="module")
def field_stack(reference_data, tmp_path_factory, django_db_blocker):
    """Its own stack (so a test can redeploy it), reached through a link that a test can cut."""
    from tests.link import Link
    from tests.stack import AppStack

    stack = AppStack(log_dir=tmp_path_factory.mktemp("field-stack"), env={"FIELD_APP_RELEASE": "1"})
    stack.start()
    link = Link(stack.port)
    yield SimpleNamespace(base_url=link.base_url, stack=stack, link=link)
    link.close()
    with django_db_blocker.unblock():
        stack.stop()


def go_offline(page, field_stack) -> None:
    field_stack.link.down()
    page.context.set_offline(True)


def go_online(page, field_stack) -> None:
    field_stack.link.up()
    page.context.set_offline(False)


@pytest.fixture(scope="module")
def field_reporter(django_db_setup, django_db_blocker):
    username = f"phone-{uuid.uuid4().hex[:8]}"
    with django_db_blocker.unblock():
        user = get_user_model().objects.create_user(username=username, password=PASSWORD)
        user.groups.add(Group.objects.get(name="reporter"))
    return username


def wait_until(page, expression: str, arg=None, timeout: float = 20.0) -> None:
    """Poll a JavaScript expression (a function of `arg`, maybe async) until it is truthy.
    Playwright's wait_for_function compiles its text in the page, which the site's CSP forbids."""
    deadline = time.monotonic() + timeout
    while not evaluate_across_navigation(page, expression, arg):
        if time.monotonic() > deadline:
            logs = "\n".join(
                [line for line in getattr(page, "logs", []) if "net::ERR_" not in line][-30:]
            )
            logs += "\nbanner: " + str(evaluate_across_navigation(page, BANNER_STATE))
            raise AssertionError(f"still false after {timeout} s: {expression}\n{logs}")
        time.sleep(0.25)


def evaluate_across_navigation(page, expression: str, arg=None):
    """The value, or None while the page is being replaced (a reload in the middle)."""
    try:
        return page.evaluate(expression, arg)
    except PlaywrightError as error:
        if "Execution context was destroyed" in str(error) or "navigat" in str(error):
            return None
        raise


def banner_says(page, words: str, timeout: float = 20.0) -> None:
    wait_until(
        page,
        "(words) => document.getElementById('outbox-banner').textContent.includes(words)",
        words,
        timeout,
    )


def sign_in(page, base_url: str, username: str, next_url: str = "/report/") -> None:
    page.goto(f"{base_url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(base_url + next_url)


def open_app(browser, field_stack, username: str, *, locale: str = "en-GB"):
    """A phone that signed in and opened the form once: the worker controls the page."""
    field_stack.link.up()
    context = browser.new_context(viewport=PHONE, locale=locale)
    page = context.new_page()
    page.dialogs = []
    page.logs = []
    page.on("console", lambda message: page.logs.append(f"{message.type}: {message.text}"))
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.accept()))
    sign_in(page, field_stack.base_url, username)
    if locale.startswith("ar"):
        page.click(".lang-switch button[value=ar]")
        page.wait_for_url(field_stack.base_url + "/report/")
    wait_until(page, "() => !!navigator.serviceWorker.controller")
    # Once more, so the worker's own copy of the page is the one in this language.
    page.reload()
    page.wait_for_selector("#report-map.leaflet-container")
    return context, page


def write_report(page, marker: str, *, killed: str = "0") -> None:
    page.fill("#place-search", "Sarmin")
    page.wait_for_selector("#place-suggestions .suggestion")
    page.click("#place-suggestions .suggestion >> nth=0")
    page.select_option("#id_event_type", "explosions-remote-violence")
    page.select_option("#id_sub_event_type", "shelling-artillery-missile-attack")
    page.fill("#id_killed_civilians", killed)
    page.fill("#id_description", marker)
    page.click("#send-button")


def reports_with(marker: str):
    return Incident.all_objects.filter(description__contains=marker)


def outbox_of(page) -> list[dict]:
    return page.evaluate(READ_OUTBOX)


@pytest.fixture
def phone(browser, field_stack, field_reporter):
    context, page = open_app(browser, field_stack, field_reporter)
    yield page
    context.close()


def test_the_form_opens_offline_after_one_visit_with_village_search(phone, field_stack):
    go_offline(phone, field_stack)
    phone.reload()
    assert phone.inner_text("h1") == "Report an incident"
    phone.fill("#place-search", "سرمين")
    phone.wait_for_selector("#place-suggestions .suggestion")
    assert phone.inner_text("#place-suggestions .suggestion >> nth=0") == "Sarmin\nسرمين"
    phone.fill("#place-search", "sarmin")
    phone.wait_for_selector("#place-suggestions .suggestion")
    assert phone.inner_text("#place-suggestions .suggestion-main >> nth=0") == "Sarmin"
    # My reports opens too, without the server's list (kept on the server only).
    phone.goto(field_stack.base_url + "/report/mine/")
    assert "kept on the server, not on this device" in phone.inner_text("#my-report-list-section")
    # Any other page: the site's offline page, with the way back to the form.
    phone.goto(field_stack.base_url + "/zones/")
    assert phone.inner_text("h1") == "No connection"


def test_the_form_opens_offline_in_arabic(browser, field_stack, field_reporter):
    context, page = open_app(browser, field_stack, field_reporter, locale="ar")
    try:
        go_offline(page, field_stack)
        page.reload()
        assert page.get_attribute("html", "dir") == "rtl"
        assert page.inner_text("h1") == "الإبلاغ عن حادثة"
        page.screenshot(path="/tmp/offline-form-ar.png", full_page=False)
    finally:
        context.close()


def test_the_phone_folds_names_as_the_server_does(phone):
    names = [
        *Locality.objects.values_list("name_en", "name_ar"),
        ("Ma'arrat al-Nu'man", "مَعَرَّة النُّعْمَان"),
        ("Āfis", "آفس"),
        ("Jisr ash-Shughur", "جسر الشغور"),
    ]
    texts = [text for pair in names for text in pair if text]
    folded = phone.evaluate("(texts) => texts.map(window.CeasefireReport.fold)", texts)
    assert folded == [normalize_name(text) for text in texts]


def test_a_report_written_offline_waits_sealed_and_goes_once_from_another_page(phone, field_stack):
    marker = f"offline-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    phone.reload()
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    assert phone.inner_text("#form-status") == (
        "Saved on this device; it will be sent when you are online."
    )
    (entry,) = outbox_of(phone)
    stored = json.dumps(entry, ensure_ascii=False)
    assert marker not in stored and "Sarmin" not in stored and "36.7" not in stored
    assert set(entry["sealed"]) == {"v", "key_id", "wrapped_key", "iv", "ciphertext"}
    assert entry["label"] == {"type": "Shelling/artillery/missile attack"}
    assert not reports_with(marker).exists()

    # Another page of the site, still offline; then the connection returns.
    phone.goto(field_stack.base_url + "/camps/")
    assert phone.inner_text("h1") == "No connection"
    go_online(phone, field_stack)
    banner_says(phone, "Reports sent")
    banner = phone.inner_text("#outbox-banner")
    sent = r"Reports sent from this device: 1 \(at \d\d:\d\d( [AP]M)?\)\."
    assert re.fullmatch(sent, banner), banner
    assert reports_with(marker).count() == 1
    assert outbox_of(phone) == []
    # Pages opened later send nothing again, and the message is not repeated.
    phone.goto(field_stack.base_url + "/report/")
    phone.wait_for_timeout(1500)
    assert reports_with(marker).count() == 1
    assert phone.is_hidden("#outbox-banner")
    assert reports_with(marker).get().description == marker


def test_the_form_says_so_when_its_queued_report_leaves_by_itself(phone, field_stack):
    marker = f"auto-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    go_online(phone, field_stack)
    phone.wait_for_selector(".form-status.ok", timeout=20000)
    assert re.fullmatch(
        r"Report sent\. Thank you\. Sent at \d\d?:\d\d:\d\d( [AP]M)?\.",
        phone.inner_text("#form-status"),
    )
    assert reports_with(marker).count() == 1


def test_a_signed_out_session_keeps_the_queue_and_asks_to_sign_in(
    phone, field_stack, field_reporter
):
    marker = f"session-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    phone.context.clear_cookies()
    go_online(phone, field_stack)
    banner_says(phone, "session has ended")
    assert phone.inner_text("#outbox-banner .outbox-waiting") == (
        "Waiting on this device: 1. Your session has ended: sign in again and they will be sent."
    )
    assert len(outbox_of(phone)) == 1 and not reports_with(marker).exists()
    phone.click("#outbox-banner a")
    phone.fill("#id_username", field_reporter)
    phone.fill("#id_password", PASSWORD)
    phone.click("main button[type=submit]")
    phone.wait_for_url(field_stack.base_url + "/report/")
    banner_says(phone, "Reports sent")
    assert reports_with(marker).count() == 1


def test_a_refused_report_stays_with_the_server_s_words(phone, field_stack):
    marker = f"refused-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker, killed="20000")
    phone.wait_for_selector(".form-status.queued")
    phone.goto(field_stack.base_url + "/report/mine/")
    go_online(phone, field_stack)
    phone.wait_for_selector(".outbox-item[data-state=failed]", timeout=20000)
    assert phone.inner_text(".outbox-item .server-errors") == (
        "Civilians killed: Ensure this value is less than or equal to 10000."
    )
    assert not reports_with(marker).exists()
    phone.click(".outbox-item >> text=Discard")
    wait_until(phone, "() => !document.querySelector('.outbox-item')")
    assert outbox_of(phone) == []


def test_a_report_that_conflicts_is_shown_and_can_go_as_a_new_one(phone, field_stack):
    marker = f"conflict-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    (entry,) = outbox_of(phone)
    # Meanwhile another report was stored under the same UUID (another device's copy).
    session = requests.Session()
    for cookie in phone.context.cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    other = session.post(
        field_stack.stack.base_url + "/api/v1/incidents/",
        json={
            "client_uuid": entry["client_uuid"],
            "occurred_at": "2025-01-01T10:00:00Z",
            "location": {"type": "Point", "coordinates": [36.72, 35.86]},
            "sub_event_type": "air-drone-strike",
            "description": "the other copy",
        },
        headers={"X-CSRFToken": session.cookies.get("csrftoken")},
    )
    assert other.status_code == 201, other.text
    phone.goto(field_stack.base_url + "/report/mine/")
    go_online(phone, field_stack)
    phone.wait_for_selector(".outbox-item[data-state=conflict]", timeout=20000)
    assert "Send this one as a new report, or delete it." in phone.inner_text(".outbox-item")
    phone.click("text=Send as a new report")
    wait_until(phone, "() => !document.querySelector('.outbox-item')")
    assert reports_with(marker).count() == 1
    assert str(reports_with(marker).get().client_uuid) != entry["client_uuid"]


def test_a_report_the_server_cannot_open_is_quarantined_and_kept(phone, field_stack):
    marker = f"tampered-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    phone.evaluate(
        """() => new Promise((resolve) => {
          const open = indexedDB.open("ceasefire-monitor-field");
          open.onsuccess = () => {
            const store = open.result.transaction("outbox", "readwrite").objectStore("outbox");
            store.getAll().onsuccess = (event) => {
              const entry = event.target.result[0];
              const bytes = atob(entry.sealed.ciphertext).split("");
              bytes[3] = String.fromCharCode(bytes[3].charCodeAt(0) ^ 1);
              entry.sealed.ciphertext = btoa(bytes.join(""));
              store.put(entry).onsuccess = () => { open.result.close(); resolve(); };
            };
          };
        })"""
    )
    (entry,) = outbox_of(phone)
    phone.goto(field_stack.base_url + "/report/mine/")
    go_online(phone, field_stack)
    phone.wait_for_selector(".outbox-item[data-state=failed]", timeout=20000)
    assert phone.inner_text(".outbox-item .server-errors").startswith("Encryption: ")
    assert QuarantinedSubmission.objects.filter(client_uuid=entry["client_uuid"]).count() == 1
    assert not Incident.all_objects.filter(client_uuid=entry["client_uuid"]).exists()


def test_wipe_leaves_nothing_of_the_app_on_the_phone(phone, field_stack):
    marker = f"wipe-{uuid.uuid4().hex}"
    go_offline(phone, field_stack)
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    phone.goto(field_stack.base_url + "/report/mine/")
    phone.click("#wipe-device")
    phone.wait_for_selector("#wipe-status:has-text('wiped')")
    assert phone.dialogs[-1].startswith("Wipe this device?")
    left = phone.evaluate(
        """async () => ({
          databases: (await indexedDB.databases()).map((d) => d.name),
          caches: await caches.keys(),
          workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )
    assert left == {"databases": [], "caches": [], "workers": 0}
    go_online(phone, field_stack)
    phone.wait_for_timeout(1000)
    assert not reports_with(marker).exists()


def test_a_new_deployment_takes_over_and_the_queued_report_still_goes(phone, field_stack):
    marker = f"deploy-{uuid.uuid4().hex}"
    version_before = phone.evaluate("caches.keys()")
    # The server cannot be reached (the phone thinks it is online, so no `online` event later).
    field_stack.link.down()
    write_report(phone, marker)
    phone.wait_for_selector(".form-status.queued")
    # Version N+1 is deployed meanwhile; the reporter's next page is served by it.
    field_stack.stack.restart({"FIELD_APP_RELEASE": "2"})
    try:
        field_stack.link.up()
        phone.goto(field_stack.base_url + "/report/mine/")
        banner_says(phone, "Reports sent")
        assert reports_with(marker).count() == 1
        # (My reports reloads itself to list the sent report: ask once the page has settled.)
        wait_until(
            phone,
            "() => navigator.serviceWorker.getRegistration()"
            ".then((r) => r.update()).then(() => true)",
        )
        wait_until(
            phone,
            "(before) => caches.keys().then((names) => names.some((n) => n.startsWith('shell-')"
            " && !before.includes(n)) && !names.some((n) => before.includes(n)"
            " && n.startsWith('shell-')))",
            version_before,
        )
    finally:
        field_stack.stack.extra_env["FIELD_APP_RELEASE"] = "1"
    assert reports_with(marker).count() == 1


LEGACY_ENTRY = """([user, id, marker]) => new Promise((resolve, reject) => {
  const open = indexedDB.open("ceasefire-monitor-reports", 1);
  open.onupgradeneeded = () => open.result.createObjectStore("outbox", { keyPath: "client_uuid" });
  open.onsuccess = () => {
    const db = open.result;
    const tx = db.transaction("outbox", "readwrite");
    tx.objectStore("outbox").put({
      client_uuid: id, user: user, queued_at: Date.now(), state: "waiting", sent: false,
      summary: { type: "Shelling/artillery/missile attack" }, photos: [],
      payload: { client_uuid: id, occurred_at: new Date(Date.now() - 3600e3).toISOString(),
        location: { type: "Point", coordinates: [36.72, 35.86] }, location_precision: "exact",
        place_name: "", sub_event_type: "shelling-artillery-missile-attack",
        description: marker, sources: [] },
    });
    tx.oncomplete = () => { db.close(); resolve(); };
    tx.onerror = () => reject(tx.error);
  };
})"""


def test_reports_queued_in_clear_by_the_version_before_are_sealed_and_sent(
    phone, field_stack, field_reporter
):
    """What phones in the field hold today (the outbox before sealing) is not stranded: it is
    sealed on the next visit, sent once, and the clear-text database is deleted."""
    marker = f"legacy-{uuid.uuid4().hex}"
    report_id = str(uuid.uuid4())
    go_offline(phone, field_stack)
    phone.evaluate(LEGACY_ENTRY, [field_reporter, report_id, marker])
    phone.reload()
    wait_until(
        phone,
        "() => indexedDB.databases().then((dbs) => "
        "!dbs.some((d) => d.name === 'ceasefire-monitor-reports'))",
    )
    (entry,) = outbox_of(phone)
    assert entry["client_uuid"] == report_id and marker not in json.dumps(entry)
    go_online(phone, field_stack)
    phone.reload()
    banner_says(phone, "Reports sent")
    assert reports_with(marker).count() == 1
    assert str(reports_with(marker).get().client_uuid) == report_id


def test_the_form_s_map_draws_offline_and_a_tap_sets_the_point(phone, field_stack):
    """After one visit, with no connection, the form's map is drawn from the tiles the worker
    kept (sub-district outlines and locality labels), and a tap sets the point where it lands."""
    from tests.browser.test_basemap import PIXELS

    wait_until(phone, "(sel) => (" + PIXELS + ")(sel).dark > 200", "#report-map")
    go_offline(phone, field_stack)
    phone.reload()
    phone.wait_for_selector("#report-map[data-basemap*=vector]")
    wait_until(phone, "(sel) => (" + PIXELS + ")(sel).dark > 200", "#report-map")
    pixels = phone.evaluate(PIXELS, "#report-map")
    assert pixels["outline"] > 100 and pixels["land"] > 1000, pixels
    box = phone.locator("#report-map").bounding_box()
    phone.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    assert re.fullmatch(r"Point set at 35\.\d{5}, 36\.\d{5}\.", phone.inner_text("#point-status"))
    phone.locator("#report-map").screenshot(path="/tmp/offline-form-map.png")
