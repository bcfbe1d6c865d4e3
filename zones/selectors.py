"""Reads that span zones and the gazetteer: which localities seat an admin area."""

from __future__ import annotations

import re
from collections import defaultdict

from zones.models import ADMIN_KINDS, Locality, Zone, ZoneKind
from zones.text import normalize_name

# A locality's importance on the map: the seat of a governorate or district, of a sub-district,
# or any other village (lower is more important).
SEAT_OF_DISTRICT = 1
SEAT_OF_SUBDISTRICT = 2
OTHER_LOCALITY = 3

# The central sub-district of a district is "مركز <seat>" ("centre of ...").
_CENTRE = re.compile(r"^مركز\s+")
# Transliterations differ in the Arabic article ("Al-Bab" / "Bab", "Ad Dana" / "Dana").
_ARTICLE = re.compile(r"^(?:a[dlnrstz]|ash|e[dlnrstz]) ")
_PCODE_FIELD = {
    ZoneKind.GOVERNORATE: "adm1_pcode",
    ZoneKind.DISTRICT: "adm2_pcode",
    ZoneKind.SUBDISTRICT: "adm3_pcode",
}


def _keys(*names: str) -> set[str]:
    folded = {normalize_name(name) for name in names}
    return {key for name in folded for key in (name, _ARTICLE.sub("", name)) if key}


def locality_seat_ranks() -> dict[int, int]:
    """{locality id: SEAT_OF_DISTRICT or SEAT_OF_SUBDISTRICT} for the localities that name an
    admin area they lie in: an area's name is its seat's (Idleb, Ariha, مركز جبلة), so this finds
    the towns that matter without a population figure (the gazetteer has none). The names must
    match exactly once folded (case, accents, Arabic letter variants, the article); an area whose
    seat is spelt otherwise in the gazetteer has none (about a third of the sub-districts), and
    its seat ranks with the other villages."""
    localities = defaultdict(list)
    for locality in Locality.objects.only(
        "id", "name_en", "name_ar", "adm1_pcode", "adm2_pcode", "adm3_pcode"
    ).order_by("id"):
        names = _keys(locality.name_en, locality.name_ar)
        for field in _PCODE_FIELD.values():
            localities[(field, getattr(locality, field))].append((locality.id, names))
    ranks: dict[int, int] = {}
    for zone in Zone.objects.filter(kind__in=ADMIN_KINDS).only(
        "kind", "pcode", "name_en", "name_ar"
    ):
        keys = _keys(zone.name_en, _CENTRE.sub("", zone.name_ar or ""))
        rank = SEAT_OF_SUBDISTRICT if zone.kind == ZoneKind.SUBDISTRICT else SEAT_OF_DISTRICT
        for locality_id, names in localities[(_PCODE_FIELD[zone.kind], zone.pcode)]:
            if names & keys:  # the first (lowest id) of the gazetteer's duplicates
                ranks[locality_id] = min(rank, ranks.get(locality_id, OTHER_LOCALITY))
                break
    return ranks
