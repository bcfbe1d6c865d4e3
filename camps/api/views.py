"""Camp API: displacement sites with their latest population, and each site's history."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from accounts.permissions import ALL_ROLES
from camps.api.serializers import (
    CampDetailGeoSerializer,
    CampDetailSerializer,
    CampGeoSerializer,
    CampSerializer,
)
from camps.models import Camp
from common.views import GeoJSONMixin, StrictQueryParamsMixin


@extend_schema(tags=["camps"])
@extend_schema_view(
    list=extend_schema(
        responses={
            (200, "application/json"): CampSerializer(many=True),
            (200, "application/geo+json"): CampGeoSerializer(many=True),
        },
    ),
    retrieve=extend_schema(
        responses={
            (200, "application/json"): CampDetailSerializer,
            (200, "application/geo+json"): CampDetailGeoSerializer,
        },
    ),
)
class CampViewSet(
    StrictQueryParamsMixin,
    GeoJSONMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """IDP camps and camp clusters of northwest Syria with their latest population figures; a
    camp's page adds every dated figure."""

    serializer_class = CampSerializer
    geo_serializer_class = CampGeoSerializer
    lookup_field = "site_id"
    lookup_value_regex = "[^/]+"
    read_roles = ALL_ROLES
    exact_locations = False

    def get_queryset(self):
        camps = Camp.objects.with_latest_population().order_by("name_en", "site_id")
        if self.action == "retrieve":
            return camps.with_population_history()
        return camps.defer("boundary")

    def get_serializer_class(self):
        if self.action == "retrieve":
            return CampDetailGeoSerializer if self.wants_geojson() else CampDetailSerializer
        return super().get_serializer_class()
