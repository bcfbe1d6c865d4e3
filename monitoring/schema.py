"""OpenAPI schema extensions for the API router (drf-spectacular loads them on import)."""

from __future__ import annotations

from drf_spectacular.contrib.rest_framework_gis import GeoFeatureModelSerializerExtension


class NullableGeometryFeatureExtension(GeoFeatureModelSerializerExtension):
    """A Feature whose place is unknown has `"geometry": null` (RFC 7946 s3.2): observation posts
    and camps without coordinates, patrols without a track. drf-spectacular's own extension
    always describes the geometry as an object; say it may be null when the geo field allows it.
    """

    priority = 1  # chosen over drf-spectacular's extension for the same class

    def map_geo_feature_model_serializer(self, serializer, base_schema):
        schema = super().map_geo_feature_model_serializer(serializer, base_schema)
        geo_field = serializer.fields.get(serializer.Meta.geo_field)
        if geo_field is not None and geo_field.allow_null and schema["properties"]["geometry"]:
            schema["properties"]["geometry"]["nullable"] = True
        return schema
