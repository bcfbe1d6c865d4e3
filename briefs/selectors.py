"""The brief as a reader may see it: staff get everything; everyone else gets locations on the grid
and no count below the suppression threshold (PRODUCT.md, "Do no harm" 1 and 5)."""

from __future__ import annotations

import copy

from stats.privacy import SUPPRESS_BELOW

COUNT_KEYS = ("incidents", "day_before", "baseline", "killed", "injured")


def _suppress(row: dict) -> dict:
    hidden = [key for key in COUNT_KEYS if 0 < row.get(key, 0) < SUPPRESS_BELOW]
    for key in hidden:
        row[key] = None
    if "baseline" in hidden:
        row["baseline_daily"] = None
    row["suppressed"] = hidden
    return row


def brief_for_reader(data: dict, *, staff: bool) -> dict:
    if staff:
        return data
    data = copy.deepcopy(data)
    data["totals"] = _suppress(data["totals"])
    data["zones"] = [_suppress(zone) for zone in data["zones"]]
    for incident in data["notable"]:
        incident["location"] = incident.pop("location_coarse")
    data["suppressed_below"] = SUPPRESS_BELOW
    return data
