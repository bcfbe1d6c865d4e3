"""Incident serializers: one field set, trimmed by role (PRODUCT.md "Do no harm").

Analysts and admins get exact locations and reporter and review fields; reporters get their own
reports with exact locations but not who reviewed them; partners get the grid view of
incidents.disclosure (grid point, its zones, the gazetteer's place name, the approved summary) and
nothing about reporters or reviewers.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from accounts.roles import Role, role_of
from common.fields import GEOJSON_POINT_SCHEMA, PointGeometryField
from incidents.disclosure import GRID_SOURCES, GRID_WITHHELD
from incidents.models import (
    COARSE_GRID_DEGREES,
    Direction,
    Incident,
    LocationPrecision,
    ObservationMethod,
    Side,
    SubEventType,
    Target,
    TimePrecision,
    Weapon,
)
from zones.geometry import parse_geojson_geometry

PUBLIC_FIELDS = (
    "id",
    "occurred_at",
    "time_precision",
    "location",
    "location_precision",
    "place_name",
    "event_type",
    "event_type_name",
    "sub_event_type",
    "sub_event_type_name",
    "weapon",
    "observation_method",
    "explosions_count",
    "direction",
    "distance_estimate_m",
    "perpetrator_side",
    "target",
    "target_description",
    "killed_civilians",
    "killed_combatants",
    "injured_civilians",
    "injured_combatants",
    "description",
    "public_summary",
    "sources",
    "review_status",
    "duplicate_of",
    "governorate",
    "district",
    "subdistrict",
    "in_corridor",
    "is_synthetic",
    "created_at",
    "updated_at",
)
# Left out of the grid view (incidents.disclosure): computed from the exact point or the
# observer's position (with the place, the observer's bearing and distance hint where the
# reporter stood), or free text with no approved version.
EXACT_ONLY_FIELDS = GRID_WITHHELD
REPORTER_VISIBLE_FIELDS = ("review_note",)
STAFF_FIELDS = ("reporter", "reviewed_by", "reviewed_at")
ALL_FIELDS = tuple(
    dict.fromkeys(
        PUBLIC_FIELDS
        + EXACT_ONLY_FIELDS
        + REPORTER_VISIBLE_FIELDS
        + STAFF_FIELDS
        + ("location_grid_degrees",)
    )
)
# What a reader of the grid view gets, field by field.
GRID_FIELDS = tuple(
    name
    for name in ALL_FIELDS
    if name not in (*EXACT_ONLY_FIELDS, *REPORTER_VISIBLE_FIELDS, *STAFF_FIELDS)
)


class RoleTrimmedMixin:
    """Drop the fields the requesting role may not see; partners read the grid view
    (incidents.disclosure): each field from its grid source."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        role = role_of(getattr(request, "user", None))
        if role in (Role.ANALYST, Role.ADMIN):
            keep = [name for name in ALL_FIELDS if name != "location_grid_degrees"]
        elif role == Role.REPORTER:
            keep = [
                name
                for name in ALL_FIELDS
                if name not in STAFF_FIELDS and name != "location_grid_degrees"
            ]
        else:  # partner (and, defensively, anyone else)
            keep = list(GRID_FIELDS)
            for name, source in GRID_SOURCES.items():
                if name in self.fields:
                    self.fields[name] = _from_source(self.fields[name], source)
        for name in [name for name in self.fields if name not in keep]:
            self.fields.pop(name)


def _from_source(field: serializers.Field, source: str) -> serializers.Field:
    """The same kind of field, read from another attribute (the grid view's)."""
    if isinstance(field, PointGeometryField):
        return PointGeometryField(source=source, precision=4, read_only=True)
    kwargs = {key: value for key, value in field._kwargs.items() if key != "source"}
    return type(field)(*field._args, **kwargs, source=source)


class IncidentFieldsMixin(serializers.Serializer):
    id = serializers.UUIDField(source="client_uuid", read_only=True)
    location = PointGeometryField(precision=6, read_only=True)
    event_type = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    event_type_name = serializers.CharField(source="event_type.name", read_only=True)
    sub_event_type = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sub_event_type_name = serializers.CharField(source="sub_event_type.name", read_only=True)
    duplicate_of = serializers.UUIDField(
        source="duplicate_of.client_uuid", read_only=True, allow_null=True
    )
    # Null for a partner when the grid point lies outside every area of that level (near the
    # border, the 0.05 degree point can fall in Turkey although the report does not).
    governorate = serializers.SlugRelatedField(slug_field="pcode", read_only=True, allow_null=True)
    district = serializers.SlugRelatedField(slug_field="pcode", read_only=True, allow_null=True)
    subdistrict = serializers.SlugRelatedField(slug_field="pcode", read_only=True, allow_null=True)
    reporter = serializers.SlugRelatedField(slug_field="username", read_only=True)
    reviewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    location_grid_degrees = serializers.SerializerMethodField()
    # Optional choices may be blank; say so, or the schema's enum would exclude "".
    weapon = serializers.ChoiceField(Weapon.choices, allow_blank=True, read_only=True)
    observation_method = serializers.ChoiceField(
        ObservationMethod.choices, allow_blank=True, read_only=True
    )
    direction = serializers.ChoiceField(Direction.choices, allow_blank=True, read_only=True)

    def get_location_grid_degrees(self, obj) -> float:
        return COARSE_GRID_DEGREES


class IncidentSerializer(RoleTrimmedMixin, IncidentFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Incident
        fields = ALL_FIELDS
        read_only_fields = ALL_FIELDS


class IncidentGeoSerializer(RoleTrimmedMixin, IncidentFieldsMixin, GeoFeatureModelSerializer):
    class Meta:
        model = Incident
        geo_field = "location"
        id_field = "id"
        fields = ALL_FIELDS
        read_only_fields = ALL_FIELDS


@extend_schema_field(GEOJSON_POINT_SCHEMA)
class GeoJSONPointField(serializers.JSONField):
    """A GeoJSON Point {"type": "Point", "coordinates": [lon, lat]}; no `crs` member (RFC 7946)."""

    def to_internal_value(self, data):
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            return parse_geojson_geometry(data, allowed={"Point"})
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


# Fields of an incident that only the server writes (review, identity, times, zones).
SERVER_FIELDS = frozenset(
    {
        "id",
        "review_status",
        "reporter",
        "reviewed_by",
        "reviewed_at",
        "review_note",
        "verified_at",
        "created_at",
        "updated_at",
        "deleted_at",
        "duplicate_of",
        "governorate",
        "district",
        "subdistrict",
        "in_corridor",
        "distance_to_m4_m",
        "coarse_governorate",
        "coarse_district",
        "coarse_subdistrict",
        "coarse_in_corridor",
        "coarse_locality",
        "public_summary",
        "is_synthetic",
        "external_id",
        "event_type",
    }
)


class IncidentSubmitSerializer(serializers.Serializer):
    """What a reporter sends. Review status, reporter and server times are not accepted."""

    client_uuid = serializers.UUIDField(
        help_text="Generated by the client once per report; resending it is safe."
    )
    occurred_at = serializers.DateTimeField()
    time_precision = serializers.ChoiceField(TimePrecision.choices, default=TimePrecision.DAY)
    location = GeoJSONPointField(help_text="GeoJSON Point, [longitude, latitude] in WGS84.")
    location_precision = serializers.ChoiceField(
        LocationPrecision.choices, default=LocationPrecision.EXACT
    )
    place_name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    sub_event_type = serializers.SlugRelatedField(
        slug_field="slug", queryset=SubEventType.objects.select_related("event_type")
    )
    weapon = serializers.ChoiceField(Weapon.choices, required=False, allow_blank=True, default="")
    observation_method = serializers.ChoiceField(
        ObservationMethod.choices, required=False, allow_blank=True, default=""
    )
    explosions_count = serializers.IntegerField(
        min_value=0, max_value=100_000, required=False, allow_null=True, default=None
    )
    direction = serializers.ChoiceField(
        Direction.choices, required=False, allow_blank=True, default=""
    )
    distance_estimate_m = serializers.IntegerField(
        min_value=0, max_value=200_000, required=False, allow_null=True, default=None
    )
    perpetrator_side = serializers.ChoiceField(Side.choices, default=Side.UNKNOWN)
    target = serializers.ChoiceField(Target.choices, default=Target.UNKNOWN)
    target_description = serializers.CharField(
        max_length=300, required=False, allow_blank=True, default=""
    )
    killed_civilians = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    killed_combatants = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    injured_civilians = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    injured_combatants = serializers.IntegerField(min_value=0, max_value=10_000, default=0)
    description = serializers.CharField(
        max_length=10_000, required=False, allow_blank=True, default=""
    )
    sources = serializers.ListField(
        child=serializers.CharField(max_length=500), max_length=20, required=False, default=list
    )

    def to_internal_value(self, data):
        """Refuse fields the submission does not take, naming each: a client that believes it
        set the review status, the reporter or a server time must learn that it did not."""
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {
                        name: [
                            _("This field is set by the server.")
                            if name in SERVER_FIELDS
                            else _("Unknown field.")
                        ]
                        for name in unknown
                    }
                )
        return super().to_internal_value(data)

    def validate(self, attrs):
        for name, value in attrs.items():
            if isinstance(value, str) and "\x00" in value:
                raise serializers.ValidationError({name: [_("NUL characters are not allowed.")]})
        for value in attrs.get("sources", []):
            if "\x00" in value:
                raise serializers.ValidationError(
                    {"sources": [_("NUL characters are not allowed.")]}
                )
        return attrs

    def service_data(self) -> dict:
        data = dict(self.validated_data)
        data.pop("client_uuid")
        data["event_type"] = data["sub_event_type"].event_type
        return data


class SubEventTypeSerializer(serializers.ModelSerializer):
    class Meta:
        model = SubEventType
        fields = ("slug", "name", "disorder_type")


class EventTypeSerializer(serializers.ModelSerializer):
    sub_types = SubEventTypeSerializer(many=True, read_only=True)

    class Meta:
        from incidents.models import EventType

        model = EventType
        fields = ("slug", "name", "disorder_type", "sub_types")
