"""Streamed incident exports: HXL CSV, GeoJSON and ACLED CSV, with the filters of the list API.

The rows come from incidents.exports; these views check the role, validate the filters and the
ordering, write the audit event and then stream. Reporters cannot export (they read their own
reports in the list API); partners get what the list gives them: verified reports, snapped
locations, no review fields.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer

from accounts.audit import ExactLocationsMixin, export_read
from accounts.roles import Role, sees_exact_locations
from common.fields import GEOJSON_POINT_SCHEMA
from common.views import StrictQueryParamsMixin
from incidents import exports
from incidents.api.filters import IncidentFilter
from incidents.api.views import ORDERING_PARAMETER, ORDERINGS
from incidents.models import Incident

EXPORT_ROLES = frozenset({Role.ANALYST, Role.ADMIN, Role.PARTNER})
# An export is never paged.
PAGING_PARAMS = frozenset({"cursor", "page", "page_size"})

ROLES_NOTE = (
    " Analysts, admins and partners may export; partners get verified reports only, locations "
    "snapped to the 0.05 degree grid and no review fields. No export names the reporter. Every "
    "export is written to the audit log. The file is streamed: a failure part-way ends it early "
    "(a CSV's last line incomplete, GeoJSON that does not parse)."
)
BAD_REQUEST = OpenApiResponse(
    description="Unknown query parameter or bad filter value; the body names the parameter."
)
FEATURE_COLLECTION_SCHEMA = {
    "type": "object",
    "description": "RFC 7946 FeatureCollection; no `crs` member (WGS84 longitude, latitude).",
    "required": ["type", "features"],
    "properties": {
        "type": {"type": "string", "enum": ["FeatureCollection"]},
        "features": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["type", "id", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": "string", "format": "uuid"},
                    "geometry": GEOJSON_POINT_SCHEMA,
                    "properties": {
                        "type": "object",
                        "description": "The columns of the CSV export, but for latitude and "
                        "longitude; `sources` is a list.",
                        "additionalProperties": True,
                    },
                },
            },
        },
    },
}


def _export_schema(*, operation_id: str, summary: str, description: str, media_type: str, body):
    return extend_schema(
        operation_id=operation_id,
        summary=summary,
        description=description + ROLES_NOTE,
        tags=["incidents"],
        filters=True,
        parameters=[ORDERING_PARAMETER],
        responses={
            (200, media_type): OpenApiResponse(body, description="The export, as a download."),
            400: BAD_REQUEST,
        },
    )


class IncidentExportView(ExactLocationsMixin, StrictQueryParamsMixin, generics.GenericAPIView):
    """Base of the three exports: the subclasses name the format and the row generator."""

    filterset_class = IncidentFilter
    pagination_class = None
    # Only errors are rendered (as JSON); the export itself is a StreamingHttpResponse.
    renderer_classes = [JSONRenderer]
    read_roles = EXPORT_ROLES
    allowed_query_params = frozenset({"ordering"})

    export_format: str
    content_type: str
    file_name: str  # with {date}
    write: Callable[..., Iterator[str]]

    def get_queryset(self):
        return Incident.objects.visible_to(self.request.user)

    def get_allowed_query_params(self) -> frozenset[str]:
        return super().get_allowed_query_params() - PAGING_PARAMS

    def perform_content_negotiation(self, request, force=False):
        # Any Accept header will do (*/*, text/csv, application/geo+json): the body is the file.
        return super().perform_content_negotiation(request, force=True)

    def get_ordering(self) -> tuple[str, str]:
        ordering = self.request.query_params.get("ordering", "-occurred_at")
        if ordering not in ORDERINGS:
            raise ValidationError({"ordering": [_("One of: %(o)s.") % {"o": ", ".join(ORDERINGS)}]})
        return ordering, "-id" if ordering.startswith("-") else "id"

    def get(self, request, *args, **kwargs):
        ordering = self.get_ordering()
        # Filtering here, before the audit event and the stream, turns bad values into a 400.
        queryset = self.filter_queryset(self.get_queryset()).order_by(*ordering)
        exact = sees_exact_locations(request.user)
        # The query runs here (see incidents.exports.export_rows), before the audit event:
        # a database error is an error response, not an export cut short.
        chunks = self.write(queryset, exact=exact)
        # Written by the audit hook as the response leaves the view, before the stream is read.
        export_read(
            request,
            detail={
                "format": self.export_format,
                "filters": request.query_params.dict(),
                "exact_locations": exact,
            },
        )
        response = StreamingHttpResponse(chunks, content_type=self.content_type)
        file_name = self.file_name.format(date=timezone.localdate().isoformat())
        response["Content-Disposition"] = f'attachment; filename="{file_name}"'
        return response


@extend_schema_view(
    get=_export_schema(
        operation_id="incidents_export_csv",
        summary="Export incidents as HXL-tagged CSV",
        description=(
            "Every incident matching the filters of the incident list, as CSV (UTF-8 with a byte "
            "order mark, so that Excel shows Arabic). Row 1 holds the column names, row 2 the HXL "
            "hashtags (`#event+code`, `#date+occurred`, `#adm1+code`, `#geo+lat`, ...), then one "
            "row per incident. Times are ISO 8601; `sources` are joined with `; `; text starting "
            "with = + - @ is prefixed with an apostrophe so that spreadsheets do not run it."
        ),
        media_type="text/csv",
        body=OpenApiTypes.BINARY,
    )
)
class IncidentCsvExportView(IncidentExportView):
    export_format = "csv"
    content_type = "text/csv; charset=utf-8; header=present"
    file_name = "incidents-{date}.csv"
    write = staticmethod(exports.hxl_csv)


@extend_schema_view(
    get=_export_schema(
        operation_id="incidents_export_geojson",
        summary="Export incidents as GeoJSON",
        description=(
            "Every incident matching the filters of the incident list, as one RFC 7946 "
            "FeatureCollection of points ([longitude, latitude], WGS84)."
        ),
        media_type="application/geo+json",
        body=FEATURE_COLLECTION_SCHEMA,
    )
)
class IncidentGeoJSONExportView(IncidentExportView):
    export_format = "geojson"
    content_type = "application/geo+json"
    file_name = "incidents-{date}.geojson"
    write = staticmethod(exports.geojson)


@extend_schema_view(
    get=_export_schema(
        operation_id="incidents_export_acled",
        summary="Export incidents as ACLED-compatible CSV",
        description=(
            "Every incident matching the filters of the incident list, with ACLED's column names "
            "in ACLED's order (UTF-8, no byte order mark). `event_id_cnty` is the ACLED id of an "
            "imported event, else `SYRCM` and our number; `inter1`, `inter2` and `interaction` "
            "are the numeric codes of ACLED's 2023 codebook; `geo_precision` is at least 2 for "
            "snapped locations; `timestamp` is the Unix time of the last change."
        ),
        media_type="text/csv",
        body=OpenApiTypes.BINARY,
    )
)
class IncidentAcledExportView(IncidentExportView):
    export_format = "acled"
    content_type = "text/csv; charset=utf-8; header=present"
    file_name = "incidents-acled-{date}.csv"
    write = staticmethod(exports.acled_csv)
