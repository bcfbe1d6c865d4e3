"""Safe geometry input: GeoJSON from users becomes GEOS geometry without GDAL ever seeing it.

GDAL before 3.9 can be made to read files or the network from a spatial reference definition
(Django's gis.W001). User input therefore never carries an SRS: a GeoJSON "crs" member or any SRID
other than 4326 is refused here, and geometry is built with shapely and GEOS, not OGR.
"""

from __future__ import annotations

import math
from typing import Any

import shapely
from django.contrib.gis.geos import GEOSGeometry
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOWED_TYPES = {"Point", "LineString", "Polygon", "MultiPolygon", "MultiLineString"}
MAX_COORDINATES = 20_000


def parse_geojson_geometry(value: Any, *, allowed: set[str] | None = None) -> GEOSGeometry:
    """Turn a GeoJSON geometry object (RFC 7946, lon/lat) into a valid GEOS geometry in 4326."""
    allowed = allowed or ALLOWED_TYPES
    if not isinstance(value, dict):
        raise ValidationError(_("Geometry must be a GeoJSON object."), code="invalid")
    if "crs" in value:
        raise ValidationError(
            _("GeoJSON 'crs' members are not accepted; coordinates are WGS84 lon/lat (RFC 7946)."),
            code="crs_not_allowed",
        )
    geom_type = value.get("type")
    if not isinstance(geom_type, str) or geom_type not in allowed:
        raise ValidationError(
            _("Geometry type must be one of: %(types)s.") % {"types": ", ".join(sorted(allowed))},
            code="wrong_type",
        )
    coordinates = value.get("coordinates")
    if coordinates == [] or coordinates is None:
        raise ValidationError(_("Geometry has no coordinates."), code="empty")
    _check_numbers(coordinates)
    try:
        # RFC 7946 allows an altitude; the monitor's geometry is 2D (GPS apps send one anyway).
        shape = shapely.force_2d(
            shapely.geometry.shape({"type": geom_type, "coordinates": coordinates})
        )
    except (ValueError, TypeError, AttributeError, IndexError, shapely.errors.GEOSException):
        raise ValidationError(_("Geometry coordinates are malformed."), code="invalid") from None
    return geos_from_shapely(shape)


def geos_from_shapely(shape: shapely.Geometry) -> GEOSGeometry:
    """Convert via WKB (GEOS to GEOS), checking emptiness and validity."""
    if shape.is_empty:
        raise ValidationError(_("Geometry is empty."), code="empty")
    if not shape.is_valid:
        reason = shapely.is_valid_reason(shape)
        raise ValidationError(
            _("Geometry is not valid: %(reason)s.") % {"reason": reason}, code="invalid"
        )
    return GEOSGeometry(memoryview(shapely.to_wkb(shape)), srid=4326)


def _check_numbers(value: Any, depth: int = 0) -> int:
    """Refuse NaN, infinities, non-numbers, absurd nesting and size before shapely sees them.

    Returns the number of positions.
    """
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Geometry coordinates are malformed."), code="invalid")
    if not any(isinstance(item, list) for item in value):
        _check_position(value)
        return 1
    if depth >= 3:
        raise ValidationError(_("Geometry coordinates are nested too deeply."), code="invalid")
    count = sum(_check_numbers(item, depth + 1) for item in value)
    if count > MAX_COORDINATES:
        raise ValidationError(_("Geometry has too many coordinates."), code="too_large")
    return count


def _check_position(position: list) -> None:
    if len(position) not in (2, 3):
        raise ValidationError(_("Each position must be [longitude, latitude]."), code="invalid")
    for number in position:
        if isinstance(number, bool) or not isinstance(number, (int, float)):
            raise ValidationError(_("Coordinates must be numbers."), code="invalid")
        if not math.isfinite(number):
            raise ValidationError(_("Coordinates must be finite numbers."), code="invalid")
    lon, lat = position[0], position[1]
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        raise ValidationError(
            _("Coordinates are out of range: longitude first, then latitude."), code="invalid"
        )
