"""The one API router: every app's API views under /api/v1/."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import routers, serializers
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from accounts.audit import no_exact_locations
from alerts.api.views import AlertViewSet
from briefs.api.views import BriefViewSet
from camps.api.views import CampViewSet
from incidents.api.attachments import IncidentAttachmentsView
from incidents.api.exports import (
    IncidentAcledExportView,
    IncidentCsvExportView,
    IncidentGeoJSONExportView,
)
from incidents.api.map import IncidentClustersView, IncidentSubdistrictCountsView
from incidents.api.review import (
    DuplicateCandidatesView,
    IncidentHistoryView,
    ReviewDecisionView,
)
from incidents.api.views import IncidentViewSet, TaxonomyView
from monitoring import schema  # noqa: F401  (registers the OpenAPI schema extensions)
from patrols.api.views import ObservationPostViewSet, PatrolViewSet, RouteViewSet
from stats.api.views import ZoneStatsView, ZoneTrendsView, ZoneTrendView
from zones.api.views import LocalityViewSet, ZoneViewSet

router = routers.SimpleRouter(trailing_slash=True)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("zones", ZoneViewSet, basename="zone")
router.register("localities", LocalityViewSet, basename="locality")
router.register("routes", RouteViewSet, basename="route")
router.register("patrols", PatrolViewSet, basename="patrol")
router.register("observation-posts", ObservationPostViewSet, basename="observation-post")
router.register("camps", CampViewSet, basename="camp")
router.register("alerts", AlertViewSet, basename="alert")
router.register("briefs", BriefViewSet, basename="brief")


@no_exact_locations
@extend_schema(
    tags=["health"],
    auth=[],
    responses=inline_serializer("Health", fields={"status": serializers.CharField()}),
)
@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """The one endpoint open to anonymous callers."""
    return Response({"status": "ok"})


urlpatterns = [
    path("health/", health, name="api-health"),
    path("taxonomy/", TaxonomyView.as_view(), name="taxonomy"),
    # Before the router, whose incidents/<id>/ pattern would otherwise be tried first.
    path("incidents/export.csv", IncidentCsvExportView.as_view(), name="incident-export-csv"),
    path(
        "incidents/export.geojson",
        IncidentGeoJSONExportView.as_view(),
        name="incident-export-geojson",
    ),
    path(
        "incidents/export.acled.csv",
        IncidentAcledExportView.as_view(),
        name="incident-export-acled",
    ),
    path("zones/<str:pcode>/stats/", ZoneStatsView.as_view(), name="zone-stats"),
    path("zones/<str:pcode>/trend/", ZoneTrendView.as_view(), name="zone-trend"),
    path("trends/", ZoneTrendsView.as_view(), name="zone-trends"),
    path(
        "incidents/<uuid:id>/attachments/",
        IncidentAttachmentsView.as_view(),
        name="incident-attachments",
    ),
    path(
        "incidents/<uuid:id>/duplicate-candidates/",
        DuplicateCandidatesView.as_view(),
        name="incident-duplicate-candidates",
    ),
    path("incidents/<uuid:id>/history/", IncidentHistoryView.as_view(), name="incident-history"),
    path(
        "incidents/<uuid:id>/review/",
        ReviewDecisionView.as_view(),
        name="incident-review-decision",
    ),
    path("incidents/clusters/", IncidentClustersView.as_view(), name="incident-clusters"),
    path(
        "incidents/by-subdistrict/",
        IncidentSubdistrictCountsView.as_view(),
        name="incident-subdistrict-counts",
    ),
    path("", include(router.urls)),
]
