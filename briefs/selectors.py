"""The brief as a reader may see it: staff get everything; everyone else gets locations on the grid
and no count below the suppression threshold (PRODUCT.md, "Do no harm" 1 and 5; the rule is
stats.privacy's, headlines included); reporters get the counts alone, never the incidents of other
reporters."""

from __future__ import annotations

import copy

from django.conf import settings
from django.utils import translation

from accounts.roles import EXACT_LOCATION_ROLES, Role
from briefs.services import headline
from stats.privacy import SUPPRESS_BELOW, withhold, withhold_figures

# Roles that may read the notable incidents one by one (verified reports, as in the incident API).
NOTABLE_ROLES = EXACT_LOCATION_ROLES | {Role.PARTNER}


def _suppress(row: dict, role: Role | None) -> dict:
    """A zone's (or the totals') figures: the day's incidents with their killed and injured, the
    day before and the 28-day baseline each on its own, the daily average with the baseline."""
    shown, hidden = withhold_figures(
        row,
        viewer=role,
        count="incidents",
        describing=("killed", "injured"),
        others=("day_before", "baseline"),
        derived={"baseline_daily": "baseline"},
    )
    shown["suppressed"] = hidden
    return shown


def _headlines(data: dict) -> dict[str, str]:
    """The headline in every language, from the figures the reader is shown."""
    out = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            out[code] = headline(data)
    return out


def _on_the_grid(data: dict) -> dict:
    """The figures of readers who may not see exact locations (PRODUCT.md, "Do no harm" 6): the
    brief's "grid" section, counted by the zones of the incidents' grid points. A brief written
    before there was one keeps its counts, but its notable incidents lose the place name, zone and
    corridor flag of their exact points (`build_daily_brief` writes the section)."""
    grid = data.pop("grid", None)
    if grid is not None:
        data.update(grid)
        return data
    for incident in data["notable"]:
        incident.update(place_name="", zone=None, zone_name_en="", zone_name_ar="")
        incident["in_corridor"] = None
    return data


def brief_for_reader(data: dict, *, role: Role | None) -> dict:
    if role in EXACT_LOCATION_ROLES:
        staff = {key: value for key, value in data.items() if key != "grid"}
        return {**staff, "notable_withheld": False}
    data = _on_the_grid(copy.deepcopy(data))
    data["totals"] = _suppress(data["totals"], role)
    data["zones"] = [_suppress(zone, role) for zone in data["zones"]]
    data["alerts"] = {kind: withhold(n, viewer=role) for kind, n in data["alerts"].items()}
    if data["totals"]["suppressed"]:
        # The written headline quotes the totals: say them as the reader sees them.
        data["headline"] = _headlines(data)
    if role in NOTABLE_ROLES:
        for incident in data["notable"]:
            incident["location"] = incident.pop("location_coarse")
        data["notable_withheld"] = False
    else:
        # A reporter sees their own reports and nobody else's: the counts include the others'.
        data["notable"] = []
        data["notable_withheld"] = True
    data["suppressed_below"] = SUPPRESS_BELOW
    return data


def brief_headline_for_reader(data: dict, *, role: Role | None) -> dict[str, str]:
    """The headline by language, as `brief_for_reader` gives it (lists of briefs)."""
    return brief_for_reader(data, role=role)["headline"]
