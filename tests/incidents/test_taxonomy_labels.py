"""The ACLED taxonomy in the reader's language: every event type and sub-type has an Arabic
label, the interface shows it (the report form, the dashboard's legend and popups), and the
stored, exported and imported names stay ACLED's English."""

import json

import pytest
from django.test import Client
from django.utils import translation

from incidents.models import EventType, SubEventType
from incidents.taxonomy import ACLED_TAXONOMY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

NAMES = [
    name for type_name, _d, subs in ACLED_TAXONOMY for name in [type_name, *(s for s, _ in subs)]
]


def test_every_acled_name_has_an_arabic_label():
    with translation.override("ar"):
        untranslated = [name for name in NAMES if translation.gettext(name) == name]
    assert untranslated == []


def test_labels_follow_the_language_and_names_stay_english():
    sub = SubEventType.objects.get(slug="shelling-artillery-missile-attack")
    assert sub.name == "Shelling/artillery/missile attack"
    with translation.override("ar"):
        assert sub.label == "قصف مدفعي/صاروخي" and str(sub) == "قصف مدفعي/صاروخي"
        assert EventType.objects.get(slug="battles").label == "معارك"
    with translation.override("en"):
        assert sub.label == "Shelling/artillery/missile attack"


def arabic_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "ar"
    return client


def page_config(page: str, element_id: str) -> dict:
    start = page.index(f'<script id="{element_id}" type="application/json">')
    return json.loads(page[page.index(">", start) + 1 : page.index("</script>", start)])


def test_an_arabic_reporter_picks_the_type_in_arabic(users):
    page = arabic_client(users["reporter_a"]).get("/report/").content.decode()
    assert '<option value="explosions-remote-violence">انفجارات/عنف عن بُعد</option>' in page
    config = page_config(page, "report-config")
    explosions = next(t for t in config["taxonomy"] if t["slug"] == "explosions-remote-violence")
    assert {"slug": "air-drone-strike", "name": "غارة جوية/بطائرة مسيّرة"} in explosions["sub_types"]


def test_the_arabic_dashboard_names_types_and_sub_types_in_arabic(users):
    config = page_config(arabic_client(users["analyst"]).get("/").content.decode(), "map-config")
    assert next(t for t in config["types"] if t["code"] == "battles")["name"] == "معارك"
    assert config["sub_type_labels"]["shelling-artillery-missile-attack"] == "قصف مدفعي/صاروخي"
