"""Serializer fields with their OpenAPI description."""

from drf_spectacular.utils import extend_schema_field
from rest_framework_gis.fields import GeometryField

GEOJSON_POINT_SCHEMA = {
    "type": "object",
    "description": "GeoJSON Point (RFC 7946): coordinates are [longitude, latitude] in WGS84.",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Point"]},
        "coordinates": {
            "type": "array",
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 3,
        },
    },
}

GEOJSON_GEOMETRY_SCHEMA = {
    "type": "object",
    "description": "GeoJSON geometry (RFC 7946), WGS84 longitude/latitude.",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {
            "type": "string",
            "enum": ["Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"],
        },
        "coordinates": {"type": "array", "items": {}},
    },
}


@extend_schema_field(GEOJSON_POINT_SCHEMA)
class PointGeometryField(GeometryField):
    pass


@extend_schema_field(GEOJSON_GEOMETRY_SCHEMA)
class AnyGeometryField(GeometryField):
    pass
