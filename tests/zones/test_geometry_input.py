"""User geometry never reaches GDAL with an SRS of its own (the reason gis.W001 is silenced)."""

import pytest
from django.core.exceptions import ValidationError

from zones.geometry import parse_geojson_geometry


def test_a_valid_point_is_read_in_lon_lat_order():
    point = parse_geojson_geometry({"type": "Point", "coordinates": [36.6, 35.8]})
    assert (point.x, point.y, point.srid) == (36.6, 35.8, 4326)


@pytest.mark.parametrize(
    "crs",
    [
        {"type": "name", "properties": {"name": "EPSG:3857"}},
        {"type": "link", "properties": {"href": "file:///etc/passwd", "type": "proj4"}},
        {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}},
    ],
)
def test_geojson_with_a_crs_member_is_refused(crs):
    with pytest.raises(ValidationError) as excinfo:
        parse_geojson_geometry({"type": "Point", "coordinates": [36.6, 35.8], "crs": crs})
    assert excinfo.value.code == "crs_not_allowed"


@pytest.mark.parametrize(
    ("geometry", "code"),
    [
        ("POINT(36.6 35.8)", "invalid"),
        ({"type": "Point", "coordinates": []}, "empty"),
        ({"type": "Point", "coordinates": [float("nan"), 35.8]}, "invalid"),
        ({"type": "Point", "coordinates": [float("inf"), 35.8]}, "invalid"),
        ({"type": "Point", "coordinates": [36.6, 135.8]}, "invalid"),
        ({"type": "Point", "coordinates": ["36.6", 35.8]}, "invalid"),
        ({"type": "Point", "coordinates": [True, 35.8]}, "invalid"),
        ({"type": "GeometryCollection", "geometries": []}, "wrong_type"),
        ({"type": {}, "coordinates": [36.6, 35.8]}, "wrong_type"),
        ({"type": ["Point"], "coordinates": [36.6, 35.8]}, "wrong_type"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[36, 35], [37, 36], [37, 35], [36, 36], [36, 35]]],
            },
            "invalid",
        ),
        ({"type": "LineString", "coordinates": [[36, 35]]}, "invalid"),
        ({"type": "Point", "coordinates": [[[[[[36, 35]]]]]]}, "invalid"),
    ],
)
def test_bad_geometry_is_refused_with_a_reason(geometry, code):
    with pytest.raises(ValidationError) as excinfo:
        parse_geojson_geometry(geometry)
    assert excinfo.value.code == code


def test_only_allowed_types_pass():
    with pytest.raises(ValidationError) as excinfo:
        parse_geojson_geometry(
            {"type": "LineString", "coordinates": [[36, 35], [36.1, 35.1]]}, allowed={"Point"}
        )
    assert excinfo.value.code == "wrong_type"


def test_system_check_gis_w001_is_the_only_silenced_check(settings):
    assert settings.SILENCED_SYSTEM_CHECKS == ["gis.W001"]
