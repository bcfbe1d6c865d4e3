"""Every response that carries exact locations is audited through one hook (accounts.audit), and
every view in the URLconf says whether it carries them (PRODUCT.md, "Do no harm" 4)."""

import datetime

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import path
from django.utils import timezone
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from accounts.audit import (
    ExactLocationsMixin,
    check_exact_location_declarations,
    exact_locations,
    exact_read,
    undeclared_views,
)
from accounts.models import AuditEvent
from alerts.models import Alert, AlertKind
from alerts.rules import alerts_evaluate
from briefs.services import brief_build
from incidents.api.map import cell_degrees
from incidents.models import COARSE_GRID_DEGREES
from stats.services import stats_recompute_pending
from tests.alerts.helpers import verified_incident
from tests.factories import ARIHA, IDLIB, NAYRAB, SARAQIB

pytestmark = pytest.mark.django_db

READS = AuditEvent.Action.EXACT_LOCATION_READ


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def _read_ids() -> list[set[str]]:
    return [set(event.object_ids) for event in AuditEvent.objects.filter(action=READS)]


# The declarations --------------------------------------------------------------------------


def test_every_view_in_the_urlconf_declares_whether_it_returns_exact_locations():
    assert undeclared_views() == []
    assert check_exact_location_declarations() == []


def _undeclared(request):
    return HttpResponse("a new page")


@exact_locations
def _hooked(request):
    return HttpResponse("a page with exact locations")


def _claims_without_hook(request):
    return HttpResponse()


_claims_without_hook.exact_locations = True


class _UndeclaredApi(APIView):
    def get(self, request):
        return Response({})


class _ClaimsApiWithoutHook(APIView):
    exact_locations = True


class _HookedApi(ExactLocationsMixin, APIView):
    pass


urlpatterns = [
    path("undeclared/", _undeclared),
    path("hooked/", _hooked),
    path("claims/", _claims_without_hook),
    path("api/undeclared/", _UndeclaredApi.as_view()),
    path("api/claims/", _ClaimsApiWithoutHook.as_view()),
    path("api/hooked/", _HookedApi.as_view()),
]


def test_a_view_that_does_not_declare_or_declares_without_the_hook_is_refused():
    problems = undeclared_views(__name__, packages={"tests"})
    assert len(problems) == 4
    assert [p.split(" ")[0] for p in problems] == [
        "undeclared/",
        "claims/",
        "api/undeclared/",
        "api/claims/",
    ]
    assert "not declared" in problems[0] and "without the audit hook" in problems[1]


def test_a_declared_view_that_records_nothing_is_still_audited(users):
    request = RequestFactory().get("/hooked/?x=1")
    request.user = users["analyst"]
    _hooked(request)
    event = AuditEvent.objects.get(action=READS)
    assert event.user == users["analyst"] and event.path == "/hooked/?x=1"
    assert event.detail == {"recorded": False}


@exact_locations
def _refused(request):
    exact_read(request, object_ids=["not shown"])
    return HttpResponse(status=404)


def test_a_declared_view_writes_nothing_for_a_partner_or_an_error(users):
    request = RequestFactory().get("/hooked/")
    request.user = users["partner"]
    _hooked(request)
    request = RequestFactory().get("/refused/")
    request.user = users["analyst"]
    _refused(request)
    assert not AuditEvent.objects.filter(action=READS).exists()


# Alerts ------------------------------------------------------------------------------------


@pytest.fixture
def corridor_alert(reference_data, users):
    verified_incident(reporter=users["reporter_a"], analyst=users["analyst"], point=NAYRAB)
    alerts_evaluate()
    return Alert.objects.visible_to(users["analyst"]).get(kind=AlertKind.CORRIDOR)


@pytest.mark.parametrize("url", ["/api/v1/alerts/", "/api/v1/alerts/{uuid}/"])
def test_an_analysts_read_of_the_alerts_api_names_the_incidents(corridor_alert, users, url):
    response = _api(users["analyst"]).get(url.format(uuid=corridor_alert.uuid))
    assert response.status_code == 200
    assert _read_ids() == [{str(corridor_alert.incident.client_uuid)}]


@pytest.mark.parametrize("url", ["/alerts/", "/alerts/{uuid}/"])
def test_an_analysts_read_of_the_alert_pages_names_the_incidents(
    corridor_alert, users, client, url
):
    client.force_login(users["analyst"])
    assert client.get(url.format(uuid=corridor_alert.uuid)).status_code == 200
    assert _read_ids() == [{str(corridor_alert.incident.client_uuid)}]


def test_a_partners_read_of_alerts_writes_no_exact_read(corridor_alert, users, client):
    _api(users["partner"]).get("/api/v1/alerts/")
    client.force_login(users["partner"])
    client.get("/alerts/")
    client.get(f"/alerts/{corridor_alert.uuid}/")
    assert not AuditEvent.objects.filter(action=READS).exists()


# Briefs ------------------------------------------------------------------------------------


@pytest.fixture
def brief_day(reference_data, users):
    day = timezone.localdate() - datetime.timedelta(days=1)
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    incidents = [
        verified_incident(
            reporter=users["reporter_a"], analyst=users["analyst"], point=point, occurred_at=at
        )
        for point in (IDLIB, ARIHA)
    ]
    stats_recompute_pending()
    brief_build(day)
    return day, {str(incident.client_uuid) for incident in incidents}


def test_an_analysts_read_of_the_brief_api_names_the_notable_incidents(brief_day, users):
    day, ids = brief_day
    assert _api(users["analyst"]).get(f"/api/v1/briefs/{day.isoformat()}/").status_code == 200
    assert _read_ids() == [ids]
    _api(users["analyst"]).get("/api/v1/briefs/")  # days and headlines only
    assert len(_read_ids()) == 1


def test_an_analysts_read_of_the_brief_page_names_the_notable_incidents(brief_day, users, client):
    day, ids = brief_day
    client.force_login(users["analyst"])
    assert client.get(f"/briefs/{day.isoformat()}/").status_code == 200
    assert _read_ids() == [ids]


def test_a_partners_read_of_the_brief_writes_no_exact_read(brief_day, users, client):
    day, _ids = brief_day
    _api(users["partner"]).get(f"/api/v1/briefs/{day.isoformat()}/")
    client.force_login(users["partner"])
    client.get(f"/briefs/{day.isoformat()}/")
    assert not AuditEvent.objects.filter(action=READS).exists()


# Clusters ----------------------------------------------------------------------------------

CLUSTERS = "/api/v1/incidents/clusters/"
AROUND_IDLIB = "36.55,35.85,36.75,36.0"


@pytest.fixture
def idlib_incidents(reference_data, users):
    """Two verified incidents 300 m apart in Idlib, three together at Ariha, one in Saraqib."""

    def make(point):
        return verified_incident(
            reporter=users["reporter_a"], analyst=users["analyst"], point=point
        )

    return {
        "idlib": [make(IDLIB), make((IDLIB[0] + 0.003, IDLIB[1]))],
        "ariha": [make(ARIHA) for _ in range(3)],
        "saraqib": make(SARAQIB),
    }


def test_an_analysts_clusters_below_the_grids_scale_name_every_incident(idlib_incidents, users):
    assert cell_degrees(14, coarse=False) < COARSE_GRID_DEGREES
    body = _api(users["analyst"]).get(CLUSTERS, {"zoom": 14, "bbox": AROUND_IDLIB}).json()
    assert body["count"] == 2
    assert _read_ids() == [{str(i.client_uuid) for i in idlib_incidents["idlib"]}]


def test_an_analysts_coarse_clusters_name_the_incidents_alone_in_their_cell(idlib_incidents, users):
    # At zoom 10 the Saraqib incident has a cell of its own and sits on its exact point; the
    # two at Idlib and the three at Ariha share cells whose means place none of them.
    assert cell_degrees(10, coarse=False) > COARSE_GRID_DEGREES
    body = _api(users["analyst"]).get(CLUSTERS, {"zoom": 10, "bbox": "36.5,35.7,36.9,36.0"}).json()
    assert sorted(cell["count"] for cell in body["cells"]) == [1, 2, 3]
    assert _read_ids() == [{str(idlib_incidents["saraqib"].client_uuid)}]


@pytest.mark.parametrize("zoom", range(0, 21))
def test_a_partner_never_gets_clusters_below_the_grids_scale(idlib_incidents, users, zoom):
    body = _api(users["partner"]).get(CLUSTERS, {"zoom": zoom}).json()
    assert body["cell_degrees"] >= COARSE_GRID_DEGREES
    if body["cell_degrees"] == COARSE_GRID_DEGREES:
        # One grid point per cell: each cell sits on a grid point, never on an exact one.
        for cell in body["cells"]:
            for value in (cell["lon"], cell["lat"]):
                assert value / COARSE_GRID_DEGREES == pytest.approx(
                    round(value / COARSE_GRID_DEGREES), abs=1e-6
                )
    assert not AuditEvent.objects.filter(action=READS).exists()
