"""Route, patrol and observation post serializers: plain JSON and GeoJSON features."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from common.fields import AnyGeometryField, PointGeometryField
from patrols.models import ObservationPost, Patrol, PatrolEvent, Route

ROUTE_FIELDS = ("slug", "kind", "name_en", "name_ar", "geom", "geometry_quality", "source")


class RouteFieldsMixin(serializers.Serializer):
    geom = AnyGeometryField(precision=6, read_only=True, help_text="GeoJSON LineString.")


class RouteSerializer(RouteFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Route
        fields = ROUTE_FIELDS
        read_only_fields = ROUTE_FIELDS


class RouteGeoSerializer(RouteFieldsMixin, GeoFeatureModelSerializer):
    class Meta:
        model = Route
        geo_field = "geom"
        id_field = "slug"
        fields = ROUTE_FIELDS
        read_only_fields = ROUTE_FIELDS


class PatrolEventSerializer(serializers.ModelSerializer):
    location = PointGeometryField(precision=6, read_only=True, allow_null=True)

    class Meta:
        model = PatrolEvent
        fields = ("id", "kind", "occurred_at", "location", "description")
        read_only_fields = fields


PATROL_FIELDS = (
    "id",
    "route",
    "date",
    "forces",
    "status",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "track",
    "events_count",
    "notes",
    "is_synthetic",
    "updated_at",
)


class PatrolFieldsMixin(serializers.Serializer):
    route = serializers.CharField(source="route_slug", read_only=True, help_text="Route code.")
    track = AnyGeometryField(
        precision=6, read_only=True, allow_null=True, help_text="Actual track, a LineString."
    )
    events_count = serializers.IntegerField(read_only=True)


class PatrolSerializer(PatrolFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Patrol
        fields = PATROL_FIELDS
        read_only_fields = PATROL_FIELDS


class PatrolGeoSerializer(PatrolFieldsMixin, GeoFeatureModelSerializer):
    class Meta:
        model = Patrol
        geo_field = "track"
        id_field = "id"
        fields = PATROL_FIELDS
        read_only_fields = PATROL_FIELDS


class PatrolDetailSerializer(PatrolSerializer):
    events = PatrolEventSerializer(many=True, read_only=True)

    class Meta(PatrolSerializer.Meta):
        fields = (*PATROL_FIELDS, "events")
        read_only_fields = fields


class PatrolDetailGeoSerializer(PatrolGeoSerializer):
    events = PatrolEventSerializer(many=True, read_only=True)

    class Meta(PatrolGeoSerializer.Meta):
        fields = (*PATROL_FIELDS, "events")
        read_only_fields = fields


POST_FIELDS = (
    "code",
    "number",
    "name_en",
    "name_ar",
    "alt_names",
    "operator",
    "location",
    "location_quality",
    "active_from",
    "active_to",
    "notes",
    "source",
)


class ObservationPostFieldsMixin(serializers.Serializer):
    location = PointGeometryField(
        precision=6, read_only=True, allow_null=True, help_text="Null when the place is unknown."
    )


class ObservationPostSerializer(ObservationPostFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = ObservationPost
        fields = POST_FIELDS
        read_only_fields = POST_FIELDS


class ObservationPostGeoSerializer(ObservationPostFieldsMixin, GeoFeatureModelSerializer):
    """An observation post; posts whose place is unknown have a null geometry (RFC 7946 3.2)."""

    class Meta:
        model = ObservationPost
        geo_field = "location"
        id_field = "code"
        fields = POST_FIELDS
        read_only_fields = POST_FIELDS
