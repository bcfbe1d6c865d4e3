"""The dashboard's map layers: incident clusters per grid cell and counts per sub-district."""

import datetime
import re
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.api.map import cell_degrees
from incidents.models import ReviewStatus, SubEventType
from incidents.services import incident_review, incident_submit
from stats.privacy import SUPPRESS_BELOW
from tests.factories import ARIHA, ATMEH, IDLIB, KAFR_NUBL, SARAQIB

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

CLUSTERS = "/api/v1/incidents/clusters/"
BY_SUBDISTRICT = "/api/v1/incidents/by-subdistrict/"
WHOLE_AREA = "35.5,34.5,38.9,37.0"
ARIHA_SUBDISTRICT = "SY070500"


def submit(user, lonlat, *, sub="shelling-artillery-missile-attack", days_ago=1, verify_by=None):
    sub_type = SubEventType.objects.select_related("event_type").get(slug=sub)
    incident = incident_submit(
        reporter=user,
        client_uuid=uuid.uuid4(),
        data={
            "occurred_at": timezone.now() - datetime.timedelta(days=days_ago),
            "location": Point(*lonlat, srid=4326),
            "event_type": sub_type.event_type,
            "sub_event_type": sub_type,
        },
    ).incident
    if verify_by is not None:
        incident_review(incident=incident, reviewer=verify_by, status=ReviewStatus.VERIFIED)
    return incident


@pytest.fixture
def incidents(users):
    """Reporter A: three submitted near Ariha (one an armed clash), one verified in Atmeh, one
    verified in Idlib 40 days ago. Reporter B: one submitted in Kafr Nubl."""
    analyst = users["analyst"]
    a, b = users["reporter_a"], users["reporter_b"]
    return {
        "ariha": [
            submit(a, ARIHA),
            submit(a, (ARIHA[0] + 0.001, ARIHA[1])),
            submit(a, (ARIHA[0], ARIHA[1] + 0.001), sub="armed-clash"),
        ],
        "atmeh": submit(a, ATMEH, verify_by=analyst),
        "idlib_old": submit(a, IDLIB, days_ago=40, verify_by=analyst),
        "kafr_nubl": submit(b, KAFR_NUBL),
    }


def client_for(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def clusters(client, **params):
    params = {"zoom": "8", "bbox": WHOLE_AREA, **params}
    return client.get(CLUSTERS, params)


# Clusters


def test_clusters_count_every_incident_an_analyst_may_see(users, incidents):
    response = clusters(client_for(users["analyst"]))
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 6
    assert sum(cell["count"] for cell in body["cells"]) == 6
    assert body["cell_degrees"] == cell_degrees(8, coarse=False)


def test_a_cluster_counts_each_event_type(users, incidents):
    body = clusters(client_for(users["analyst"]), zoom="12").json()
    ariha = max(body["cells"], key=lambda cell: cell["count"])
    assert ariha["count"] == 3
    assert ariha["types"] == {"explosions-remote-violence": 2, "battles": 1}


def test_a_cluster_sits_at_the_mean_of_its_incidents(users, incidents):
    body = clusters(client_for(users["analyst"]), zoom="12").json()
    ariha = max(body["cells"], key=lambda cell: cell["count"])
    assert ariha["lon"] == pytest.approx(ARIHA[0] + 0.001 / 3, abs=1e-5)
    assert ariha["lat"] == pytest.approx(ARIHA[1] + 0.001 / 3, abs=1e-5)


def test_zooming_in_splits_clusters(users, incidents):
    client = client_for(users["analyst"])
    # Ariha, Saraqib-side Idlib and Kafr Nubl share a cell at zoom 6, not at zoom 12.
    assert len(clusters(client, zoom="6").json()["cells"]) < len(
        clusters(client, zoom="12").json()["cells"]
    )


def test_partners_clusters_hold_only_verified_reports(users, incidents):
    submit(users["reporter_b"], IDLIB, verify_by=users["analyst"])
    body = clusters(client_for(users["partner"])).json()
    assert body["count"] == 3  # of the analyst's seven


def test_partners_clusters_sit_on_the_coarse_grid(users, incidents):
    # Zoomed right in, the cell is still the 0.05 degree grid and a lone report's cluster
    # sits on its snapped location, never on the exact one.
    body = clusters(client_for(users["partner"]), zoom="18", bbox="36.6,36.25,36.75,36.35").json()
    assert body["cell_degrees"] == 0.05
    (atmeh,) = body["cells"]
    assert (atmeh["lon"], atmeh["lat"]) == (pytest.approx(36.7), pytest.approx(36.3))
    assert (atmeh["lon"], atmeh["lat"]) != ATMEH


def test_partners_bbox_runs_on_the_coarse_location(users, incidents):
    # Atmeh (36.68839, 36.3095) snaps to (36.7, 36.3): a box around the snapped point finds it,
    # a box around the exact point alone does not.
    partner = client_for(users["partner"])
    assert len(clusters(partner, bbox="36.69,36.29,36.71,36.301").json()["cells"]) == 1
    assert clusters(partner, bbox="36.685,36.305,36.69,36.31").json() == {
        "zoom": 8,
        "cell_degrees": cell_degrees(8, coarse=True),
        "count": 0,
        "cells": [],
    }


def test_reporters_clusters_hold_only_their_own_reports(users, incidents):
    assert clusters(client_for(users["reporter_a"])).json()["count"] == 5
    assert clusters(client_for(users["reporter_b"])).json()["count"] == 1


@pytest.mark.parametrize("user", [None, "no_role"])
def test_clusters_are_refused_to_callers_without_a_role(users, incidents, user):
    response = clusters(client_for(users[user] if user else None))
    assert response.status_code in (401, 403)


def test_clusters_take_the_date_filters(users, incidents):
    since = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()
    body = clusters(client_for(users["analyst"]), occurred_after=since).json()
    assert body["count"] == 5


def test_clusters_take_the_type_status_and_zone_filters(users, incidents):
    analyst = client_for(users["analyst"])
    assert clusters(analyst, type="battles").json()["count"] == 1
    assert clusters(analyst, review_status="verified").json()["count"] == 2
    assert clusters(analyst, zone=ARIHA_SUBDISTRICT).json()["count"] == 3


def test_clusters_take_the_bounding_box(users, incidents):
    around_ariha = "36.55,35.75,36.65,35.85"
    assert clusters(client_for(users["analyst"]), bbox=around_ariha).json()["count"] == 3


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": ""}, "zoom"),
        ({"zoom": "eight"}, "zoom"),
        ({"zoom": "21"}, "zoom"),
        ({"zoom": "-1"}, "zoom"),
        ({"bbox": "36,35,37"}, "bbox"),
        ({"bbox": "37,35,36,36"}, "bbox"),
        ({"occurred_after": "yesterday"}, "occurred_after"),
        ({"type": "no-such-type"}, "type"),
        ({"review_status": "maybe"}, "review_status"),
        ({"zone": "SY99"}, "zone"),
        ({"zoomlevel": "8"}, "zoomlevel"),
    ],
)
def test_clusters_refuse_bad_input_naming_the_field(users, incidents, params, field):
    response = clusters(client_for(users["analyst"]), **params)
    assert response.status_code == 400
    assert field in response.json()


def test_clusters_refuse_a_grid_too_fine_for_the_box(users, incidents):
    response = clusters(client_for(users["analyst"]), zoom="18")
    assert response.status_code == 400
    assert "zoom" in response.json()


def test_clusters_take_the_same_number_of_queries_whatever_the_data(
    users, incidents, django_assert_max_num_queries
):
    analyst = client_for(users["analyst"])
    clusters(analyst)  # warm the role cache and the session
    with django_assert_max_num_queries(4) as few:
        clusters(analyst, type="battles,explosions-remote-violence")
    for index in range(20):
        submit(users["reporter_b"], (SARAQIB[0] + index * 0.01, SARAQIB[1]))
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = clusters(analyst, type="battles,explosions-remote-violence")
    assert response.json()["count"] == 26


def test_the_grid_step_grows_as_the_map_zooms_out():
    assert cell_degrees(6, coarse=False) > cell_degrees(10, coarse=False)
    assert cell_degrees(18, coarse=True) == 0.05


# Counts per sub-district


def counts(client, **params):
    response = client.get(BY_SUBDISTRICT, params)
    assert response.status_code == 200, response.content
    return {row["pcode"]: row for row in response.json()["results"]}


def test_subdistrict_counts_for_an_analyst(users, incidents):
    rows = counts(client_for(users["analyst"]))
    assert rows[ARIHA_SUBDISTRICT] == {"pcode": ARIHA_SUBDISTRICT, "count": 3, "suppressed": False}
    assert sum(row["count"] for row in rows.values()) == 6


def test_subdistrict_counts_follow_the_period(users, incidents):
    since = (timezone.now() - datetime.timedelta(days=7)).date().isoformat()
    rows = counts(client_for(users["analyst"]), occurred_after=since)
    assert sum(row["count"] for row in rows.values()) == 5


def test_subdistrict_counts_follow_the_type_filter(users, incidents):
    rows = counts(client_for(users["analyst"]), type="battles")
    assert rows == {
        ARIHA_SUBDISTRICT: {"pcode": ARIHA_SUBDISTRICT, "count": 1, "suppressed": False}
    }


def test_reporters_count_only_their_own_reports(users, incidents):
    rows = counts(client_for(users["reporter_b"]))
    assert [row["count"] for row in rows.values()] == [1]


def test_partners_get_verified_counts_with_small_ones_withheld(users, incidents):
    assert SUPPRESS_BELOW > 1
    rows = counts(client_for(users["partner"]))
    assert len(rows) == 2
    assert all(row == {**row, "count": None, "suppressed": True} for row in rows.values())


def test_partners_get_counts_at_the_threshold(users, incidents):
    for _ in range(SUPPRESS_BELOW):
        submit(users["reporter_b"], ARIHA, verify_by=users["analyst"])
    rows = counts(client_for(users["partner"]))
    assert rows[ARIHA_SUBDISTRICT]["count"] == SUPPRESS_BELOW


@pytest.mark.parametrize("user", [None, "no_role"])
def test_subdistrict_counts_are_refused_to_callers_without_a_role(users, user):
    response = client_for(users[user] if user else None).get(BY_SUBDISTRICT)
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"occurred_before": "2021-13-01"}, "occurred_before"),
        ({"type": "nope"}, "type"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"period": "7d"}, "period"),
    ],
)
def test_subdistrict_counts_refuse_bad_input_naming_the_field(users, params, field):
    response = client_for(users["analyst"]).get(BY_SUBDISTRICT, params)
    assert response.status_code == 400
    assert field in response.json()


def test_subdistrict_counts_take_the_same_number_of_queries_whatever_the_data(
    users, incidents, django_assert_max_num_queries
):
    analyst = client_for(users["analyst"])
    counts(analyst)
    with django_assert_max_num_queries(3) as few:
        counts(analyst, zone="SY07")
    for lonlat in (SARAQIB, IDLIB, KAFR_NUBL, ATMEH):
        submit(users["reporter_b"], lonlat)
    with django_assert_max_num_queries(len(few.captured_queries)):
        counts(analyst, zone="SY07")


# The dashboard page that reads these endpoints


def test_the_dashboard_sends_anonymous_visitors_to_sign_in(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_the_dashboard_has_no_inline_script(client, users):
    # A Content-Security-Policy without 'unsafe-inline' must not break the page: every <script>
    # is either a file or the JSON configuration.
    client.force_login(users["analyst"])
    html = client.get("/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
    assert scripts
    for attributes, body in scripts:
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
        assert "src=" not in attributes or not body.strip()
    assert not re.search(r"\son[a-z]+=", html)


def test_the_dashboard_offers_the_status_filter_to_analysts_only(client, users):
    client.force_login(users["analyst"])
    assert 'name="status"' in client.get("/").content.decode()
    client.force_login(users["partner"])
    page = client.get("/")
    assert 'name="status"' not in page.content.decode()
    config = page.context["config"]
    assert config["can_filter_status"] is False and config["can_see_patrols"] is True
    assert config["urls"]["clusters"] == CLUSTERS
