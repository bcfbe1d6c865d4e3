"""What each reader is shown of an incident (PRODUCT.md, "Do no harm" 1, 2 and 6), decided here
once for every output: the JSON and GeoJSON API (serializers and the SQL-built GeoJSON), the
changes feed, exports, filters, map layers, tiles, pages, briefs and alerts.

Readers who may not see exact locations (partners, and anyone without an exact-location role)
read the *grid view* of an incident. Nothing in it is finer than the 0.05 degree grid:

- the location is the grid point (`location_coarse`);
- governorate, district, sub-district and corridor membership are those of the grid point,
  stored when the incident is written (`coarse_*`, by incidents.services.ZONES_OF_POINTS_SQL);
- the place name is the gazetteer's: the nearest locality within 5 km of the grid point, else the
  grid point's sub-district, never the text the reporter typed;
- the description is the shareable summary an analyst approved when verifying
  (`public_summary`), empty until then;
- numbers computed from the exact point or the observer's position (distance to the M4, bearing
  and distance from the observer) and free text with no approved version (target details) are
  left out.

Filters follow the same view: a grid reader's `zone`, `in_corridor`, `bbox` and `near` run on
these columns, and `q` on the public text (the gazetteer's place name, the approved summary), so a
filter never tells which side of a boundary the exact point lies, nor what the description says.

Reporters read their own reports as they wrote them (exact) and search their text, but filter
by place on the grid like every reader without an exact-location role (so map layers agree).
"""

from __future__ import annotations

from accounts.roles import Role, role_of, sees_exact_locations

# Field (as the API and exports name it) -> the model field the grid view reads instead.
GRID_SOURCES: dict[str, str] = {
    "location": "location_coarse",
    "governorate": "coarse_governorate",
    "district": "coarse_district",
    "subdistrict": "coarse_subdistrict",
    "in_corridor": "coarse_in_corridor",
    "place_name": "public_place_name",
    "description": "public_summary",
}

# Fields the grid view never carries: computed from the exact point or the observer's position,
# or free text without an approved version. `public_summary` travels as `description`.
GRID_WITHHELD: tuple[str, ...] = (
    "distance_to_m4_m",
    "direction",
    "distance_estimate_m",
    "target_description",
    "public_summary",
)

# Related rows the grid view reads (for select_related).
GRID_RELATED: tuple[str, ...] = (
    "coarse_governorate",
    "coarse_district",
    "coarse_subdistrict",
    "coarse_locality",
)

# The gazetteer's place name for the grid point, over an incident row aliased `i` joined to
# zones_locality `cloc` (i.coarse_locality_id) and zones_zone `csub` (i.coarse_subdistrict_id).
GRID_PLACE_NAME_SQL = "COALESCE(cloc.name_en, csub.name_en, '')"

# How far from the grid point a locality may lie and still name it.
GRID_LOCALITY_MAX_M = 5_000


def reads_exact(user) -> bool:
    """Whether incident records are shown to this reader as recorded: analysts and admins, and
    reporters (who read only their own reports)."""
    return role_of(user) in (Role.ANALYST, Role.ADMIN, Role.REPORTER)


def filters_on_grid(user) -> bool:
    """Whether this reader's filters and aggregates run on the grid view."""
    return not sees_exact_locations(user)


def grid_path(path: str) -> str:
    """The grid view's model path for a field path (`subdistrict__pcode` ->
    `coarse_subdistrict__pcode`); paths the grid view does not replace are returned as given."""
    head, _, rest = path.partition("__")
    if head not in GRID_SOURCES or head == "place_name":
        return path
    replaced = GRID_SOURCES[head]
    return f"{replaced}__{rest}" if rest else replaced


def grid_place_name_expression():
    """The ORM expression of the gazetteer's place name for the grid point."""
    from django.db.models import CharField, F, Value
    from django.db.models.functions import Coalesce

    return Coalesce(
        F("coarse_locality__name_en"),
        F("coarse_subdistrict__name_en"),
        Value(""),
        output_field=CharField(),
    )


def grid_expression(path: str):
    """What the grid view reads for a field path, as an ORM expression (exports read rows with
    `values()` under their exact names)."""
    from django.db.models import F

    if path == "place_name":
        return grid_place_name_expression()
    return F(grid_path(path))
