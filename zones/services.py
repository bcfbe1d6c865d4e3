"""Writes and checks that belong to zones: the area of interest, the zones-changed signal."""

from __future__ import annotations

from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.dispatch import Signal
from django.utils.translation import gettext as _

from zones.models import Zone

# Sent after zone geometry changed (reference data loaded, a zone edited in the admin). Apps that
# store point-in-zone results (incidents) re-assign them in one set-based statement.
zones_changed = Signal()


def zone_area_validate(geom: GEOSGeometry, *, field: str = "location") -> None:
    """Refuse geometry that lies outside the four governorates the monitor covers (their
    polygons, or their sub-districts')."""
    if geom.srid not in (None, 4326):
        raise ValidationError({field: _("Geometry must be in WGS84 (EPSG:4326).")})
    # A line may cross a governorate border: accept it when the governorates together cover it.
    # The layers are separate datasets: a few places lie a metre outside their governorate's
    # polygon but inside their sub-district's, so either layer covering the place will do.
    inside = Zone.objects.filter(kind__in=["governorate", "subdistrict"], geom__covers=geom)
    if not inside.exists() and (geom.geom_type == "Point" or not _covered_by_union(geom)):
        raise ValidationError(
            {
                field: _(
                    "This place is outside the monitored area (Aleppo, Hama, Idleb and "
                    "Lattakia governorates). Check that longitude comes before latitude."
                )
            }
        )


def _covered_by_union(geom: GEOSGeometry) -> bool:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_Covers(ST_Union(geom), ST_GeomFromEWKB(%s)) FROM zones_zone WHERE kind = %s",
            [bytes(geom.ewkb), "governorate"],
        )
        (covered,) = cursor.fetchone()
    return bool(covered)


def zones_changed_notify() -> None:
    zones_changed.send(sender=Zone)
