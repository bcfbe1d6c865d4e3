"""Load the NW Syria reference data from fixtures/reference/ (sources and licences in its README).

Each loader is an upsert keyed on a stable code that writes a row only when its content differs, so
loading twice changes nothing. Geometry is read with shapely (never GDAL: see zones.geometry) and
metric work happens in UTM 37N (EPSG:32637).
"""

from __future__ import annotations

import csv
import datetime
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy
import shapely
from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, LineString, MultiPolygon, Point
from django.db import models, transaction
from pyproj import Transformer
from shapely.geometry import shape

from camps.models import Camp, CampPopulation
from patrols.models import M4_HIGHWAY, M4_PATROL_ROUTE, Forces, ObservationPost, Route
from zones.geometry import geos_from_shapely
from zones.models import Locality, Zone, ZoneKind
from zones.text import normalize_name

REFERENCE_DIR = Path(settings.BASE_DIR) / "fixtures" / "reference"
UTM_37N = "EPSG:32637"
CORRIDOR_HALF_WIDTH_M = 6_000
CORRIDOR_PCODE = "M4-SC"
PATROL_ROUTE_SLUG = M4_PATROL_ROUTE
HIGHWAY_ROUTE_SLUG = M4_HIGHWAY
ACU_SOURCE = "ACU IDP Camps Monitoring, April 2020"
ACU_DATE = datetime.date(2020, 4, 30)

_to_utm = Transformer.from_crs("EPSG:4326", UTM_37N, always_xy=True).transform
_from_utm = Transformer.from_crs(UTM_37N, "EPSG:4326", always_xy=True).transform


def transform(func, geom: shapely.Geometry) -> shapely.Geometry:
    """Reproject a shapely geometry with a pyproj transformer function."""
    return shapely.transform(geom, lambda xy: numpy.column_stack(func(xy[:, 0], xy[:, 1])))


@dataclass
class LoadReport:
    counts: Counter = field(default_factory=Counter)
    corridor_area_km2: float | None = None
    m4_patrol_length_km: float | None = None

    def count(self, model: type[models.Model], outcome: str) -> None:
        self.counts[(model._meta.verbose_name_plural, outcome)] += 1

    @property
    def changed_zones(self) -> bool:
        zones = Zone._meta.verbose_name_plural
        return any(self.counts[(zones, outcome)] for outcome in ("created", "updated"))

    def lines(self) -> list[str]:
        names = sorted({name for name, _ in self.counts})
        out = []
        for name in names:
            parts = [
                f"{outcome} {self.counts[(name, outcome)]}"
                for outcome in ("created", "updated", "unchanged")
            ]
            out.append(f"{name}: " + ", ".join(parts))
        return out


def load_reference_data() -> LoadReport:
    """Load everything in one transaction; tell zone users (incidents) when zones changed."""
    from zones.services import zones_changed_notify

    report = LoadReport()
    with transaction.atomic():
        load_admin_zones(report)
        patrol_line = load_routes(report)
        load_corridor(report, patrol_line)
        load_localities(report)
        load_observation_posts(report)
        load_camps(report)
        if report.changed_zones:
            zones_changed_notify()
    return report


def _read_geojson(name: str) -> list[dict[str, Any]]:
    with open(REFERENCE_DIR / name, encoding="utf-8") as handle:
        return json.load(handle)["features"]


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(REFERENCE_DIR / name, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _multipolygon(geometry: dict[str, Any]) -> GEOSGeometry:
    geom = shape(geometry)
    if not geom.is_valid:
        geom = shapely.make_valid(geom)
    if geom.geom_type == "Polygon":
        geom = shapely.MultiPolygon([geom])
    result = geos_from_shapely(geom)
    return result if isinstance(result, MultiPolygon) else MultiPolygon(result, srid=4326)


def _same(old: Any, new: Any) -> bool:
    if isinstance(old, GEOSGeometry) or isinstance(new, GEOSGeometry):
        if old is None or new is None:
            return old is new
        return old.equals_exact(new, tolerance=1e-9)
    return old == new


def upsert(
    model: type[models.Model], report: LoadReport, lookup: dict, values: dict
) -> models.Model:
    """Create or update one row, writing only when something differs (idempotent loads)."""
    obj = model.objects.filter(**lookup).first()
    if obj is None:
        obj = model.objects.create(**lookup, **values)
        report.count(model, "created")
        return obj
    changed = [name for name, value in values.items() if not _same(getattr(obj, name), value)]
    if changed:
        for name in changed:
            setattr(obj, name, values[name])
        obj.save()
        report.count(model, "updated")
    else:
        report.count(model, "unchanged")
    return obj


def load_admin_zones(report: LoadReport) -> None:
    source_adm1 = "OCHA COD-AB Syria v02 (2020-12-17), CC BY 3.0 IGO"
    source_adm3 = "geoBoundaries (UN/OCHA 2017), CC BY 3.0 IGO; P-codes Open-Syria, CC BY 4.0"
    governorates = {}
    for feature in _read_geojson("syr_adm1_nw_cod.geojson"):
        p = feature["properties"]
        governorates[p["ADM1_PCODE"]] = upsert(
            Zone,
            report,
            {"pcode": p["ADM1_PCODE"]},
            {
                "kind": ZoneKind.GOVERNORATE,
                "name_en": p["ADM1_EN"],
                "name_ar": p["ADM1_AR"],
                "parent": None,
                "geom": _multipolygon(feature["geometry"]),
                "source": source_adm1,
            },
        )
    districts = {}
    for feature in _read_geojson("syr_adm2_nw_from_adm3_dissolve.geojson"):
        p = feature["properties"]
        districts[p["ADM2_PCODE"]] = upsert(
            Zone,
            report,
            {"pcode": p["ADM2_PCODE"]},
            {
                "kind": ZoneKind.DISTRICT,
                "name_en": p["ADM2_EN"],
                "name_ar": p["ADM2_AR"],
                "parent": governorates[p["ADM1_PCODE"]],
                "geom": _multipolygon(feature["geometry"]),
                "source": "merged from the sub-districts; " + source_adm3,
            },
        )
    for feature in _read_geojson("syr_adm3_nw_geoboundaries.geojson"):
        p = feature["properties"]
        upsert(
            Zone,
            report,
            {"pcode": p["ADM3_PCODE"]},
            {
                "kind": ZoneKind.SUBDISTRICT,
                "name_en": p["ADM3_EN"],
                "name_ar": p["ADM3_AR"],
                "parent": districts[p["ADM2_PCODE"]],
                "geom": _multipolygon(feature["geometry"]),
                "source": source_adm3,
            },
        )


def load_routes(report: LoadReport) -> LineString:
    features = {f["properties"]["id"]: f for f in _read_geojson("m4_route_approx.geojson")}
    spec = [
        (
            PATROL_ROUTE_SLUG,
            "m4_joint_patrol_trumba_ain_al_hawr",
            Route.Kind.PATROL_ROUTE,
            "طريق الدوريات المشتركة على M4: ترنبة - عين الحور",
        ),
        (
            HIGHWAY_ROUTE_SLUG,
            "m4_saraqib_latakia_approx",
            Route.Kind.HIGHWAY,
            "الطريق M4: سراقب - اللاذقية",
        ),
    ]
    lines = {}
    for slug, feature_id, kind, name_ar in spec:
        feature = features[feature_id]
        p = feature["properties"]
        line = geos_from_shapely(shape(feature["geometry"]))
        upsert(
            Route,
            report,
            {"slug": slug},
            {
                "kind": kind,
                "name_en": p["name"],
                "name_ar": name_ar,
                "geom": line,
                "geometry_quality": p.get("geometry_quality", ""),
                "source": p.get("basis", "Drawn through Wikipedia / GeoNames town points"),
            },
        )
        lines[slug] = line
    return lines[PATROL_ROUTE_SLUG]


def corridor_from_line(line: LineString) -> tuple[GEOSGeometry, float]:
    """Buffer the patrol line 6 km each side in UTM 37N: flat ends (the corridor stops where the
    patrol route stops), round joins. Returns the corridor in WGS84 and its area in km2."""
    metric = transform(_to_utm, shape(json.loads(line.geojson)))
    buffered = metric.buffer(
        CORRIDOR_HALF_WIDTH_M, cap_style="flat", join_style="round", quad_segs=16
    )
    area_km2 = buffered.area / 1e6
    wgs84 = transform(_from_utm, buffered)
    return _multipolygon(shapely.geometry.mapping(wgs84)), area_km2


def load_corridor(report: LoadReport, patrol_line: LineString) -> None:
    geom, area_km2 = corridor_from_line(patrol_line)
    report.corridor_area_km2 = area_km2
    report.m4_patrol_length_km = (
        transform(_to_utm, shape(json.loads(patrol_line.geojson))).length / 1000
    )
    upsert(
        Zone,
        report,
        {"pcode": CORRIDOR_PCODE},
        {
            "kind": ZoneKind.SECURITY_CORRIDOR,
            "name_en": "M4 security corridor (6 km each side, Trumba - Ain al-Hawr)",
            "name_ar": "الممر الآمن على طريق M4 (6 كم على كل جانب)",
            "parent": None,
            "geom": geom,
            "axis": patrol_line,
            "source": "Moscow Additional Protocol, 5 March 2020; from the approximate patrol line",
        },
    )


_ARABIC_LETTER = re.compile("[\u0600-\u06ff]")
_GEONAMES_SOURCE = re.compile(r"\bGeoNames (\d+)\b")


def _key_place_names() -> dict[int, dict[str, str]]:
    """Arabic and other names of the curated key places, by the GeoNames id of their point."""
    names = {}
    for row in _read_csv("nw_key_places.csv"):
        match = _GEONAMES_SOURCE.search(row["coord_source"])
        if match:
            names[int(match.group(1))] = {"name_ar": row["name_ar"], "alt_names": row["alt_names"]}
    return names


def load_localities(report: LoadReport) -> None:
    """5,168 localities in one bulk upsert; unchanged rows are counted, not written.

    About one gazetteer row in seven carries a Latin transliteration ("Arīḩā") where the Arabic
    name belongs: it stays in the search key but is not shown as the Arabic name. The curated key
    places (matched by GeoNames id) supply their Arabic name and spelling variants, so that a
    search for "أريحا" or "Kafranbel" finds the town.
    """
    key_places = _key_place_names()
    existing = {
        row["wof_id"]: row
        for row in Locality.objects.values(
            "wof_id",
            "name_en",
            "name_ar",
            "geonames_id",
            "wikidata_id",
            "adm1_pcode",
            "adm2_pcode",
            "adm3_pcode",
            "location",
            "search_name",
        )
    }
    to_write = []
    for row in _read_csv("nw_localities_wof_gazetteer.csv"):
        geonames_id = int(row["geonames_id"]) if row["geonames_id"] else None
        key_place = key_places.get(geonames_id, {})
        name_ar = key_place.get("name_ar") or row["name_ar"]
        values = {
            "wof_id": int(row["wof_id"]),
            "name_en": row["name"],
            "name_ar": name_ar if _ARABIC_LETTER.search(name_ar) else "",
            "geonames_id": geonames_id,
            "wikidata_id": row["wikidata_id"],
            "adm1_pcode": row["ADM1_PCODE"],
            "adm2_pcode": row["ADM2_PCODE"],
            "adm3_pcode": row["ADM3_PCODE"],
            "location": Point(float(row["lon"]), float(row["lat"]), srid=4326),
        }
        # Every spelling we know, once each (the order keeps the Latin name first: the search
        # ranks names that start with the query by the key's prefix).
        alt_names = [name.strip() for name in key_place.get("alt_names", "").split(",")]
        spellings = [normalize_name(s) for s in (row["name"], row["name_ar"], name_ar, *alt_names)]
        values["search_name"] = " ".join(dict.fromkeys(s for s in spellings if s))
        old = existing.get(values["wof_id"])
        if old is not None and all(_same(old[k], v) for k, v in values.items()):
            report.count(Locality, "unchanged")
            continue
        report.count(Locality, "updated" if old else "created")
        to_write.append(Locality(**values))
    Locality.objects.bulk_create(
        to_write,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["wof_id"],
        update_fields=[
            "name_en",
            "name_ar",
            "geonames_id",
            "wikidata_id",
            "adm1_pcode",
            "adm2_pcode",
            "adm3_pcode",
            "location",
            "search_name",
        ],
    )


def _point_or_none(row: dict[str, str]) -> Point | None:
    if not row.get("lat") or not row.get("lon"):
        return None
    return Point(float(row["lon"]), float(row["lat"]), srid=4326)


def load_observation_posts(report: LoadReport) -> None:
    for row in _read_csv("turkish_observation_posts_astana_12.csv"):
        upsert(
            ObservationPost,
            report,
            {"code": f"tr-op-{int(row['op_no']):02d}"},
            {
                "number": int(row["op_no"]),
                "name_en": row["name"],
                "name_ar": row["name_ar"],
                "alt_names": row["alt_names"],
                "location": _point_or_none(row),
                "location_quality": row["coord_quality"],
                "operator": Forces.TURKISH,
                "notes": row["note"],
                "source": f"{row['list_source']}; coordinates: {row['coord_source']}".strip("; "),
            },
        )


def _arabic_names_of_key_places() -> dict[str, str]:
    """Latin spelling (name and alternatives) -> Arabic name, from the key places list."""
    names = {}
    for row in _read_csv("nw_key_places.csv"):
        for spelling in [row["name"], *row["alt_names"].split(",")]:
            if spelling.strip() and row["name_ar"]:
                names[normalize_name(spelling)] = row["name_ar"]
    return names


def load_camps(report: LoadReport) -> None:
    arabic = _arabic_names_of_key_places()
    for row in _read_csv("nw_idp_camp_clusters_acu_2020.csv"):
        name_ar = arabic.get(normalize_name(row["cluster"]), "")
        camp = upsert(
            Camp,
            report,
            {"site_id": "ACU-" + row["cluster"].upper().replace(" ", "-")},
            {
                "name_en": f"{row['cluster']} camps",
                "name_ar": f"مخيمات {name_ar}" if name_ar else "",
                "camp_type": Camp.Type.CLUSTER,
                "location": _point_or_none(row),
                "location_quality": row["coord_quality"],
                "adm1_pcode": row["ADM1_PCODE"],
                "adm2_pcode": row["ADM2_PCODE"],
                "adm3_pcode": row["ADM3_PCODE"],
                "status": Camp.Status.OPEN,
                "source": row["data_source"],
            },
        )
        upsert(
            CampPopulation,
            report,
            {"camp": camp, "date": ACU_DATE},
            {
                "individuals": int(row["camp_population_apr2020"]),
                "households": None,
                "source": ACU_SOURCE,
            },
        )


def iter_report(report: LoadReport) -> Iterable[str]:
    yield from report.lines()
    if report.m4_patrol_length_km is not None:
        yield f"M4 patrol route length: {report.m4_patrol_length_km:.1f} km"
    if report.corridor_area_km2 is not None:
        yield f"M4 security corridor area: {report.corridor_area_km2:.1f} km2 (UTM 37N)"
