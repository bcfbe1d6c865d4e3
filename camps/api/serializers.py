"""Camp serializers: the latest population on every row, the full history on a camp's page."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from camps.models import Camp, CampPopulation
from common.fields import AnyGeometryField, PointGeometryField

CAMP_FIELDS = (
    "site_id",
    "name_en",
    "name_ar",
    "camp_type",
    "status",
    "location",
    "location_quality",
    "adm1_pcode",
    "adm2_pcode",
    "adm3_pcode",
    "managing_agency",
    "population_individuals",
    "population_households",
    "population_date",
    "source",
    "updated_at",
)


class CampFieldsMixin(serializers.Serializer):
    location = PointGeometryField(
        precision=6, read_only=True, allow_null=True, help_text="Null when the place is unknown."
    )
    population_individuals = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Individuals at the latest count."
    )
    population_households = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="Households at the latest count."
    )
    population_date = serializers.DateField(
        read_only=True, allow_null=True, help_text="Day of the latest count."
    )


class CampSerializer(CampFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Camp
        fields = CAMP_FIELDS
        read_only_fields = CAMP_FIELDS


class CampGeoSerializer(CampFieldsMixin, GeoFeatureModelSerializer):
    """A camp as a GeoJSON Feature (a point; null when the place is unknown)."""

    class Meta:
        model = Camp
        geo_field = "location"
        id_field = "site_id"
        fields = CAMP_FIELDS
        read_only_fields = CAMP_FIELDS


class CampPopulationSerializer(serializers.ModelSerializer):
    class Meta:
        model = CampPopulation
        fields = ("date", "individuals", "households", "source", "is_synthetic")
        read_only_fields = fields


class CampDetailFieldsMixin(serializers.Serializer):
    boundary = AnyGeometryField(
        precision=6, read_only=True, allow_null=True, help_text="Site outline (MultiPolygon)."
    )
    populations = CampPopulationSerializer(
        many=True, read_only=True, help_text="Every population figure, newest first."
    )


class CampDetailSerializer(CampDetailFieldsMixin, CampSerializer):
    class Meta(CampSerializer.Meta):
        fields = (*CAMP_FIELDS, "boundary", "populations")
        read_only_fields = fields


class CampDetailGeoSerializer(CampDetailFieldsMixin, CampGeoSerializer):
    class Meta(CampGeoSerializer.Meta):
        fields = (*CAMP_FIELDS, "boundary", "populations")
        read_only_fields = fields
