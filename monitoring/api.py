"""The one API router: every app's API views under /api/v1/."""

from django.urls import include, path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import routers, serializers
from rest_framework.decorators import api_view, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from incidents.api.views import IncidentViewSet, TaxonomyView

router = routers.SimpleRouter(trailing_slash=True)
router.register("incidents", IncidentViewSet, basename="incident")


@extend_schema(
    tags=["health"],
    auth=[],
    responses=inline_serializer("Health", fields={"status": serializers.CharField()}),
)
@api_view(["GET"])
@permission_classes([AllowAny])
@throttle_classes([])
def health(request):
    """The one endpoint open to anonymous callers."""
    return Response({"status": "ok"})


urlpatterns = [
    path("health/", health, name="api-health"),
    path("taxonomy/", TaxonomyView.as_view(), name="taxonomy"),
    path("", include(router.urls)),
]
