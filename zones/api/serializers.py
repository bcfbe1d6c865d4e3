"""Zone and gazetteer serializers: plain JSON, and GeoJSON features (RFC 7946, lon/lat)."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from common.fields import AnyGeometryField, PointGeometryField
from zones.models import Locality, Zone

ZONE_FIELDS = ("pcode", "kind", "name_en", "name_ar", "parent", "source", "updated_at")


class ZoneFieldsMixin(serializers.Serializer):
    parent = serializers.CharField(
        source="parent_pcode", read_only=True, allow_null=True, help_text="P-code of the parent."
    )


class ZoneSerializer(ZoneFieldsMixin, serializers.ModelSerializer):
    """A zone without its area: ask for GeoJSON to get the shapes."""

    class Meta:
        model = Zone
        fields = ZONE_FIELDS
        read_only_fields = ZONE_FIELDS


class ZoneGeoSerializer(ZoneFieldsMixin, GeoFeatureModelSerializer):
    """A zone as a GeoJSON Feature; its id is the P-code."""

    # The area as the view annotated it (`outline`: simplified on request); six decimals are
    # about 10 cm, finer than any boundary here.
    geom = AnyGeometryField(source="outline", precision=6, read_only=True)

    class Meta:
        model = Zone
        geo_field = "geom"
        id_field = "pcode"
        fields = ZONE_FIELDS
        read_only_fields = ZONE_FIELDS


LOCALITY_FIELDS = ("id", "name_en", "name_ar", "adm1_pcode", "adm2_pcode", "adm3_pcode", "location")


class LocalityFieldsMixin(serializers.Serializer):
    id = serializers.IntegerField(source="wof_id", read_only=True, help_text="Who's On First id.")
    location = PointGeometryField(precision=6, read_only=True)


class LocalitySerializer(LocalityFieldsMixin, serializers.ModelSerializer):
    class Meta:
        model = Locality
        fields = LOCALITY_FIELDS
        read_only_fields = LOCALITY_FIELDS


class LocalityGeoSerializer(LocalityFieldsMixin, GeoFeatureModelSerializer):
    class Meta:
        model = Locality
        geo_field = "location"
        id_field = "id"
        fields = LOCALITY_FIELDS
        read_only_fields = LOCALITY_FIELDS
