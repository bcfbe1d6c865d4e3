"""Alert rules over verified incidents, patrols and trends; the alerts API and page; e-mail."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from alerts.deliveries import deliveries_dispatch_due
from alerts.models import Alert, AlertBasis, AlertDelivery, AlertKind
from alerts.rules import alerts_evaluate
from incidents.services import incident_delete
from patrols.models import Patrol
from tests.alerts.helpers import large_camp, verified_incident
from tests.factories import ATMEH, IDLIB, NAYRAB, PatrolFactory

pytestmark = pytest.mark.django_db


def _kinds(alerts, basis=AlertBasis.EXACT):
    """The kinds of the alerts raised on one basis (exact points for staff, grid for others)."""
    return sorted(alert.kind for alert in alerts if alert.basis == basis)


def _on(alerts, basis=AlertBasis.EXACT):
    return [alert for alert in alerts if alert.basis == basis]


def test_a_verified_incident_in_the_corridor_raises_one_alert_however_often_rules_run(
    reference_data, users
):
    incident = verified_incident(
        reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB
    )
    assert incident.in_corridor and incident.coarse_in_corridor
    raised = alerts_evaluate()
    assert _kinds(raised) == [AlertKind.CORRIDOR]
    assert _kinds(raised, AlertBasis.GRID) == [AlertKind.CORRIDOR]
    (alert,) = _on(raised)
    assert alert.incident == incident and alert.zone_id == incident.subdistrict_id
    assert alert.detail["zone_pcode"] == incident.subdistrict.pcode
    (on_grid,) = _on(raised, AlertBasis.GRID)
    assert on_grid.zone_id == incident.coarse_subdistrict_id
    assert "distance_to_m4_m" not in on_grid.detail
    assert alerts_evaluate() == []
    assert Alert.objects.count() == 2


def test_unverified_old_or_outside_the_corridor_raises_nothing(reference_data, users):
    reporter, analyst = users["reporter_a"], users["analyst"]
    verified_incident(reporter=reporter, analyst=analyst, point=NAYRAB, verify=False)
    verified_incident(
        reporter=reporter,
        analyst=analyst,
        point=NAYRAB,
        occurred_at=timezone.now() - datetime.timedelta(days=30),
    )
    far = verified_incident(reporter=reporter, analyst=analyst, point=IDLIB, sub_type="arrests")
    assert not far.in_corridor
    assert alerts_evaluate() == []


def test_shelling_near_a_large_camp_raises_an_alert_with_distance_and_population(
    reference_data, users, settings
):
    settings.ALERT_CAMP_DISTANCE_M = 5000
    settings.ALERT_CAMP_MIN_POPULATION = 50000
    camp = large_camp(50000)
    # About 2.2 km north of the camp: 0.02 degrees of latitude.
    point = (camp.location.x, camp.location.y + 0.02)
    incident = verified_incident(
        reporter=users["reporter_a"], analyst=users["analyst"], point=point
    )
    (alert,) = _on(alerts_evaluate())
    assert alert.kind == AlertKind.NEAR_CAMP
    assert alert.camp == camp and alert.incident == incident
    assert 2000 < alert.detail["distance_m"] < 2400
    assert alert.detail["population"] == camp.population_individuals
    assert alert.detail["camps_within"] >= 1


def test_no_camp_alert_for_a_small_camp_a_far_camp_or_another_type(reference_data, users, settings):
    settings.ALERT_CAMP_DISTANCE_M = 1000
    settings.ALERT_CAMP_MIN_POPULATION = 50000
    reporter, analyst = users["reporter_a"], users["analyst"]
    camp = large_camp(50000)
    # 2.2 km away: beyond 1 km.
    verified_incident(
        reporter=reporter, analyst=analyst, point=(camp.location.x, camp.location.y + 0.02)
    )
    # On the camp, but an arrest is not shelling.
    verified_incident(reporter=reporter, analyst=analyst, point=ATMEH, sub_type="arrests")
    settings.ALERT_CAMP_MIN_POPULATION = camp.population_individuals + 1
    verified_incident(reporter=reporter, analyst=analyst, point=ATMEH)
    assert [a for a in _on(alerts_evaluate()) if a.kind == AlertKind.NEAR_CAMP] == []


def test_an_air_strike_on_the_camp_is_caught_too(reference_data, users, settings):
    settings.ALERT_CAMP_MIN_POPULATION = 1000
    verified_incident(
        reporter=users["reporter_a"],
        analyst=users["analyst"],
        point=ATMEH,
        sub_type="air-drone-strike",
    )
    assert AlertKind.NEAR_CAMP in _kinds(alerts_evaluate())


def test_a_patrol_cut_short_raises_one_alert(reference_data):
    today = timezone.localdate()
    patrol = PatrolFactory(date=today, status=Patrol.Status.COMPLETED)
    PatrolFactory(date=today - datetime.timedelta(days=40), status=Patrol.Status.CUT_SHORT)
    assert alerts_evaluate() == []
    patrol.status = Patrol.Status.CUT_SHORT
    patrol.save()
    (alert,) = alerts_evaluate()
    assert alert.kind == AlertKind.PATROL_CUT_SHORT and alert.patrol == patrol
    assert alert.detail["forces"] == patrol.forces
    assert alerts_evaluate() == []


def _stats_current():
    from stats.services import stats_recompute_pending

    stats_recompute_pending()


@pytest.fixture
def quiet_then_eight(reference_data, users):
    """A quiet baseline in Idlib (one incident four weeks ago), then eight this week."""
    reporter, analyst = users["reporter_a"], users["analyst"]
    now = timezone.now()
    # A quiet baseline (one incident four weeks ago), then eight this week: improbable.
    verified_incident(
        reporter=reporter,
        analyst=analyst,
        point=IDLIB,
        sub_type="arrests",
        occurred_at=now - datetime.timedelta(days=20),
    )
    for hours in range(8):
        verified_incident(
            reporter=reporter,
            analyst=analyst,
            point=IDLIB,
            sub_type="arrests",
            occurred_at=now - datetime.timedelta(hours=3 + 12 * hours),
        )
    _stats_current()
    return now


def test_an_escalation_raises_an_alert_once_while_the_flag_stays_up(quiet_then_eight):
    now = quiet_then_eight
    raised = [a for a in _on(alerts_evaluate()) if a.kind == AlertKind.ESCALATION]
    assert len(raised) == 1
    alert = raised[0]
    assert alert.detail["recent"] == 8 and alert.detail["baseline"] == 1
    assert alert.detail["p_value"] < 0.01
    assert alert.zone.kind == "subdistrict"
    # Still flagged tomorrow: no second alert within the week.
    tomorrow = now + datetime.timedelta(days=1)
    assert [a for a in alerts_evaluate(now=tomorrow) if a.kind == AlertKind.ESCALATION] == []
    # Partners' flag, from the grid statistics, went up once too (Idlib's grid point lies in the
    # same sub-district).
    assert Alert.objects.filter(kind=AlertKind.ESCALATION, basis=AlertBasis.GRID).count() == 1


def test_partners_read_an_escalation_without_its_small_baseline(quiet_then_eight, users):
    """The baseline of one incident, and the expected count and p-value worked from it, are
    withheld from partners by the one small-count rule, in the detail and in the sentence."""
    alerts_evaluate()
    (partner,) = _client(users["partner"]).get("/api/v1/alerts/?kind=escalation").json()["results"]
    assert {k: partner["detail"][k] for k in ("recent", "baseline", "expected", "p_value")} == {
        "recent": 8,
        "baseline": None,
        "expected": None,
        "p_value": None,
    }
    assert partner["summary"]["en"] == (
        "Escalation in Idleb: 8 verified incidents in 7 days, against fewer than 3 in the 28 "
        "days before"
    )
    (staff,) = _client(users["analyst"]).get("/api/v1/alerts/?kind=escalation").json()["results"]
    assert staff["detail"]["baseline"] == 1 and staff["detail"]["expected"] == 0.2
    assert staff["summary"]["en"] == (
        "Escalation in Idleb: 8 verified incidents in 7 days against 0.2 expected from the 28 "
        "days before"
    )


# --- API and pages ---------------------------------------------------------------------------


@pytest.fixture
def corridor_alert(reference_data, users):
    """The staff's alert (raised on the exact point); partners get its twin on the grid."""
    verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB)
    (alert,) = _on(alerts_evaluate())
    return alert


def _client(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_analysts_see_exact_locations_partners_the_grid(corridor_alert, users):
    incident = corridor_alert.incident
    exact = _client(users["analyst"]).get("/api/v1/alerts/").json()["results"][0]
    assert exact["id"] == str(corridor_alert.uuid)
    assert exact["incident"]["location"]["coordinates"] == [
        round(incident.location.x, 6),
        round(incident.location.y, 6),
    ]
    assert "distance_to_m4_m" in exact["detail"]
    partner = _client(users["partner"]).get("/api/v1/alerts/").json()["results"][0]
    assert partner["incident"]["location"]["coordinates"] == [
        round(incident.location_coarse.x, 6),
        round(incident.location_coarse.y, 6),
    ]
    assert partner["incident"]["location_is_exact"] is False
    assert "distance_to_m4_m" not in partner["detail"]
    assert set(partner["summary"]) == {"en", "ar"}


def test_reporters_cannot_read_alerts(corridor_alert, users):
    assert _client(users["reporter_a"]).get("/api/v1/alerts/").status_code == 403
    assert APIClient().get("/api/v1/alerts/").status_code in (401, 403)


def test_partners_no_longer_see_an_alert_whose_incident_was_deleted(corridor_alert, users):
    incident_delete(incident=corridor_alert.incident, user=users["analyst"])
    assert _client(users["partner"]).get("/api/v1/alerts/").json()["results"] == []
    assert len(_client(users["analyst"]).get("/api/v1/alerts/").json()["results"]) == 1


def test_alert_filters_and_their_errors(corridor_alert, users):
    client = _client(users["analyst"])
    pcode = corridor_alert.zone.pcode
    assert len(client.get(f"/api/v1/alerts/?zone={pcode}").json()["results"]) == 1
    assert (
        len(
            client.get(f"/api/v1/alerts/?zone={corridor_alert.zone.parent.pcode}").json()["results"]
        )
        == 1
    )
    assert client.get("/api/v1/alerts/?kind=escalation").json()["results"] == []
    future = (timezone.now() + datetime.timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/alerts/", {"since": future}).json()["results"] == []
    bad = client.get("/api/v1/alerts/?kind=nonsense")
    assert bad.status_code == 400 and "kind" in bad.json()
    assert "since" in client.get("/api/v1/alerts/?since=yesterday").json()
    assert "colour" in client.get("/api/v1/alerts/?colour=red").json()
    detail = client.get(f"/api/v1/alerts/{corridor_alert.uuid}/")
    assert detail.status_code == 200 and detail.json()["kind"] == "corridor"


def test_alert_pages_in_english_and_arabic(corridor_alert, users, client):
    client.force_login(users["analyst"])
    page = client.get("/alerts/")
    assert page.status_code == 200
    assert corridor_alert.summary() in page.content.decode()
    detail = client.get(f"/alerts/{corridor_alert.uuid}/")
    assert detail.status_code == 200
    client.cookies["django_language"] = "ar"
    arabic = client.get("/alerts/", HTTP_ACCEPT_LANGUAGE="ar").content.decode()
    assert 'dir="rtl"' in arabic
    client.force_login(users["reporter_a"])
    assert client.get("/alerts/").status_code == 403


# --- E-mail ----------------------------------------------------------------------------------


def test_each_alert_is_e_mailed_once_in_english_and_arabic(reference_data, users, settings):
    settings.ALERT_EMAIL_RECIPIENTS = ["desk@example.org"]
    users["analyst"].email = "analyst@example.org"
    users["analyst"].save()
    verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB)
    # The e-mail goes to staff: the alert raised on the exact point, not its twin on the grid.
    (alert,) = _on(alerts_evaluate())
    assert deliveries_dispatch_due() == {"delivered": 1, "failed": 0}
    (message,) = mail.outbox
    assert sorted(message.to) == ["analyst@example.org", "desk@example.org"]
    assert alert.summary() in message.body
    delivery = AlertDelivery.objects.get(alert=alert)
    assert delivery.status == AlertDelivery.Status.DELIVERED and delivery.log.count() == 1
    assert deliveries_dispatch_due() == {"delivered": 0, "failed": 0}
    assert len(mail.outbox) == 1
    # Partner-level location in e-mail: never the exact coordinates.
    incident = alert.incident
    assert f"{incident.location.x:.5f}" not in message.body
