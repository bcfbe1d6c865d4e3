"""Reads of camps that span models: the camps of a zone."""

from __future__ import annotations

from django.contrib.gis.db.models import MultiPolygonField
from django.db.models import Q, Subquery

from camps.models import Camp, CampQuerySet
from zones.models import Zone, ZoneKind

_PCODE_COLUMN = {
    ZoneKind.GOVERNORATE: "adm1_pcode",
    ZoneKind.DISTRICT: "adm2_pcode",
    ZoneKind.SUBDISTRICT: "adm3_pcode",
}


def camps_in_zone(zone: Zone) -> CampQuerySet:
    """Camps whose admin P-code at the zone's level is the zone's, or whose point lies in the
    zone (agreement zones such as the corridor have no P-code column; camps with a wrong or
    missing P-code are still found by their point).

    The zone's outline stays in the database (a subquery): a governorate is thousands of
    vertices, not worth a round trip through Python.
    """
    outline = Subquery(
        Zone.objects.filter(pk=zone.pk).values("geom")[:1], output_field=MultiPolygonField()
    )
    condition = Q(location__intersects=outline)
    column = _PCODE_COLUMN.get(zone.kind)
    if column:
        condition |= Q(**{column: zone.pcode})
    return Camp.objects.filter(condition)
