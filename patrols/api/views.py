"""Patrol API: routes, patrols with their tracks and events, observation posts."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from accounts.permissions import ALL_ROLES
from accounts.roles import Role
from common.views import GeoJSONMixin, StrictQueryParamsMixin
from patrols.api.filters import PatrolFilter
from patrols.api.serializers import (
    ObservationPostGeoSerializer,
    ObservationPostSerializer,
    PatrolDetailGeoSerializer,
    PatrolDetailSerializer,
    PatrolGeoSerializer,
    PatrolSerializer,
    RouteGeoSerializer,
    RouteSerializer,
)
from patrols.models import ObservationPost, Patrol, Route


def _json_and_geojson(serializer, geo_serializer, *, many: bool) -> dict:
    return {
        (200, "application/json"): serializer(many=many),
        (200, "application/geo+json"): geo_serializer(many=many),
    }


class _ReadOnlyGeoViewSet(
    StrictQueryParamsMixin,
    GeoJSONMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    exact_locations = False  # routes, patrols and posts: no incident's location


@extend_schema(tags=["patrols"])
@extend_schema_view(
    list=extend_schema(responses=_json_and_geojson(RouteSerializer, RouteGeoSerializer, many=True)),
    retrieve=extend_schema(
        responses=_json_and_geojson(RouteSerializer, RouteGeoSerializer, many=False)
    ),
)
class RouteViewSet(_ReadOnlyGeoViewSet):
    """Patrol routes and the highway they follow: the M4 joint-patrol line Trumba - Ain al-Hawr
    (`m4-patrol`) and the M4 Saraqib - Latakia (`m4-highway`). Lines are approximate."""

    serializer_class = RouteSerializer
    geo_serializer_class = RouteGeoSerializer
    lookup_field = "slug"
    read_roles = ALL_ROLES

    def get_queryset(self):
        return Route.objects.order_by("slug")


@extend_schema(tags=["patrols"])
@extend_schema_view(
    list=extend_schema(
        responses=_json_and_geojson(PatrolSerializer, PatrolGeoSerializer, many=True)
    ),
    retrieve=extend_schema(
        responses=_json_and_geojson(PatrolDetailSerializer, PatrolDetailGeoSerializer, many=False)
    ),
)
class PatrolViewSet(_ReadOnlyGeoViewSet):
    """Joint patrols along the M4, newest first; the GeoJSON geometry is the actual track (null
    when none was recorded). A patrol's page embeds its events."""

    serializer_class = PatrolSerializer
    geo_serializer_class = PatrolGeoSerializer
    filterset_class = PatrolFilter
    read_roles = frozenset({Role.ANALYST, Role.ADMIN, Role.PARTNER})

    def get_queryset(self):
        patrols = Patrol.objects.for_api().order_by("-date", "-id")
        if self.action == "retrieve":
            patrols = patrols.with_events()
        return patrols

    def get_serializer_class(self):
        if self.action == "retrieve":
            return PatrolDetailGeoSerializer if self.wants_geojson() else PatrolDetailSerializer
        return super().get_serializer_class()


@extend_schema(tags=["patrols"])
@extend_schema_view(
    list=extend_schema(
        responses=_json_and_geojson(
            ObservationPostSerializer, ObservationPostGeoSerializer, many=True
        )
    ),
    retrieve=extend_schema(
        responses=_json_and_geojson(
            ObservationPostSerializer, ObservationPostGeoSerializer, many=False
        )
    ),
)
class ObservationPostViewSet(_ReadOnlyGeoViewSet):
    """Military observation posts with their active dates; posts whose place is unknown are
    listed with a null location."""

    serializer_class = ObservationPostSerializer
    geo_serializer_class = ObservationPostGeoSerializer
    lookup_field = "code"
    read_roles = ALL_ROLES

    def get_queryset(self):
        return ObservationPost.objects.order_by("number", "code")
