import csv
import json

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command
from pyproj import Geod

from camps.models import Camp, CampPopulation
from monitoring.reference import REFERENCE_DIR, load_reference_data
from patrols.models import ObservationPost, Route
from tests.factories import ARIHA, ATMEH
from zones.models import Locality, Zone, ZoneKind

pytestmark = pytest.mark.usefixtures("reference_data")


@pytest.mark.django_db
def test_admin_levels_load_with_their_pcodes():
    assert Zone.objects.governorates().count() == 4
    assert Zone.objects.districts().count() == 22
    assert Zone.objects.subdistricts().count() == 110
    assert set(Zone.objects.governorates().values_list("pcode", flat=True)) == {
        "SY02",
        "SY05",
        "SY06",
        "SY07",
    }
    idleb = Zone.objects.get(pcode="SY07")
    assert idleb.name_ar == "إدلب"
    # Every sub-district hangs under a district whose P-code prefixes its own, and so on up.
    for sub in Zone.objects.subdistricts().select_related("parent__parent"):
        assert sub.pcode.startswith(sub.parent.pcode)
        assert sub.parent.kind == ZoneKind.DISTRICT
        assert sub.parent.parent.kind == ZoneKind.GOVERNORATE


@pytest.mark.django_db
def test_corridor_area_matches_line_length_times_twelve_km():
    corridor = Zone.objects.corridors().get()
    route = Route.objects.get(slug="m4-patrol")
    # Independent computation: geodesic length of the line on the WGS84 ellipsoid x 12 km ...
    line_km = Geod(ellps="WGS84").geometry_length(_shapely(route.geom)) / 1000
    expected_km2 = line_km * 12
    # ... against the corridor's geodesic area (not the UTM area the loader used).
    area_km2 = abs(Geod(ellps="WGS84").geometry_area_perimeter(_shapely(corridor.geom))[0]) / 1e6
    assert 59 < line_km < 62
    assert abs(area_km2 - expected_km2) / expected_km2 < 0.02


@pytest.mark.django_db
def test_ariha_is_inside_the_corridor_and_atmeh_is_not():
    corridors = Zone.objects.corridors()
    assert corridors.containing(Point(*ARIHA, srid=4326)).exists()
    assert not corridors.containing(Point(*ATMEH, srid=4326)).exists()


@pytest.mark.django_db
def test_named_towns_fall_in_the_subdistrict_the_reference_data_gives():
    with open(REFERENCE_DIR / "nw_key_places.csv", encoding="utf-8") as handle:
        places = [
            row
            for row in csv.DictReader(handle)
            if row["lat"] and row["ADM3_PCODE"] and "town" in row["role"]
        ]
    assert len(places) >= 8
    mismatches = []
    for row in places:
        point = Point(float(row["lon"]), float(row["lat"]), srid=4326)
        found = Zone.objects.subdistricts().containing(point).values_list("pcode", flat=True)
        if list(found) != [row["ADM3_PCODE"]]:
            mismatches.append((row["name"], row["ADM3_PCODE"], list(found)))
    assert mismatches == []


@pytest.mark.django_db
def test_loading_twice_changes_nothing():
    before = _snapshot()
    report = load_reference_data()
    assert not any(
        count for (_, outcome), count in report.counts.items() if outcome in ("created", "updated")
    )
    assert _snapshot() == before


@pytest.mark.django_db
def test_reference_counts_and_posts_without_coordinates_are_kept():
    assert Locality.objects.count() == 5168
    assert ObservationPost.objects.count() == 12
    assert ObservationPost.objects.filter(location__isnull=True).count() == 3
    assert Camp.objects.count() == 9
    assert CampPopulation.objects.filter(date="2020-04-30").count() == 9
    atma = Camp.objects.with_latest_population().get(site_id="ACU-ATMA")
    assert atma.population_individuals >= 1


@pytest.mark.django_db
def test_gazetteer_arabic_names_are_in_arabic_script():
    # The gazetteer has Latin transliterations ("Arīḩā") in its Arabic column for about one row
    # in seven; those are searchable but not shown as Arabic names.
    assert not Locality.objects.filter(name_ar__regex="[A-Za-z]").exists()
    ariha = Locality.objects.get(geonames_id=172994)
    assert ariha.name_ar == "أريحا"  # from the curated key places
    assert "ariha" in ariha.search_name
    assert "اريحا" in ariha.search_name


@pytest.mark.django_db
def test_load_command_prints_the_corridor_area(capsys):
    call_command("load_reference_data")
    out = capsys.readouterr().out
    assert "M4 security corridor area:" in out
    area = float(out.split("M4 security corridor area:")[1].split("km2")[0])
    assert 700 < area < 750


def _shapely(geom):
    from shapely.geometry import shape

    return shape(json.loads(geom.geojson))


def _snapshot():
    return (
        list(Zone.objects.order_by("pcode").values_list("pcode", "updated_at")),
        list(Camp.objects.order_by("site_id").values_list("site_id", "updated_at")),
        Locality.objects.count(),
        list(Route.objects.order_by("slug").values_list("slug", "geom")),
    )
