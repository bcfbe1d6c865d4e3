"""Map layers of the dashboard, built in SQL so the map stays smooth with 100,000 incidents: counts
per grid cell (server-side clusters) and counts per sub-district (the choropleth).

Both take the filters of the incident list and see what the list would show the same caller:
analysts everything at exact locations, partners verified reports on the 0.05 degree grid,
reporters their own reports.
"""

from __future__ import annotations

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Avg, Count, F, FloatField, Func, IntegerField, Min, TextField
from django.db.models.functions import Cast
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.audit import ExactLocationsMixin, exact_read
from accounts.permissions import ALL_ROLES
from accounts.roles import sees_exact_locations
from common.views import StrictQueryParamsMixin
from incidents.api.filters import IncidentFilter, parse_numbers
from incidents.disclosure import filters_on_grid, grid_path
from incidents.models import COARSE_GRID_DEGREES, Incident
from stats.privacy import withhold

MIN_ZOOM = 0
MAX_ZOOM = 20
# A cluster stands for a square of about this many screen pixels (256-pixel Web Mercator tiles).
CELL_PIXELS = 60
# More cells than this in one answer would be no cluster map at all: ask for a smaller box.
MAX_CELLS = 40_000


def cell_degrees(zoom: int, *, coarse: bool) -> float:
    """The grid step for a zoom level; never finer than the partners' grid for coarse readers, so
    a cluster's position is never more exact than the points behind it."""
    size = CELL_PIXELS * 360 / (256 * 2**zoom)
    if coarse:
        size = max(size, COARSE_GRID_DEGREES)
    return round(size, 8)


class _CellIndex(Func):
    """floor(ST_X or ST_Y of a point / step): the grid cell a point falls in, as an integer."""

    output_field = IntegerField()

    def __init__(self, column: str, axis: str, step: float):
        self.template = f"floor(ST_{axis}(%(expressions)s) / {float(step)!r})::integer"
        super().__init__(F(column))


class _Coordinate(Func):
    output_field = FloatField()

    def __init__(self, column: str, axis: str):
        self.function = f"ST_{axis}"
        super().__init__(F(column))


def _zoom(request) -> int:
    raw = request.query_params.get("zoom")
    if raw is None or raw == "":
        raise ValidationError({"zoom": [_("This parameter is required.")]})
    try:
        zoom = int(raw)
    except ValueError:
        raise ValidationError({"zoom": [_("A whole number is required.")]}) from None
    if not MIN_ZOOM <= zoom <= MAX_ZOOM:
        message = _("Must be from %(lo)d to %(hi)d.") % {"lo": MIN_ZOOM, "hi": MAX_ZOOM}
        raise ValidationError({"zoom": [message]})
    return zoom


class _MapAggregateView(StrictQueryParamsMixin, generics.GenericAPIView):
    filterset_class = IncidentFilter
    read_roles = ALL_ROLES
    pagination_class = None

    def get_queryset(self):
        return Incident.objects.visible_to(self.request.user)

    @property
    def coarse(self) -> bool:
        # As IncidentFilter decides, so that cells group the column the bbox filter ran on.
        return filters_on_grid(self.request.user)

    @property
    def location_column(self) -> str:
        return grid_path("location") if self.coarse else "location"

    def withhold(self, count: int) -> int | None:
        """The one small-count rule (stats.privacy); a reporter's aggregates hold only their own
        reports (`visible_to`)."""
        return withhold(count, viewer=self.request.user, own_reports=True)


CLUSTER_RESPONSE = inline_serializer(
    "IncidentClusters",
    fields={
        "zoom": serializers.IntegerField(),
        "cell_degrees": serializers.FloatField(),
        "count": serializers.IntegerField(
            allow_null=True,
            help_text="Incidents matching the filters; null when withheld (1 or 2, partners).",
        ),
        "cells": inline_serializer(
            "IncidentCluster",
            many=True,
            fields={
                "lon": serializers.FloatField(help_text="Mean longitude of the cell's incidents."),
                "lat": serializers.FloatField(help_text="Mean latitude of the cell's incidents."),
                "count": serializers.IntegerField(
                    allow_null=True, help_text="Null when withheld (1 or 2, partners)."
                ),
                "types": serializers.DictField(
                    child=serializers.IntegerField(allow_null=True),
                    help_text="Count per event type code (null when withheld).",
                ),
            },
        ),
    },
)


@extend_schema(
    tags=["incidents"],
    parameters=[
        OpenApiParameter(
            "zoom",
            {"type": "integer", "minimum": MIN_ZOOM, "maximum": MAX_ZOOM},
            required=True,
            description=(
                "Web map zoom level; the grid step is about "
                f"{CELL_PIXELS} pixels at this zoom (never finer than "
                f"{COARSE_GRID_DEGREES} degrees for partners)."
            ),
        ),
    ],
    responses=CLUSTER_RESPONSE,
    filters=True,
)
class IncidentClustersView(ExactLocationsMixin, _MapAggregateView):
    """Incidents counted per grid cell and per event type, for a map zoomed out too far to show
    every point. Takes the filters of the incident list; one query whatever the number of
    incidents. Partners' incidents are grouped by their snapped location in cells never smaller
    than the grid, and their counts of 1 or 2 are withheld (null).

    For analysts and admins a cell sits at the mean of its incidents' exact points: a cell
    holding one incident, or any cell below the grid's scale, shows exact locations, and the
    read is audited with those incidents' ids."""

    allowed_query_params = frozenset({"zoom"})

    def get(self, request, *args, **kwargs):
        zoom = _zoom(request)
        step = cell_degrees(zoom, coarse=self.coarse)
        bbox = request.query_params.get("bbox")
        if bbox:
            minlon, minlat, maxlon, maxlat = parse_numbers("bbox", bbox, 4)
            if (maxlon - minlon) * (maxlat - minlat) / step**2 > MAX_CELLS:
                raise ValidationError(
                    {"zoom": [_("Too fine for this bounding box: zoom out or use a smaller box.")]}
                )
        incidents = self.filter_queryset(self.get_queryset())
        column = self.location_column
        # Exact positions reach only readers of exact locations (cell_degrees keeps everyone
        # else on the grid, over grid points); their read names the incidents it places.
        exact = sees_exact_locations(request.user) and not self.coarse
        sub_grid = exact and step < COARSE_GRID_DEGREES
        ids = {}
        if sub_grid:  # every cell's mean is finer than the grid
            ids["ids"] = ArrayAgg(Cast("client_uuid", TextField()))
        elif exact:  # a cell of one incident sits on its exact point
            ids["one_id"] = Min(Cast("client_uuid", TextField()))
        rows = (
            incidents.order_by()
            .annotate(
                cell_x=_CellIndex(column, "X", step),
                cell_y=_CellIndex(column, "Y", step),
                type_code=F("event_type__slug"),
            )
            .values("cell_x", "cell_y", "type_code")
            .annotate(
                n=Count("id"),
                lon=Avg(_Coordinate(column, "X")),
                lat=Avg(_Coordinate(column, "Y")),
                **ids,
            )
        )
        cells: dict[tuple[int, int], dict] = {}
        placed: list[str] = []
        for row in rows:
            cell = cells.setdefault(
                (row["cell_x"], row["cell_y"]),
                {"lon": 0.0, "lat": 0.0, "count": 0, "types": {}, "one_id": row.get("one_id")},
            )
            # The cell's position is the mean of its incidents' positions, over all types.
            cell["lon"] += row["lon"] * row["n"]
            cell["lat"] += row["lat"] * row["n"]
            cell["count"] += row["n"]
            cell["types"][row["type_code"]] = row["n"]
            placed += row.get("ids", [])
        results = []
        for cell in cells.values():
            cell["lon"] = round(cell["lon"] / cell["count"], 5)
            cell["lat"] = round(cell["lat"] / cell["count"], 5)
            one_id = cell.pop("one_id")
            if one_id is not None and cell["count"] == 1:
                placed.append(one_id)
            results.append(cell)
        results.sort(key=lambda cell: (-cell["count"], cell["lon"], cell["lat"]))
        exact_read(request, object_ids=sorted(placed))
        total = sum(cell["count"] for cell in results)
        for cell in results:
            cell["count"] = self.withhold(cell["count"])
            cell["types"] = {code: self.withhold(n) for code, n in cell["types"].items()}
        return Response(
            {
                "zoom": zoom,
                "cell_degrees": step,
                "count": self.withhold(total),
                "cells": results,
            }
        )


SUBDISTRICT_COUNTS_RESPONSE = inline_serializer(
    "IncidentSubdistrictCounts",
    fields={
        "results": inline_serializer(
            "IncidentSubdistrictCount",
            many=True,
            fields={
                "pcode": serializers.CharField(),
                "count": serializers.IntegerField(
                    allow_null=True, help_text="Null when withheld (partners, small counts)."
                ),
                "suppressed": serializers.BooleanField(),
            },
        ),
    },
)


@extend_schema(tags=["incidents"], responses=SUBDISTRICT_COUNTS_RESPONSE, filters=True)
class IncidentSubdistrictCountsView(_MapAggregateView):
    """Incidents counted per sub-district (by the sub-district stored with each report; for
    partners, that of its grid point), for a choropleth map. Takes the filters of the incident
    list. For partners, counts of 1 or 2 are withheld (stats.privacy), as everywhere."""

    exact_locations = False

    def get(self, request, *args, **kwargs):
        incidents = self.filter_queryset(self.get_queryset())
        # Ordered by P-code in SQL; the incidents outside every sub-district come as a null one.
        # Readers of the grid view count by the grid point's sub-district (incidents.disclosure).
        column = grid_path("subdistrict__pcode") if self.coarse else "subdistrict__pcode"
        rows = (
            incidents.order_by().values(pcode=F(column)).annotate(n=Count("id")).order_by("pcode")
        )
        results = []
        for row in rows:
            if row["pcode"] is None:
                continue
            count = self.withhold(row["n"])
            results.append({"pcode": row["pcode"], "count": count, "suppressed": count is None})
        return Response({"results": results})
