"""Small counts can identify people (PRODUCT.md, "Do no harm" 5): the one rule for every count a
reader outside the staff can see (choropleth, zone statistics, trends, clusters, the dashboard's
count in view, zone and camp pages, briefs).

A count of 1 or 2 (below SUPPRESS_BELOW) is withheld: the reader gets None, shown as
WITHHELD_MARK. Zero is shown: that nothing happened identifies no one. Analysts and admins see
every count; a reporter sees the counts of their own reports (they wrote them) and, like partners,
no small count of anyone else's. Figures that describe the incidents of a withheld count (their
killed and injured) or are computed from it (a daily average, a ratio, a p-value) are withheld
with it. A total is withheld by the same rule as its parts, applied to its own count: the same
incidents give the same answer from every endpoint.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.utils.translation import gettext

from accounts.roles import EXACT_LOCATION_ROLES, Role, role_of

SUPPRESS_BELOW = 3
# How a withheld count is printed in tables and on the map.
WITHHELD_MARK = f"<{SUPPRESS_BELOW}"


def withheld_label() -> str:
    """The words for a withheld count, in the active language (legends, tooltips)."""
    return gettext("Fewer than %(n)d (withheld)") % {"n": SUPPRESS_BELOW}


def _role(viewer) -> Role | None:
    if viewer is None or isinstance(viewer, Role):
        return viewer
    return role_of(viewer)


def sees_small_counts(viewer, *, own_reports: bool = False) -> bool:
    """Whether `viewer` (a user or a Role) sees counts below the threshold. `own_reports`: the
    count is made of the viewer's own reports only (what `Incident.objects.visible_to` gives a
    reporter)."""
    role = _role(viewer)
    return role in EXACT_LOCATION_ROLES or (own_reports and role == Role.REPORTER)


def withhold(count: int | None, *, viewer, own_reports: bool = False) -> int | None:
    """The count as `viewer` may see it: None when it is 1 or 2 and the viewer does not see small
    counts (see `sees_small_counts`); zero and counts at the threshold as they are."""
    if count is None or count == 0 or count >= SUPPRESS_BELOW:
        return count
    return count if sees_small_counts(viewer, own_reports=own_reports) else None


def withhold_figures(
    row: Mapping,
    *,
    viewer,
    count: str,
    describing: Iterable[str] = (),
    derived: Mapping[str, str | tuple[str, ...]] | None = None,
    others: Iterable[str] = (),
    own_reports: bool = False,
) -> tuple[dict, list[str]]:
    """A row of figures as `viewer` may see them, and the names of those withheld.

    `count` names the row's incident count; `describing` the figures of those same incidents
    (killed, injured), withheld with the count and on their own; `others` counts of other
    incidents (the day before, a baseline), each on its own; `derived` maps a figure computed
    from counts (a daily average, a ratio, a p-value) to their names: withheld with any of them.
    """
    shown = dict(row)
    hidden: list[str] = []

    def apply(name: str, withheld_with_count: bool = False) -> None:
        value = row.get(name)
        kept = withhold(value, viewer=viewer, own_reports=own_reports)
        if withheld_with_count or (kept is None and value is not None):
            shown[name] = None
            hidden.append(name)

    apply(count)
    count_hidden = count in hidden
    for name in describing:
        apply(name, withheld_with_count=count_hidden and row.get(name) is not None)
    for name in others:
        apply(name)
    for name, sources in (derived or {}).items():
        if any(
            source in hidden for source in ((sources,) if isinstance(sources, str) else sources)
        ):
            shown[name] = None
            hidden.append(name)
    return shown, hidden
