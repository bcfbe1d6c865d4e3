"""Mixins for API views: refuse unknown query parameters; serve JSON or GeoJSON from one view."""

from __future__ import annotations

from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from common.renderers import GeoJSONRenderer

ALWAYS_ALLOWED_PARAMS = frozenset({"format", "cursor", "page", "page_size"})


class StrictQueryParamsMixin:
    """A misspelt filter (`occured_after`) must not silently return everything: answer 400."""

    allowed_query_params: frozenset[str] = frozenset()

    def get_allowed_query_params(self) -> frozenset[str]:
        names = set(self.allowed_query_params) | ALWAYS_ALLOWED_PARAMS
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None:
            names |= set(filterset_class.base_filters)
        return frozenset(names)

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        unknown = sorted(set(request.query_params) - self.get_allowed_query_params())
        if unknown:
            raise ValidationError({name: [_("Unknown query parameter.")] for name in unknown})
        # PostgreSQL text cannot hold NUL: refuse it here rather than fail in the driver.
        with_nul = sorted(
            {name for name, values in request.query_params.lists() for v in values if "\x00" in v}
            | {name for name, value in kwargs.items() if isinstance(value, str) and "\x00" in value}
        )
        if with_nul:
            raise ValidationError(
                {name: [_("NUL characters are not allowed.")] for name in with_nul}
            )


class GeoJSONMixin:
    """Serve plain JSON by default and a GeoJSON FeatureCollection on request.

    The view sets `geo_serializer_class` beside `serializer_class`.
    """

    renderer_classes = [JSONRenderer, GeoJSONRenderer]
    geo_serializer_class = None

    def wants_geojson(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return renderer is not None and renderer.format == "geojson"

    def get_serializer_class(self):
        if self.wants_geojson() and self.geo_serializer_class is not None:
            return self.geo_serializer_class
        return super().get_serializer_class()
