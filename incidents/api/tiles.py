"""Mapbox vector tiles of incidents, built by PostGIS (ST_AsMVT) in one statement.

`/tiles/incidents/{z}/{x}/{y}.pbf` takes the filters of the incident list and the same role rules:
analysts and admins every incident at its exact location, partners verified incidents on the
0.05 degree grid, reporters their own reports. The ORM builds the filtered query (so filters are
the list's, word for word); PostGIS clips it to the tile and encodes it.

Tiles are private (they depend on who asks): common.middleware marks them `private, no-cache`,
so the browser asks again every time; the ETag is a hash of the tile's bytes, so an unchanged tile
costs a 304 and no transfer.
"""

from __future__ import annotations

import hashlib
import math

from django.contrib.gis.geos import Polygon
from django.db import connection
from django.db.models import F, Func, IntegerField, TextField
from django.db.models.functions import Cast
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from accounts.audit import ExactLocationsMixin, exact_read
from incidents.api.map import _MapAggregateView

MAX_TILE_ZOOM = 22
EXTENT = 4096
BUFFER = 64
# A tile holding more incidents than this shows the most recent ones (header X-Tile-Truncated):
# the map asks for clusters when zoomed out (incidents/clusters/).
MAX_FEATURES = 50_000
LAYER = "incidents"
CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


def tile_bounds(
    z: int, x: int, y: int, *, buffer: float = 0.0
) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of a Web Mercator tile, widened by `buffer` tile widths."""
    n = 2**z

    def lon(tx: float) -> float:
        return tx / n * 360 - 180

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    return (
        max(lon(x - buffer), -180.0),
        max(lat(y + 1 + buffer), -85.0511287798),
        min(lon(x + 1 + buffer), 180.0),
        min(lat(y - buffer), 85.0511287798),
    )


class _AsMVTGeom(Func):
    # Never fetched into Python: a geometry output field would make the ORM cast it to bytea,
    # which ST_AsMVT cannot read.
    output_field = TextField()

    def __init__(self, column: str, z: int, x: int, y: int):
        # z, x and y are validated integers, so formatting them into the template is safe.
        self.template = (
            "ST_AsMVTGeom(ST_Transform(%(expressions)s, 3857), "
            f"ST_TileEnvelope({int(z)}, {int(x)}, {int(y)}), {EXTENT}, {BUFFER}, true)"
        )
        super().__init__(F(column))


class _IsoUtc(Func):
    template = """to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""
    output_field = TextField()


def _tile_coordinates(z: int, x: int, y: int) -> None:
    if not 0 <= z <= MAX_TILE_ZOOM:
        raise ValidationError({"z": [_("Must be from 0 to %(n)d.") % {"n": MAX_TILE_ZOOM}]})
    if not (0 <= x < 2**z and 0 <= y < 2**z):
        raise ValidationError({"x": [_("No such tile at this zoom level.")]})


@extend_schema(
    tags=["incidents"],
    filters=True,
    responses={
        (200, CONTENT_TYPE): OpenApiResponse(
            OpenApiTypes.BINARY,
            description=(
                "A Mapbox vector tile (layer `incidents`: uuid, occurred_at, event_type, "
                "sub_event_type, review_status, killed, injured)."
            ),
        ),
        304: OpenApiResponse(description="Unchanged (If-None-Match)."),
    },
)
class IncidentTileView(ExactLocationsMixin, _MapAggregateView):
    """Incidents as a vector tile, with the filters of the incident list."""

    def perform_content_negotiation(self, request, force=False):
        # The body is a tile whatever the Accept header says; errors come as JSON.
        return JSONRenderer(), "application/json"

    def get(self, request, z: int, x: int, y: int):
        _tile_coordinates(z, x, y)
        column = self.location_column
        envelope = Polygon.from_bbox(tile_bounds(z, x, y, buffer=BUFFER / EXTENT))
        envelope.srid = 4326
        incidents = (
            self.filter_queryset(self.get_queryset())
            .filter(**{f"{column}__bboverlaps": envelope})
            .order_by("-occurred_at", "-id")
            .annotate(
                mvt_geom=_AsMVTGeom(column, z, x, y),
                uuid=Cast("client_uuid", TextField()),
                occurred=_IsoUtc("occurred_at"),
                event=F("event_type__slug"),
                sub_event=F("sub_event_type__slug"),
                status=F("review_status"),
                dead=Cast(F("killed_civilians") + F("killed_combatants"), IntegerField()),
                hurt=Cast(F("injured_civilians") + F("injured_combatants"), IntegerField()),
            )
            .values("mvt_geom", "uuid", "occurred", "event", "sub_event", "status", "dead", "hurt")
        )[: MAX_FEATURES + 1]
        sql, params = incidents.query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT ST_AsMVT(t, %s, {EXTENT}, 'mvt_geom'), count(*)
                FROM (
                    SELECT mvt_geom, uuid, occurred AS occurred_at, event AS event_type,
                           sub_event AS sub_event_type, status AS review_status,
                           dead AS killed, hurt AS injured
                    FROM ({sql}) q
                    WHERE mvt_geom IS NOT NULL
                    LIMIT {MAX_FEATURES}
                ) t
                """,  # noqa: S608  (the inner SQL is the ORM's, its values are parameters)  # nosec B608
                [LAYER, *params],
            )
            tile, features = cursor.fetchone()
        body = bytes(tile or b"")
        # A tile can hold 50,000 incidents: the event names the tile, not each id.
        exact_read(
            request,
            object_type="incident_tile",
            detail={"tile": f"{z}/{x}/{y}", "features": features} if features else None,
        )
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        # Cache-Control and Vary come from common.middleware.PrivateResponseMiddleware.
        headers = {"ETag": etag}
        if features >= MAX_FEATURES:
            headers["X-Tile-Truncated"] = "true"
        if etag in request.headers.get("If-None-Match", ""):
            return HttpResponse(status=304, headers=headers)
        return HttpResponse(body, content_type=CONTENT_TYPE, headers=headers)
