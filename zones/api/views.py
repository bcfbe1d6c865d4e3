"""Zone API (admin areas and agreement zones) and the gazetteer search of the report form."""

from __future__ import annotations

import math

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError

from accounts.permissions import ALL_ROLES
from common.views import GeoJSONMixin, StrictQueryParamsMixin
from zones.api.filters import (
    LOCALITY_QUERY_MIN_LENGTH,
    MAX_QUERY_LENGTH,
    LocalityFilter,
    ZoneFilter,
)
from zones.api.serializers import (
    LocalityGeoSerializer,
    LocalitySerializer,
    ZoneGeoSerializer,
    ZoneSerializer,
)
from zones.models import Locality, Zone

# 0.05 degrees is about 5 km here: coarser shapes are of no use even on an overview map.
MAX_SIMPLIFY_DEGREES = 0.05

SIMPLIFY_PARAMETER = OpenApiParameter(
    "simplify",
    {"type": "number", "minimum": 0, "exclusiveMinimum": True, "maximum": MAX_SIMPLIFY_DEGREES},
    description=(
        "GeoJSON only: simplify the shapes with this tolerance in degrees (topology kept), "
        f"more than 0 and at most {MAX_SIMPLIFY_DEGREES}; 0.001 (about 100 m) suits a map of "
        "the whole area."
    ),
)


def simplify_tolerance(request) -> float | None:
    raw = request.query_params.get("simplify")
    if raw is None or raw == "":
        return None
    try:
        tolerance = float(raw)
    except ValueError:
        raise ValidationError({"simplify": [_("Expected a number of degrees.")]}) from None
    if not math.isfinite(tolerance) or not 0 < tolerance <= MAX_SIMPLIFY_DEGREES:
        message = _("Must be more than 0 and at most %(m)s.") % {"m": MAX_SIMPLIFY_DEGREES}
        raise ValidationError({"simplify": [message]})
    return tolerance


@extend_schema(tags=["reference"])
@extend_schema_view(
    list=extend_schema(
        parameters=[SIMPLIFY_PARAMETER],
        responses={
            (200, "application/json"): ZoneSerializer(many=True),
            (200, "application/geo+json"): ZoneGeoSerializer(many=True),
        },
    ),
    retrieve=extend_schema(
        parameters=[SIMPLIFY_PARAMETER],
        responses={
            (200, "application/json"): ZoneSerializer,
            (200, "application/geo+json"): ZoneGeoSerializer,
        },
    ),
)
class ZoneViewSet(
    StrictQueryParamsMixin,
    GeoJSONMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Governorates, districts and sub-districts (OCHA P-codes) and agreement zones such as the
    M4 security corridor (M4-SC). Shapes come only as GeoJSON."""

    serializer_class = ZoneSerializer
    geo_serializer_class = ZoneGeoSerializer
    filterset_class = ZoneFilter
    lookup_field = "pcode"
    lookup_value_regex = "[^/]+"
    read_roles = ALL_ROLES
    exact_locations = False
    allowed_query_params = frozenset({"simplify"})

    def get_queryset(self):
        zones = Zone.objects.for_api().order_by("kind", "pcode")
        tolerance = simplify_tolerance(self.request)
        if self.wants_geojson():
            zones = zones.with_outline(tolerance)
        return zones


@extend_schema(tags=["reference"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter(
                "q",
                {
                    "type": "string",
                    "minLength": LOCALITY_QUERY_MIN_LENGTH,
                    "maxLength": MAX_QUERY_LENGTH,
                },
                required=True,
                description=LocalityFilter.base_filters["q"].label,
            )
        ],
        responses={
            (200, "application/json"): LocalitySerializer(many=True),
            (200, "application/geo+json"): LocalityGeoSerializer(many=True),
        },
    ),
)
class LocalityViewSet(
    StrictQueryParamsMixin, GeoJSONMixin, mixins.ListModelMixin, viewsets.GenericViewSet
):
    """Gazetteer search for the report form: villages and towns by Arabic or Latin name."""

    serializer_class = LocalitySerializer
    geo_serializer_class = LocalityGeoSerializer
    filterset_class = LocalityFilter
    read_roles = ALL_ROLES
    exact_locations = False

    def get_queryset(self):
        # LocalityFilter requires `q` and does the search and its ordering.
        return Locality.objects.all()
