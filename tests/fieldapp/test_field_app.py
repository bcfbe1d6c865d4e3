"""The reporters' offline app as the server gives it: the worker script (public, its version a
digest of what it keeps), the manifest in each language, the gazetteer file, My reports as the
phone keeps it (no report in it), the offline page, and the site-wide outbox config by role."""

import gzip
import json

import pytest
from django.test import Client
from django.utils import translation

from fieldapp import shell
from fieldapp.context_processors import outbox_messages
from tests.factories import IncidentFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def worker_config(response) -> dict:
    text = response.content.decode()
    line = next(line for line in text.splitlines() if line.startswith("const CONFIG = "))
    return json.loads(line.removeprefix("const CONFIG = ").removesuffix(";"))


def test_the_worker_is_served_at_the_root_to_anyone_and_revalidated():
    response = Client().get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript; charset=utf-8"
    assert response["Cache-Control"] == "no-cache"
    config = worker_config(response)
    assert config["version"] == shell.version()
    assert config["pages"] == {
        "/report/": "/report/",
        "/report/mine/": "/report/mine/?shell=1",
        "/offline/": "/offline/",
        "/report/places.json": "/report/places.json",
    }
    assert "/static/js/outbox.js" in config["static"]
    assert config["outbox"]["submitUrl"] == "/api/v1/incidents/"


def test_every_file_the_worker_keeps_exists():
    from django.contrib.staticfiles import finders

    assert [path for path in shell.static_paths() if not finders.find(path)] == []


def test_a_release_name_gives_a_new_worker_version(settings):
    before = shell.version()
    shell.version.cache_clear()
    settings.FIELD_APP_RELEASE = "next"
    try:
        assert shell.version() != before
        assert worker_config(Client().get("/sw.js"))["version"] == shell.version()
    finally:
        shell.version.cache_clear()


@pytest.mark.parametrize(
    ("language", "name", "direction"),
    [
        ("en", "Ceasefire Monitor: field reports", "ltr"),
        ("ar", "مرصد وقف إطلاق النار: البلاغات الميدانية", "rtl"),
    ],
)
def test_the_manifest_names_the_app_in_the_page_s_language(language, name, direction):
    response = Client().get(f"/manifest.webmanifest?lang={language}")
    assert response["Content-Type"] == "application/manifest+json"
    manifest = response.json()
    assert (manifest["name"], manifest["lang"], manifest["dir"]) == (name, language, direction)
    assert manifest["start_url"] == "/report/" and manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])


def test_an_unknown_manifest_language_falls_back_to_the_request_s():
    assert Client().get("/manifest.webmanifest?lang=xx").json()["lang"] == "en"


def test_the_gazetteer_file_holds_both_names_and_their_search_keys(users):
    assert Client().get("/report/places.json").status_code == 302  # signed-in users only
    response = signed_in(users["reporter_a"]).get(
        "/report/places.json", HTTP_ACCEPT_ENCODING="gzip"
    )
    assert response["Content-Encoding"] == "gzip"
    body = json.loads(gzip.decompress(response.content))
    assert body["fields"] == ["wof_id", "name_en", "name_ar", "lon", "lat", "key_en", "key_ar"]
    sarmin = next(row for row in body["places"] if row[1] == "Sarmin")
    assert sarmin[2] == "سرمين" and sarmin[5] == "sarmin" and sarmin[6] == "سرمين"
    assert 36.6 < sarmin[3] < 36.8 and 35.8 < sarmin[4] < 35.95


def test_my_reports_as_the_phone_keeps_it_holds_no_report(users):
    IncidentFactory(reporter=users["reporter_a"], description="kept on the server only")
    client = signed_in(users["reporter_a"])
    assert "kept on the server only" in client.get("/report/mine/").content.decode()
    shell_page = client.get("/report/mine/?shell=1").content.decode()
    assert "kept on the server only" not in shell_page
    assert "The list of your sent reports is kept on the server" in shell_page


def test_the_offline_page_points_to_what_works_offline():
    page = Client().get("/offline/").content.decode()
    assert "No connection" in page and 'href="/report/"' in page


def app_config(client, path="/zones/") -> dict:
    page = client.get(path).content.decode()
    start = page.index('<script id="app-config" type="application/json">') + len(
        '<script id="app-config" type="application/json">'
    )
    return json.loads(page[start : page.index("</script>", start)])


def test_every_page_tells_a_reporter_s_phone_to_drain_and_others_to_send_nothing(users):
    reporter = app_config(signed_in(users["reporter_a"]))
    assert reporter["user"] == users["reporter_a"].get_username()
    assert reporter["serviceWorkerUrl"] == "/sw.js"
    assert reporter["messages"] == outbox_messages()
    assert app_config(signed_in(users["partner"])) == {"user": None, "lang": "en"}
    assert app_config(Client(), "/accounts/login/") == {"user": None, "lang": "en"}


def test_the_outbox_words_are_arabic_in_the_arabic_interface():
    with translation.override("ar"):
        messages = outbox_messages()
    assert messages["waitingOffline"] == (
        "بانتظار الإرسال على هذا الجهاز: %(n)s. لا يوجد اتصال؛ ستُرسل عند عودته."
    )
