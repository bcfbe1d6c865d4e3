"""Synthetic demo data: patrols on the M4, truce-violation reports and camp population histories.

Everything is drawn from ``random.Random`` streams derived from one seed and from fixed calendar
dates, never from the clock, so a seed always gives the same data (screenshots, tests, demos).
Every row is marked ``is_synthetic`` and its text starts with ``[SYNTHETIC]``; real rows are never
touched. The places are real (the reference gazetteer, the patrol route, the ACU camp clusters):
only the events are invented.
"""

from __future__ import annotations

import bisect
import calendar
import datetime
import math
import random
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

import shapely
from django.contrib.gis.geos import LineString, Point
from django.db import connection, transaction
from django.db.models import Count, ProtectedError
from pyproj import Transformer
from shapely.ops import substring

from camps.models import Camp, CampPopulation
from incidents.models import (
    Direction,
    Incident,
    LocationPrecision,
    ObservationMethod,
    ReviewStatus,
    Side,
    SubEventType,
    Target,
    TimePrecision,
    Weapon,
)
from incidents.services import incident_zones_assign
from monitoring.reference import PATROL_ROUTE_SLUG, UTM_37N
from patrols.models import Forces, Patrol, PatrolEvent, Route
from zones.models import Locality, Zone

MARK = "[SYNTHETIC] "
SOURCE = "Synthetic demo data (manage.py seed_demo), not a real report"
LOCAL_TZ = ZoneInfo("Asia/Damascus")

# The calendar the demo covers; the ceasefire of the 5 March 2020 Moscow protocol took effect at
# midnight, the first joint patrol ran on 15 March 2020 and was cut short by a sit-in on the road.
FIRST_DAY = datetime.date(2020, 1, 1)
LAST_DAY = datetime.date(2021, 12, 31)
CEASEFIRE_DAY = datetime.date(2020, 3, 6)
FIRST_PATROL_DAY = datetime.date(2020, 3, 15)
# Until the first patrol that reached Ain al-Hawr (22 July 2020) most patrols were shortened.
FIRST_FULL_PATROL_DAY = datetime.date(2020, 7, 22)

MAX_OFFSET_M = 1_400  # incident points stay within 1.5 km of their locality
DUPLICATE_SHARE = 0.04
HOUSEHOLD_SIZE = 5.5
METRES_PER_DEGREE = 111_320

_to_utm = Transformer.from_crs("EPSG:4326", UTM_37N, always_xy=True).transform
_from_utm = Transformer.from_crs(UTM_37N, "EPSG:4326", always_xy=True).transform


class DemoDataError(Exception):
    """The demo data cannot be written (the message says why and what to do)."""


class ReferenceDataMissing(DemoDataError):
    """The gazetteer, zones, taxonomy or patrol route the demo data is built on are not loaded."""


@dataclass
class SeedReport:
    seed: int
    removed: Counter = field(default_factory=Counter)
    incidents_by_status: Counter = field(default_factory=Counter)
    incidents_by_event_type: Counter = field(default_factory=Counter)
    incidents_by_area: Counter = field(default_factory=Counter)
    incidents_by_year: Counter = field(default_factory=Counter)
    incidents_moved_to_locality: int = 0
    incidents_without_subdistrict: int = 0
    incidents_in_corridor: int = 0
    patrols_by_status: Counter = field(default_factory=Counter)
    patrol_events_by_kind: Counter = field(default_factory=Counter)
    camp_population_rows: int = 0
    camps_without_figure: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        def fmt(counter: Counter) -> str:
            return ", ".join(f"{key} {value}" for key, value in sorted(counter.items())) or "none"

        removed = fmt(self.removed) if self.removed else "nothing"
        incidents = sum(self.incidents_by_status.values())
        patrols = sum(self.patrols_by_status.values())
        out = [
            f"Removed earlier synthetic rows: {removed}",
            f"Incidents: {incidents} (seed {self.seed})",
            f"  by review status: {fmt(self.incidents_by_status)}",
            f"  by event type: {fmt(self.incidents_by_event_type)}",
            f"  by area: {fmt(self.incidents_by_area)}",
            f"  by year: {fmt(self.incidents_by_year)}",
            f"  in the M4 corridor: {self.incidents_in_corridor}; "
            f"without a sub-district: {self.incidents_without_subdistrict}; "
            f"moved onto their locality (offset fell outside the sub-districts): "
            f"{self.incidents_moved_to_locality}",
            f"Patrols: {patrols}: {fmt(self.patrols_by_status)}",
            f"  patrol events: {fmt(self.patrol_events_by_kind)}",
            f"Camp population rows: {self.camp_population_rows}",
        ]
        if self.camps_without_figure:
            out.append(
                "  camps skipped (no real figure to grow from): "
                + ", ".join(self.camps_without_figure)
            )
        return out


# --- entry points ------------------------------------------------------------------------------


def demo_data_remove() -> Counter:
    """Delete every synthetic incident, patrol (with its events) and camp population row.

    Real rows are never touched. Synthetic duplicates are unlinked first because duplicate_of is
    PROTECT; a real report marked as a duplicate of a synthetic one stops the removal.
    """
    removed: Counter = Counter()
    with transaction.atomic():
        Incident.objects.synthetic().filter(duplicate_of__isnull=False).update(duplicate_of=None)
        try:
            _, by_model = Incident.objects.synthetic().delete()
        except ProtectedError as exc:
            raise DemoDataError(
                f"{len(exc.protected_objects)} real report(s) are marked as duplicates of "
                "synthetic ones; point them elsewhere before removing the demo data."
            ) from exc
        removed.update(by_model)
        removed.update(Patrol.objects.filter(is_synthetic=True).delete()[1])
        removed.update(CampPopulation.objects.filter(is_synthetic=True).delete()[1])
    return Counter({label.split(".")[-1]: n for label, n in removed.items() if n})


def demo_data_present() -> bool:
    """Whether any incident or patrol exists, real or synthetic (seed_demo --if-empty stops)."""
    return Incident.objects.exists() or Patrol.objects.exists()


def demo_data_seed(*, seed: int, incident_count: int = 3000) -> SeedReport:
    """Replace the synthetic data with the data of this seed, in one transaction."""
    _reference_data_check()
    report = SeedReport(seed=seed)
    with transaction.atomic():
        report.removed = demo_data_remove()
        _patrols_create(rng=_rng(seed, "patrols"), report=report)
        _incidents_create(rng=_rng(seed, "incidents"), count=incident_count, report=report)
        _camp_populations_create(rng=_rng(seed, "camps"), report=report)
    return report


def _rng(seed: int, stream: str) -> random.Random:
    # One stream per kind of record, so that changing --incidents leaves the patrols alone. A str
    # seed is hashed with SHA-512 by random (not by hash()): it does not depend on PYTHONHASHSEED.
    return random.Random(f"ceasefire-demo:{seed}:{stream}")  # noqa: S311 (demo data, not secrets)


def _reference_data_check() -> None:
    missing = []
    if not Zone.objects.subdistricts().exists():
        missing.append("sub-district zones")
    if not Route.objects.filter(slug=PATROL_ROUTE_SLUG).exists():
        missing.append(f"the patrol route '{PATROL_ROUTE_SLUG}'")
    if not Locality.objects.exists():
        missing.append("the locality gazetteer")
    if not SubEventType.objects.filter(slug__in=[slug for slug, *_ in INCIDENT_TYPES]).exists():
        missing.append("the ACLED event taxonomy")
    if missing:
        raise ReferenceDataMissing(
            "Reference data is missing (" + ", ".join(missing) + "). "
            "Run `manage.py migrate` and `manage.py load_reference_data` first."
        )


def _local(day: datetime.date, hour: int, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ)


def _weighted(rng: random.Random, table: dict[Any, float]) -> Any:
    return rng.choices(list(table), weights=list(table.values()))[0]


# --- patrols -----------------------------------------------------------------------------------

PATROL_GAP_DAYS = [
    # (from, to, gaps between patrols in days): one or two a week in 2020, thinning in 2021.
    (datetime.date(2020, 3, 15), datetime.date(2020, 8, 31), [3, 3, 4, 4, 5, 7]),
    (datetime.date(2020, 9, 1), datetime.date(2020, 12, 31), [4, 5, 7, 7, 7]),
    (datetime.date(2021, 1, 1), datetime.date(2021, 6, 30), [7, 7, 10, 14]),
    (datetime.date(2021, 7, 1), datetime.date(2021, 12, 31), [10, 14, 14, 21]),
]

EVENT_KINDS_EARLY = {
    PatrolEvent.Kind.PROTEST: 45,
    PatrolEvent.Kind.BLOCKED_ROAD: 45,
    PatrolEvent.Kind.IED: 5,
    PatrolEvent.Kind.ATTACK: 5,
}
EVENT_KINDS_LATER = {
    PatrolEvent.Kind.BLOCKED_ROAD: 30,
    PatrolEvent.Kind.PROTEST: 20,
    PatrolEvent.Kind.IED: 25,
    PatrolEvent.Kind.ATTACK: 25,
}
EVENT_TEXT = {
    PatrolEvent.Kind.PROTEST: "Protesters staged a sit-in on the highway; the convoy turned back.",
    PatrolEvent.Kind.BLOCKED_ROAD: "Road blocked with earth berms and burning tyres.",
    PatrolEvent.Kind.IED: "An IED exploded near the convoy; the patrol was halted.",
    PatrolEvent.Kind.ATTACK: "The convoy came under fire; the patrol withdrew.",
}
# Fixed English wording (not the translatable labels), so the text does not depend on the language.
FORCES_TEXT = {
    Forces.JOINT: "Joint Turkish-Russian",
    Forces.TURKISH: "Turkish",
    Forces.RUSSIAN: "Russian",
}
EVENT_SHORT = {
    PatrolEvent.Kind.PROTEST: "protest",
    PatrolEvent.Kind.BLOCKED_ROAD: "road blocked",
    PatrolEvent.Kind.IED: "IED",
    PatrolEvent.Kind.ATTACK: "attack on the convoy",
}
CANCEL_REASONS = [
    "cancelled for security reasons",
    "cancelled: bad weather",
    "postponed by the Russian side",
    "postponed by the Turkish side",
]


def _patrol_days(rng: random.Random) -> list[datetime.date]:
    days = []
    day = FIRST_PATROL_DAY
    while day <= LAST_DAY:
        days.append(day)
        gaps = next(g for start, end, g in PATROL_GAP_DAYS if start <= day <= end)
        day += datetime.timedelta(days=rng.choice(gaps))
    return days


def _track(rng: random.Random, route_m: shapely.LineString, end_m: float) -> LineString:
    """A GPS-like track: the route up to end_m, sampled every ~250 m with a few metres of jitter."""
    part = substring(route_m, 0, end_m)
    steps = max(2, math.ceil(part.length / 250))
    coords = []
    for i in range(steps + 1):
        p = part.interpolate(part.length * i / steps)
        jitter = 0 if i in (0, steps) else 6
        coords.append((p.x + rng.uniform(-jitter, jitter), p.y + rng.uniform(-jitter, jitter)))
    wgs84 = shapely.transform(shapely.LineString(coords), _from_utm, interleaved=False)
    return LineString([(round(x, 6), round(y, 6)) for x, y in wgs84.coords], srid=4326)


def _patrol_draw(
    *, rng: random.Random, day: datetime.date, route: Route, route_m: shapely.LineString
) -> tuple[Patrol, PatrolEvent | None]:
    """One patrol; for a patrol cut short also the event that stopped it, at its track's end."""
    first = day == FIRST_PATROL_DAY
    early = day < FIRST_FULL_PATROL_DAY
    forces = _weighted(rng, {Forces.JOINT: 90, Forces.TURKISH: 5, Forces.RUSSIAN: 5})
    roll = rng.random()
    if first or roll < (0.35 if early else 0.07):
        status = Patrol.Status.CUT_SHORT
    elif roll > 0.96:
        status = Patrol.Status.CANCELLED
    else:
        status = Patrol.Status.COMPLETED
    if first:
        forces = Forces.JOINT
    planned_start = _local(day, rng.choice([8, 8, 9, 9, 10]), rng.choice([0, 15, 30, 45]))
    duration = datetime.timedelta(minutes=rng.randrange(150, 241, 10))
    patrol = Patrol(
        route=route,
        date=day,
        forces=forces,
        status=status,
        planned_start=planned_start,
        planned_end=planned_start + duration,
        is_synthetic=True,
    )
    label = f"{MARK}{FORCES_TEXT[forces]} patrol Trumba - Ain al-Hawr"
    if status == Patrol.Status.CANCELLED:
        patrol.notes = f"{label}: {rng.choice(CANCEL_REASONS)}."
        return patrol, None
    patrol.actual_start = planned_start + datetime.timedelta(minutes=rng.randrange(0, 45, 5))
    if status == Patrol.Status.COMPLETED:
        minutes = max(60.0, duration.total_seconds() / 60 + rng.gauss(0, 15))
        patrol.actual_end = patrol.actual_start + datetime.timedelta(minutes=round(minutes))
        patrol.track = _track(rng, route_m, route_m.length)
        patrol.notes = f"{label}: completed the full route."
        return patrol, None

    # Cut short: the first patrols stopped within a few kilometres of Trumba, later ones further on.
    if first:
        fraction = rng.uniform(0.06, 0.15)
        kind = PatrolEvent.Kind.PROTEST
    elif early:
        fraction = rng.uniform(0.05, 0.45)
        kind = _weighted(rng, EVENT_KINDS_EARLY)
    else:
        fraction = rng.uniform(0.2, 0.85)
        kind = _weighted(rng, EVENT_KINDS_LATER)
    stopped_at = patrol.actual_start + datetime.timedelta(
        minutes=round(duration.total_seconds() / 60 * fraction)
    )
    patrol.actual_end = stopped_at + datetime.timedelta(minutes=rng.randrange(30, 95, 5))
    patrol.track = _track(rng, route_m, route_m.length * fraction)
    km = route_m.length * fraction / 1000
    patrol.notes = f"{label}: cut short after {km:.1f} km ({EVENT_SHORT[kind]})."
    event = PatrolEvent(
        kind=kind,
        occurred_at=stopped_at,
        location=Point(*patrol.track.coords[-1], srid=4326),
        description=MARK + EVENT_TEXT[kind],
    )
    return patrol, event


def _patrols_create(*, rng: random.Random, report: SeedReport) -> None:
    route = Route.objects.get(slug=PATROL_ROUTE_SLUG)
    # The route is stored from Trumba (east, near Saraqib) to Ain al-Hawr (west), the way the
    # convoys drove; metric work happens in UTM 37N.
    route_m = shapely.transform(shapely.from_wkb(bytes(route.geom.wkb)), _to_utm, interleaved=False)
    drawn = [
        _patrol_draw(rng=rng, day=day, route=route, route_m=route_m) for day in _patrol_days(rng)
    ]
    Patrol.objects.bulk_create([patrol for patrol, _ in drawn], batch_size=500)
    events = []
    for patrol, event in drawn:
        if event is not None:
            event.patrol = patrol
            events.append(event)
    PatrolEvent.objects.bulk_create(events, batch_size=500)
    report.patrols_by_status = Counter(patrol.status for patrol, _ in drawn)
    report.patrol_events_by_kind = Counter(event.kind for event in events)


# --- incidents ---------------------------------------------------------------------------------

# Where the demo reports fall: (area, share). The front line south of the M4 (Jabal al-Zawiya and
# southern Idlib) took most of the shelling after the ceasefire; then the corridor itself, the
# flanks (al-Ghab plain, the Kabana hills, western Aleppo), fewer in the north near the border
# camps, a few in the northern Aleppo countryside.
AREA_SHARES = {
    "front": 55,
    "corridor": 18,
    "flanks": 12,
    "north": 8,
    "aleppo": 5,
    "other": 2,
}


def _area_of(*, lon: float, lat: float, adm1: str, in_corridor: bool) -> str:
    if 35.55 <= lat <= 35.80 and 36.3 <= lon <= 36.8:
        return "front"
    if in_corridor:
        return "corridor"
    if (
        (adm1 == "SY05" and lat >= 35.40 and lon <= 36.5)  # al-Ghab plain, northern Hama
        or (adm1 == "SY06" and lat >= 35.65 and lon >= 36.0)  # Jabal al-Akrad, Kabana
        or (adm1 == "SY02" and lon <= 36.95 and lat <= 36.25)  # western Aleppo countryside
        or (adm1 == "SY07" and lat < 36.05)
    ):
        return "flanks"
    if adm1 == "SY07":
        return "north"
    if adm1 == "SY02" and lon <= 37.6:
        return "aleppo"
    return "other"


# (sub-event type slug, weight by area group, weapons, targets). Weights are relative.
FRONT = ("front", "corridor", "flanks")
INCIDENT_TYPES: list[tuple[str, dict[str, float], dict[str, float], dict[str, float]]] = [
    (
        "shelling-artillery-missile-attack",
        {"front": 58, "north": 25, "aleppo": 30, "other": 40},
        {Weapon.ARTILLERY: 45, Weapon.ROCKET: 25, Weapon.MORTAR: 20, Weapon.MISSILE: 10},
        {
            Target.MILITARY: 35,
            Target.CIVILIANS: 25,
            Target.CIVILIAN_INFRASTRUCTURE: 22,
            Target.OBSERVATION_POST: 3,
            Target.CAMP: 2,
            Target.UNKNOWN: 13,
        },
    ),
    (
        "air-drone-strike",
        {"front": 17, "north": 25, "aleppo": 3, "other": 20},
        {Weapon.AIRCRAFT: 50, Weapon.DRONE: 50},
        {
            Target.MILITARY: 35,
            Target.CIVILIANS: 25,
            Target.CIVILIAN_INFRASTRUCTURE: 25,
            Target.CAMP: 3,
            Target.UNKNOWN: 12,
        },
    ),
    (
        "armed-clash",
        {"front": 12, "north": 3, "aleppo": 10, "other": 15},
        {Weapon.SMALL_ARMS: 70, Weapon.ATGM: 30},
        {Target.MILITARY: 90, Target.UNKNOWN: 10},
    ),
    (
        "remote-explosive-landmine-ied",
        {"front": 5, "north": 20, "aleppo": 35, "other": 15},
        {Weapon.IED: 100},
        {Target.CIVILIANS: 40, Target.MILITARY: 30, Target.PATROL: 5, Target.UNKNOWN: 25},
    ),
    (
        "attack",
        {"front": 2, "north": 10, "aleppo": 10, "other": 10},
        {Weapon.SMALL_ARMS: 60, Weapon.OTHER: 20, Weapon.UNKNOWN: 20},
        {Target.CIVILIANS: 100},
    ),
    (
        "grenade",
        {"front": 0.5, "north": 3, "aleppo": 3, "other": 1},
        {Weapon.OTHER: 100},
        {Target.CIVILIANS: 50, Target.MILITARY: 30, Target.UNKNOWN: 20},
    ),
    (
        "disrupted-weapons-use",
        {"front": 2.5, "north": 3, "aleppo": 1, "other": 1},
        {Weapon.DRONE: 100},
        {Target.MILITARY: 100},
    ),
    (
        "headquarters-or-base-established",
        {"front": 1.2, "north": 4, "aleppo": 3, "other": 1},
        {},
        {Target.UNKNOWN: 100},
    ),
    (
        "looting-property-destruction",
        {"front": 1, "north": 3, "aleppo": 2, "other": 1},
        {},
        {Target.CIVILIAN_INFRASTRUCTURE: 100},
    ),
    (
        "arrests",
        {"front": 0.3, "north": 4, "aleppo": 6, "other": 1},
        {},
        {Target.CIVILIANS: 100},
    ),
    (
        # Only before the ceasefire: the offensive of January and February 2020.
        "government-regains-territory",
        {"front": 0, "north": 0, "aleppo": 0, "other": 0},
        {Weapon.ARTILLERY: 50, Weapon.SMALL_ARMS: 50},
        {Target.MILITARY: 100},
    ),
]

PERPETRATORS = {
    "shelling-artillery-missile-attack": {
        Side.GOVERNMENT: 65,
        Side.HTS: 10,
        Side.OTHER_ARMED_GROUP: 8,
        Side.TURKEY: 3,
        Side.UNKNOWN: 14,
    },
    "air-drone-strike": {Side.RUSSIA: 60, Side.GOVERNMENT: 30, Side.UNKNOWN: 10},
    "armed-clash": {
        Side.GOVERNMENT: 40,
        Side.HTS: 30,
        Side.OTHER_ARMED_GROUP: 20,
        Side.UNKNOWN: 10,
    },
    "remote-explosive-landmine-ied": {Side.UNKNOWN: 85, Side.OTHER_ARMED_GROUP: 10, Side.HTS: 5},
    "attack": {
        Side.UNKNOWN: 50,
        Side.HTS: 15,
        Side.SNA: 15,
        Side.OTHER_ARMED_GROUP: 10,
        Side.GOVERNMENT: 10,
    },
    "grenade": {Side.UNKNOWN: 100},
    "disrupted-weapons-use": {Side.HTS: 40, Side.OTHER_ARMED_GROUP: 30, Side.TURKEY: 30},
    "headquarters-or-base-established": {Side.TURKEY: 80, Side.RUSSIA: 20},
    "looting-property-destruction": {Side.UNKNOWN: 40, Side.SNA: 30, Side.HTS: 30},
    "arrests": {Side.HTS: 50, Side.SNA: 50},
    "government-regains-territory": {Side.GOVERNMENT: 100},
}
# In the northern Aleppo countryside the shelling and bombings came mostly from the SDF-held
# Tal Rifaat pocket and from unknown cells.
PERPETRATORS_ALEPPO = {
    "shelling-artillery-missile-attack": {
        Side.SDF: 40,
        Side.GOVERNMENT: 20,
        Side.TURKEY: 15,
        Side.SNA: 10,
        Side.UNKNOWN: 15,
    },
    "remote-explosive-landmine-ied": {Side.UNKNOWN: 80, Side.SDF: 20},
}

# Monthly intensity (relative): the offensive in January-February 2020, the drop at the ceasefire,
# the slow return of shelling, the Jabal al-Zawiya escalation of June-September 2021.
MONTH_WEIGHTS = {
    2020: [9, 11, 3, 1.5, 2, 3, 3, 3.5, 3.5, 4, 3.5, 3.5],
    2021: [3.5, 3.5, 4, 3.5, 4, 7, 7.5, 6.5, 7.5, 5.5, 4, 4],
}
# Hours of the day, local time: shelling peaks in the morning and the late afternoon.
HOUR_WEIGHTS = [1, 0.5, 0.5, 0.5, 1, 2, 3, 4, 5, 5, 5, 5, 4, 4, 4, 4, 5, 5, 5, 4, 3, 3, 2, 1.5]
DIRECTIONS = [d.value for d in Direction]
TARGET_DETAILS = [
    "residential houses",
    "farmland and olive groves",
    "a school",
    "a market",
    "a bakery",
    "a water station",
    "a mosque",
    "a road junction",
    "a front-line position",
    "a field hospital",
]

TEXT_EN = {
    "shelling-artillery-missile-attack": [
        "Artillery shells fell on {place} and its outskirts; impacts counted: {n}.",
        "Rocket and artillery shelling on {place}; impacts counted: {n}.",
    ],
    "air-drone-strike": [
        "Air strike on the outskirts of {place}.",
        "A drone struck a target near {place}.",
    ],
    "armed-clash": [
        "Clashes with machine guns and anti-tank missiles on the {place} axis.",
        "Exchange of fire between front-line positions near {place}.",
    ],
    "remote-explosive-landmine-ied": [
        "An IED exploded on a road near {place}.",
        "A landmine went off in farmland near {place}.",
    ],
    "attack": ["Gunmen attacked civilians in {place}."],
    "grenade": ["A hand grenade was thrown in {place}."],
    "disrupted-weapons-use": ["A reconnaissance drone was shot down near {place}."],
    "headquarters-or-base-established": ["A new military post was set up near {place}."],
    "looting-property-destruction": ["Houses were looted and burned in {place}."],
    "arrests": ["Several people were arrested in {place}."],
    "government-regains-territory": ["Government forces took control of {place}."],
}
TEXT_AR = {
    "shelling-artillery-missile-attack": [
        "سقوط قذائف مدفعية على {place} وأطرافها، عدد السقطات: {n}.",
        "قصف صاروخي ومدفعي على {place}، عدد السقطات: {n}.",
    ],
    "air-drone-strike": ["غارة جوية على أطراف {place}.", "طائرة مسيّرة استهدفت موقعاً قرب {place}."],
    "armed-clash": [
        "اشتباكات بالرشاشات والصواريخ المضادة للدروع على محور {place}.",
        "تبادل لإطلاق النار بين نقاط التماس قرب {place}.",
    ],
    "remote-explosive-landmine-ied": [
        "انفجار عبوة ناسفة على طريق قرب {place}.",
        "انفجار لغم أرضي في أراض زراعية قرب {place}.",
    ],
    "attack": ["هجوم مسلح على مدنيين في {place}."],
    "grenade": ["انفجار قنبلة يدوية في {place}."],
    "disrupted-weapons-use": ["إسقاط طائرة استطلاع مسيّرة قرب {place}."],
    "headquarters-or-base-established": ["إنشاء نقطة عسكرية جديدة قرب {place}."],
    "looting-property-destruction": ["نهب وحرق منازل في {place}."],
    "arrests": ["حملة اعتقالات في {place}."],
    "government-regains-territory": ["سيطرة قوات النظام على {place}."],
}

LOCALITIES_SQL = """
SELECT l.id, l.name_en, l.name_ar, ST_X(l.location), ST_Y(l.location), l.adm1_pcode,
       EXISTS (
           SELECT 1 FROM zones_zone z
           WHERE z.kind = 'security_corridor' AND ST_Intersects(z.geom, l.location)
       )
FROM zones_locality l
ORDER BY l.wof_id
"""

# An offset can push a point near the edge of the covered area out of every sub-district: such
# reports are put back on their locality's point (which lies inside one).
MOVE_TO_LOCALITY_SQL = """
UPDATE incidents_incident i
SET location = l.location, location_precision = %(town)s
FROM zones_locality l
WHERE i.locality_id = l.id AND i.subdistrict_id IS NULL AND i.id = ANY(%(ids)s::bigint[])
RETURNING i.id
"""

CREATED_AT_SQL = """
UPDATE incidents_incident i
SET created_at = v.created_at
FROM unnest(%(ids)s::bigint[], %(created)s::timestamptz[]) AS v(id, created_at)
WHERE i.id = v.id
"""


@dataclass(frozen=True)
class _Place:
    id: int
    name_en: str
    name_ar: str
    lon: float
    lat: float
    area: str


def _places_by_area() -> dict[str, list[_Place]]:
    places: dict[str, list[_Place]] = {area: [] for area in AREA_SHARES}
    with connection.cursor() as cursor:
        cursor.execute(LOCALITIES_SQL)
        for pk, name_en, name_ar, lon, lat, adm1, in_corridor in cursor.fetchall():
            area = _area_of(lon=lon, lat=lat, adm1=adm1, in_corridor=in_corridor)
            places[area].append(_Place(pk, name_en, name_ar, lon, lat, area))
    return {area: found for area, found in places.items() if found}


def _day_table() -> tuple[list[datetime.date], list[float]]:
    """Every day of the period with its cumulative weight, for bisect sampling."""
    days, cumulative, total = [], [], 0.0
    day = FIRST_DAY
    while day <= LAST_DAY:
        weight = (
            MONTH_WEIGHTS[day.year][day.month - 1] / calendar.monthrange(day.year, day.month)[1]
        )
        if day.year == 2020 and day.month == 3:
            weight *= 6 if day < CEASEFIRE_DAY else 0.6
        total += weight
        days.append(day)
        cumulative.append(total)
        day += datetime.timedelta(days=1)
    return days, cumulative


def _offset(rng: random.Random, lon: float, lat: float, max_m: float) -> tuple[float, float, float]:
    """A point within max_m metres of (lon, lat), uniform over the disc: (lon, lat, metres)."""
    distance = max_m * math.sqrt(rng.random())
    bearing = rng.uniform(0, 2 * math.pi)
    dlat = distance * math.cos(bearing) / METRES_PER_DEGREE
    dlon = distance * math.sin(bearing) / (METRES_PER_DEGREE * math.cos(math.radians(lat)))
    return round(lon + dlon, 6), round(lat + dlat, 6), distance


def _within(
    lon: float, lat: float, center: tuple[float, float], max_m: float
) -> tuple[float, float]:
    """The point, pulled straight towards center if it lies more than max_m metres from it."""
    scale = METRES_PER_DEGREE * math.cos(math.radians(center[1]))
    dx, dy = (lon - center[0]) * scale, (lat - center[1]) * METRES_PER_DEGREE
    distance = math.hypot(dx, dy)
    if distance <= max_m:
        return lon, lat
    shrink = max_m / distance
    return round(center[0] + dx * shrink / scale, 6), round(
        center[1] + dy * shrink / METRES_PER_DEGREE, 6
    )


def _some(rng: random.Random, chance: float, low: int, high: int) -> int:
    return rng.randint(low, high) if rng.random() < chance else 0


def _incident_draw(
    *,
    rng: random.Random,
    seed: int,
    subtypes: dict[str, SubEventType],
    places: dict[str, list[_Place]],
    days: tuple[list[datetime.date], list[float]],
) -> tuple[Incident, datetime.timedelta]:
    """One original report (not a duplicate); returns it with its delay before submission."""
    area = _weighted(rng, {a: AREA_SHARES[a] for a in places})
    place = rng.choice(places[area])
    day_list, cumulative = days
    day = day_list[bisect.bisect_left(cumulative, rng.random() * cumulative[-1])]
    offensive = day < CEASEFIRE_DAY
    group = "front" if area in FRONT else area
    weights = {}
    for slug, by_area, _, _ in INCIDENT_TYPES:
        if slug not in subtypes:
            continue
        weight = by_area[group]
        if offensive and slug == "air-drone-strike":
            weight *= 2
        if offensive and slug == "government-regains-territory" and group == "front":
            weight = 4
        weights[slug] = weight
    slug = _weighted(rng, weights)
    _, _, weapons, targets = next(t for t in INCIDENT_TYPES if t[0] == slug)
    sub = subtypes[slug]

    precision = _weighted(
        rng, {TimePrecision.MINUTE: 30, TimePrecision.HOUR: 45, TimePrecision.DAY: 25}
    )
    hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
    minute = rng.randrange(60)
    if precision == TimePrecision.DAY:
        hour, minute = 12, 0
    elif precision == TimePrecision.HOUR:
        minute = 0
    occurred_at = _local(day, hour, minute)

    lon, lat, distance = _offset(rng, place.lon, place.lat, MAX_OFFSET_M)
    if rng.random() < 0.15:
        location_precision = LocationPrecision.EXACT
    elif distance < 800:
        location_precision = LocationPrecision.TOWN
    else:
        location_precision = LocationPrecision.NEAR_TOWN

    perpetrators = (PERPETRATORS_ALEPPO if area == "aleppo" else {}).get(slug, PERPETRATORS[slug])
    perpetrator = _weighted(rng, perpetrators)
    if offensive and slug == "air-drone-strike" and rng.random() < 0.2:
        perpetrator = Side.TURKEY  # Operation Spring Shield, late February - 5 March 2020
    weapon = _weighted(rng, weapons) if weapons else ""
    if slug == "air-drone-strike" and day.year == 2021 and rng.random() < 0.3:
        weapon = Weapon.DRONE
    target = _weighted(rng, targets)

    incident = Incident(
        occurred_at=occurred_at,
        time_precision=precision,
        location=Point(lon, lat, srid=4326),
        location_precision=location_precision,
        place_name=place.name_en or place.name_ar,
        locality_id=place.id,
        event_type_id=sub.event_type_id,
        sub_event_type=sub,
        weapon=weapon,
        perpetrator_side=perpetrator,
        target=target,
        is_synthetic=True,
        sources=[f"{SOURCE} (seed {seed})"],
    )
    explosive = slug in {
        "shelling-artillery-missile-attack",
        "air-drone-strike",
        "remote-explosive-landmine-ied",
        "grenade",
    }
    if explosive or slug == "armed-clash":
        if rng.random() < 0.6:
            incident.observation_method = _weighted(
                rng,
                {
                    ObservationMethod.HEARD: 35,
                    ObservationMethod.SEEN_AND_HEARD: 30,
                    ObservationMethod.SEEN: 10,
                    ObservationMethod.REPORTED: 25,
                },
            )
            incident.direction = rng.choice(DIRECTIONS)
            incident.distance_estimate_m = rng.randrange(300, 8000, 100)
        if slug == "shelling-artillery-missile-attack":
            incident.explosions_count = min(60, 1 + int(rng.expovariate(1 / 6)))
        elif explosive:
            incident.explosions_count = rng.randint(1, 4)
    if target != Target.UNKNOWN and rng.random() < 0.3:
        incident.target_description = rng.choice(TARGET_DETAILS)

    harm = 2.0 if offensive else 1.0
    if slug in {"shelling-artillery-missile-attack", "air-drone-strike", "grenade"}:
        incident.killed_civilians = _some(rng, 0.05 * harm, 1, 3)
        incident.injured_civilians = _some(rng, 0.12 * harm, 1, 6)
        incident.killed_combatants = _some(rng, 0.04 * harm, 1, 3)
        incident.injured_combatants = _some(rng, 0.06 * harm, 1, 4)
    elif slug in {"armed-clash", "government-regains-territory"}:
        incident.killed_combatants = _some(rng, 0.4, 1, 6)
        incident.injured_combatants = _some(rng, 0.5, 1, 8)
    elif slug == "remote-explosive-landmine-ied":
        incident.killed_civilians = _some(rng, 0.12, 1, 3)
        incident.injured_civilians = _some(rng, 0.25, 1, 5)
        incident.killed_combatants = _some(rng, 0.05, 1, 2)
    elif slug == "attack":
        incident.killed_civilians = _some(rng, 0.5, 1, 2)
        incident.injured_civilians = _some(rng, 0.4, 1, 3)

    n = incident.explosions_count or rng.randint(2, 9)
    if rng.random() < 0.4:
        text = rng.choice(TEXT_AR[slug]).format(place=place.name_ar or place.name_en, n=n)
    else:
        text = rng.choice(TEXT_EN[slug]).format(place=place.name_en or place.name_ar, n=n)
    incident.description = MARK + text

    # A backlog of unreviewed reports in the last weeks of the period, as on a real desk.
    recent = day >= LAST_DAY - datetime.timedelta(days=45)
    statuses = (
        {
            ReviewStatus.VERIFIED: 40,
            ReviewStatus.SUBMITTED: 30,
            ReviewStatus.UNDER_REVIEW: 22,
            ReviewStatus.REJECTED: 8,
        }
        if recent
        else {
            ReviewStatus.VERIFIED: 74,
            ReviewStatus.SUBMITTED: 7,
            ReviewStatus.UNDER_REVIEW: 8,
            ReviewStatus.REJECTED: 11,
        }
    )
    incident.review_status = _weighted(rng, statuses)
    delay = datetime.timedelta(minutes=rng.randrange(10, 48 * 60))
    if incident.review_status in (ReviewStatus.VERIFIED, ReviewStatus.REJECTED):
        incident.reviewed_at = occurred_at + delay + datetime.timedelta(hours=rng.randint(2, 96))
    if incident.review_status == ReviewStatus.REJECTED:
        incident.review_note = MARK + rng.choice(
            [
                "Could not be corroborated by a second source.",
                "Location does not match the account.",
                "Outside the ceasefire area or not a violation.",
            ]
        )
    incident.client_uuid = uuid.UUID(int=rng.getrandbits(128), version=4)
    return incident, delay


def _duplicate_draw(
    *,
    rng: random.Random,
    original: Incident,
    original_delay: datetime.timedelta,
    locality: tuple[float, float],
) -> tuple[Incident, datetime.timedelta]:
    """A second report of the same event: same type and place, a little later, nearby.

    Within 500 m of the original and, like every report, within 1.5 km of the locality.
    """
    lon, lat, _ = _offset(rng, original.location.x, original.location.y, 500)
    lon, lat = _within(lon, lat, locality, MAX_OFFSET_M)
    occurred_at = original.occurred_at + datetime.timedelta(minutes=rng.randrange(5, 120, 5))
    delay = original_delay + datetime.timedelta(minutes=rng.randrange(20, 24 * 60))
    copied = {
        name: getattr(original, name)
        for name in (
            "time_precision",
            "location_precision",
            "place_name",
            "locality_id",
            "event_type_id",
            "sub_event_type",
            "weapon",
            "perpetrator_side",
            "target",
            "killed_civilians",
            "killed_combatants",
            "injured_civilians",
            "injured_combatants",
            "description",
            "sources",
        )
    }
    incident = Incident(
        **copied,
        occurred_at=occurred_at,
        location=Point(lon, lat, srid=4326),
        review_status=ReviewStatus.DUPLICATE,
        duplicate_of=original,
        review_note=MARK + "Same event as an earlier verified report.",
        reviewed_at=occurred_at + delay + datetime.timedelta(hours=rng.randint(1, 48)),
        client_uuid=uuid.UUID(int=rng.getrandbits(128), version=4),
        is_synthetic=True,
    )
    return incident, delay


def _incidents_create(*, rng: random.Random, count: int, report: SeedReport) -> None:
    subtypes = {
        s.slug: s for s in SubEventType.objects.filter(slug__in=[t[0] for t in INCIDENT_TYPES])
    }
    places = _places_by_area()
    days = _day_table()
    duplicates = round(count * DUPLICATE_SHARE)
    drawn = [
        _incident_draw(rng=rng, seed=report.seed, subtypes=subtypes, places=places, days=days)
        for _ in range(count - duplicates)
    ]
    verified = [pair for pair in drawn if pair[0].review_status == ReviewStatus.VERIFIED]
    Incident.objects.bulk_create([incident for incident, _ in drawn], batch_size=1000)
    # Duplicates point at originals that now have ids.
    locality = {place.id: (place.lon, place.lat) for found in places.values() for place in found}
    copies = []
    for _ in range(duplicates if verified else 0):
        original, delay = rng.choice(verified)
        copies.append(
            _duplicate_draw(
                rng=rng,
                original=original,
                original_delay=delay,
                locality=locality[original.locality_id],
            )
        )
    Incident.objects.bulk_create([incident for incident, _ in copies], batch_size=1000)
    everything = drawn + copies
    ids = [incident.pk for incident, _ in everything]
    # created_at is auto_now_add (bulk_create sets it to now): one UPDATE puts the submission time
    # a little after the event, as if reported in 2020-21. updated_at stays the real write time,
    # so partners syncing by updated_since do see the demo rows.
    with connection.cursor() as cursor:
        cursor.execute(
            CREATED_AT_SQL,
            {
                "ids": ids,
                "created": [incident.occurred_at + delay for incident, delay in everything],
            },
        )
    incident_zones_assign(ids=ids)
    with connection.cursor() as cursor:
        cursor.execute(MOVE_TO_LOCALITY_SQL, {"ids": ids, "town": LocationPrecision.TOWN})
        moved = [row[0] for row in cursor.fetchall()]
    if moved:
        incident_zones_assign(ids=moved)
    report.incidents_moved_to_locality = len(moved)

    seeded = Incident.objects.filter(pk__in=ids)
    report.incidents_by_status = Counter(
        dict(seeded.values_list("review_status").annotate(n=Count("id")).order_by())
    )
    report.incidents_by_event_type = Counter(
        dict(seeded.values_list("event_type__name").annotate(n=Count("id")).order_by())
    )
    report.incidents_by_year = Counter(
        dict(seeded.values_list("occurred_at__year").annotate(n=Count("id")).order_by())
    )
    area_of = {place.id: place.area for found in places.values() for place in found}
    report.incidents_by_area = Counter(area_of[incident.locality_id] for incident, _ in everything)
    report.incidents_in_corridor = seeded.filter(in_corridor=True).count()
    report.incidents_without_subdistrict = seeded.filter(subdistrict__isnull=True).count()


# --- camp populations --------------------------------------------------------------------------

# Mean month-on-month growth of the camp clusters: the wave of displacement from the offensive
# (nearly a million people between December 2019 and March 2020), then slow growth.
# Growth is indexed by the month it leads into: February 2020 was 15% larger than January.
GROWTH_BY_MONTH = {(2020, 2): 0.15, (2020, 3): 0.10, (2020, 4): 0.03}
ANCHOR_DAY = datetime.date(2020, 4, 30)  # the ACU figures
GROWTH_BY_YEAR = {2020: 0.006, 2021: 0.004}


def _month_ends() -> list[datetime.date]:
    out = []
    for year in (2020, 2021):
        for month in range(1, 13):
            out.append(datetime.date(year, month, calendar.monthrange(year, month)[1]))
    return out


def _camp_populations_create(*, rng: random.Random, report: SeedReport) -> None:
    """Monthly figures around each camp's real figure nearest April 2020; real rows are kept."""
    months = _month_ends()
    real: dict[int, CampPopulation] = {}
    for row in CampPopulation.objects.filter(is_synthetic=False).order_by("camp_id", "date"):
        best = real.get(row.camp_id)
        if best is None or abs(row.date - ANCHOR_DAY) < abs(best.date - ANCHOR_DAY):
            real[row.camp_id] = row
    taken = set(CampPopulation.objects.values_list("camp_id", "date"))
    rows = []
    for camp in Camp.objects.order_by("site_id"):
        anchor_row = real.get(camp.pk)
        # Drawn before the skip below, so that one camp more or less does not shift the others.
        growth = [
            rng.gauss(GROWTH_BY_MONTH.get((d.year, d.month), GROWTH_BY_YEAR[d.year]), 0.012)
            for d in months
        ]
        if anchor_row is None:
            report.camps_without_figure.append(camp.name_en)
            continue
        at = min(range(len(months)), key=lambda i: abs(months[i] - anchor_row.date))
        factors = [1.0] * len(months)
        for i in range(at + 1, len(months)):
            factors[i] = factors[i - 1] * (1 + max(growth[i], -0.05))
        for i in range(at - 1, -1, -1):
            factors[i] = factors[i + 1] / (1 + max(growth[i + 1], -0.05))
        for day, factor in zip(months, factors, strict=True):
            if (camp.pk, day) in taken:
                continue
            individuals = max(1, round(anchor_row.individuals * factor))
            rows.append(
                CampPopulation(
                    camp=camp,
                    date=day,
                    individuals=individuals,
                    households=round(individuals / HOUSEHOLD_SIZE),
                    source=SOURCE,
                    is_synthetic=True,
                )
            )
    CampPopulation.objects.bulk_create(rows, batch_size=1000)
    report.camp_population_rows = len(rows)
