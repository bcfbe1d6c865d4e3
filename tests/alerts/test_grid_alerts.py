"""Alerts for partners are raised on the grid points they see (PRODUCT.md, "Do no harm" 6): a
near-camp alert gives partners the rule's band ("within 10 km", from the grid point), never a
distance computed from the exact point; a corridor alert follows the grid point's corridor
membership, so neither an alert nor its absence says more than the grid."""

import json

import pytest
from django.core import mail
from django.test import Client
from django.utils.html import escape
from rest_framework.test import APIClient

from alerts.deliveries import deliveries_create, deliveries_dispatch_due
from alerts.models import Alert, AlertBasis, AlertDelivery, AlertKind, WebhookEndpoint
from alerts.rules import alerts_evaluate
from camps.models import Camp
from tests.alerts.helpers import verified_incident

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

# 222 m north of the Atma camps (36.68839, 36.3095); its grid point (36.70, 36.30) is 1.5 km away.
BY_ATMA = (36.68839, 36.3115)
# In the Idleb sub-district, outside the corridor; its grid point (36.60, 35.85) is inside it.
GRID_POINT_IN_CORRIDOR = (36.586, 35.873)
# Inside the corridor; its grid point (36.65, 35.75) is outside it.
GRID_POINT_OUTSIDE_CORRIDOR = (36.631, 35.765)

PARTNER_SUMMARY = (
    "Shelling/artillery/missile attack within 10 km of Atma camps, by the incident's location "
    "on the 0.05° grid ({people} people; 1 camps above the threshold within that distance)"
)
STAFF_SUMMARY = (
    "Shelling/artillery/missile attack about 0.2 km from Atma camps ({people} people; 1 camps "
    "above the threshold within range)"
)


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def near_atma(users, settings):
    settings.ALERT_CAMP_DISTANCE_M = 5000
    settings.ALERT_CAMP_MIN_POPULATION = 50000
    incident = verified_incident(
        reporter=users["reporter_a"], analyst=users["analyst"], point=BY_ATMA
    )
    raised = alerts_evaluate()
    atma = Camp.objects.with_latest_population().get(site_id="ACU-ATMA")
    return {
        basis: next(a for a in raised if a.kind == AlertKind.NEAR_CAMP and a.basis == basis)
        for basis in (AlertBasis.EXACT, AlertBasis.GRID)
    } | {"incident": incident, "people": atma.population_individuals}


def test_the_grid_alert_holds_the_band_and_no_distance(near_atma):
    exact, grid = near_atma[AlertBasis.EXACT], near_atma[AlertBasis.GRID]
    assert 200 < exact.detail["distance_m"] < 250
    assert exact.detail["within_m"] == 5000
    assert "distance_m" not in grid.detail and grid.detail["within_m"] == 10000
    assert grid.camp == Camp.objects.get(site_id="ACU-ATMA")


def test_a_partner_reads_within_10_km_never_the_distance(near_atma, users):
    response = api(users["partner"]).get("/api/v1/alerts/?kind=near_camp")
    (alert,) = response.json()["results"]
    assert alert["id"] == str(near_atma[AlertBasis.GRID].uuid)
    assert alert["summary"]["en"] == PARTNER_SUMMARY.format(people=near_atma["people"])
    assert alert["detail"]["within_km"] == 10
    assert not {"distance_km", "distance_m", "distance_to_m4_m"} & set(alert["detail"])
    body = response.content.decode()
    assert '"distance' not in body and "0.2 km" not in body
    assert alert["summary"]["ar"] == (
        "قصف مدفعي/صاروخي على بعد 10 كم أو أقل من مخيمات أطمة، بحسب موقع "
        f"الحادثة على شبكة 0.05° ({near_atma['people']} شخص؛ 1 مخيمات فوق الحد ضمن هذه المسافة)"
    )


def test_analysts_read_the_distance_from_the_exact_point(near_atma, users):
    (alert,) = api(users["analyst"]).get("/api/v1/alerts/?kind=near_camp").json()["results"]
    assert alert["id"] == str(near_atma[AlertBasis.EXACT].uuid)
    assert alert["summary"]["en"] == STAFF_SUMMARY.format(people=near_atma["people"])
    assert alert["detail"]["distance_km"] == 0.2


def test_the_partner_alert_pages_say_the_band(near_atma, users):
    client = Client()
    client.force_login(users["partner"])
    summary = escape(PARTNER_SUMMARY.format(people=near_atma["people"]))
    index = client.get("/alerts/").content.decode()
    assert summary in index and "0.2 km" not in index
    page = client.get(f"/alerts/{near_atma[AlertBasis.GRID].uuid}/").content.decode()
    assert summary in page and "0.2 km" not in page
    assert client.get(f"/alerts/{near_atma[AlertBasis.EXACT].uuid}/").status_code == 404


def test_the_e_mail_gives_the_rule_s_band_not_the_distance(near_atma, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["desk@example.org"]
    Alert.objects.filter(kind=AlertKind.CORRIDOR).delete()
    AlertDelivery.objects.all().delete()
    deliveries_create(Alert.objects.all())
    deliveries_dispatch_due()
    (message,) = mail.outbox
    assert (
        f"Shelling/artillery/missile attack within 5 km of Atma camps ({near_atma['people']} "
        "people; 1 camps above the threshold within that distance)"
    ) in message.body
    assert "0.2" not in message.body and "distance_m" not in message.body


def test_webhooks_get_the_alerts_of_their_audience(near_atma):
    partner = WebhookEndpoint.objects.create(name="Partner", url="http://127.0.0.1:9/hook")
    staff = WebhookEndpoint.objects.create(
        name="Desk", url="http://127.0.0.1:9/hook", audience=WebhookEndpoint.Audience.STAFF
    )
    deliveries_create([near_atma[AlertBasis.EXACT], near_atma[AlertBasis.GRID]])
    assert [d.alert.basis for d in AlertDelivery.objects.filter(endpoint=partner)] == ["grid"]
    assert [d.alert.basis for d in AlertDelivery.objects.filter(endpoint=staff)] == ["exact"]


def _corridor_alerts(user) -> list[dict]:
    return api(user).get("/api/v1/alerts/?kind=corridor").json()["results"]


def test_a_partner_gets_a_corridor_alert_when_the_grid_point_is_in_the_corridor(users):
    incident = verified_incident(
        reporter=users["reporter_a"], analyst=users["analyst"], point=GRID_POINT_IN_CORRIDOR
    )
    alerts_evaluate()
    assert _corridor_alerts(users["analyst"]) == []
    (alert,) = _corridor_alerts(users["partner"])
    assert alert["incident"]["id"] == str(incident.client_uuid)
    assert alert["zone"] == "SY070500"
    assert alert["summary"]["en"] == (
        "Shelling/artillery/missile attack in the M4 security corridor, Ariha"
    )
    assert '"distance' not in json.dumps(alert)


def test_a_partner_gets_no_corridor_alert_when_only_the_exact_point_is_in_it(users):
    verified_incident(
        reporter=users["reporter_a"], analyst=users["analyst"], point=GRID_POINT_OUTSIDE_CORRIDOR
    )
    alerts_evaluate()
    assert len(_corridor_alerts(users["analyst"])) == 1
    assert _corridor_alerts(users["partner"]) == []
