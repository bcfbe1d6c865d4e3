"""Pagination with a hard page-size cap on every list.

KeysetPagination pages by (ordering field, id): stable under inserts and cheap at any depth, which
is what incremental sync needs. PageNumber pagination is kept for small reference lists.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import json
from collections import OrderedDict

from django.db.models import Q
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Ids are bigint columns; a cursor we issued is well under a few hundred characters.
MAX_ID = 2**63 - 1
MAX_CURSOR_LENGTH = 1000


def page_size_from(request, *, default: int = DEFAULT_PAGE_SIZE, cap: int = MAX_PAGE_SIZE) -> int:
    raw = request.query_params.get("page_size")
    if raw is None:
        return default
    try:
        size = int(raw)
    except ValueError:
        raise ValidationError({"page_size": [_("A whole number is required.")]}) from None
    if size < 1:
        raise ValidationError({"page_size": [_("Must be at least 1.")]})
    return min(size, cap)


def _is_feature_collection(schema: dict) -> bool:
    # drf-spectacular names the many=True schema of a GeoFeatureModelSerializer "<Name>GeoList"
    # (a FeatureCollection); see its contrib for rest_framework_gis.
    return schema.get("$ref", "").endswith("GeoList")


def _feature_collection_with(schema: dict, links: dict) -> dict:
    """The FeatureCollection schema with pagination links as foreign members (RFC 7946 s6.1)."""
    return {
        "allOf": [
            schema,
            {"type": "object", "required": list(links), "properties": links},
        ]
    }


NULLABLE_URI = {"type": "string", "nullable": True, "format": "uri"}


class CappedPageNumberPagination(pagination.PageNumberPagination):
    page_size = DEFAULT_PAGE_SIZE
    page_size_query_param = "page_size"
    page_size_query_description = (
        f"Results per page (default {DEFAULT_PAGE_SIZE}, at most {MAX_PAGE_SIZE})."
    )
    max_page_size = MAX_PAGE_SIZE

    def get_page_size(self, request):
        return page_size_from(request, default=self.page_size, cap=self.max_page_size)

    def get_paginated_response(self, data):
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            return Response(
                OrderedDict(
                    [
                        ("type", "FeatureCollection"),
                        ("count", self.page.paginator.count),
                        ("next", self.get_next_link()),
                        ("previous", self.get_previous_link()),
                        ("features", data["features"]),
                    ]
                )
            )
        return super().get_paginated_response(data)

    def get_paginated_response_schema(self, schema):
        if _is_feature_collection(schema):
            return _feature_collection_with(
                schema,
                {"count": {"type": "integer"}, "next": NULLABLE_URI, "previous": NULLABLE_URI},
            )
        return super().get_paginated_response_schema(schema)


class KeysetPagination(pagination.BasePagination):
    """Cursor pagination over (field, id) for an ordering chosen by the view.

    The view provides `get_ordering(request) -> str` such as "-occurred_at" or "updated_at".
    """

    cursor_query_param = "cursor"
    page_size = DEFAULT_PAGE_SIZE
    max_page_size = MAX_PAGE_SIZE

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.size = page_size_from(request, default=self.page_size, cap=self.max_page_size)
        self.ordering = view.get_ordering(request)
        field = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        id_order = "-id" if descending else "id"
        queryset = queryset.order_by(self.ordering, id_order)
        position = self._decode(request.query_params.get(self.cursor_query_param))
        if position is not None:
            value, pk = position
            after = "lt" if descending else "gt"
            queryset = queryset.filter(
                Q(**{f"{field}__{after}": value}) | Q(**{field: value, f"id__{after}": pk})
            )
        rows = list(queryset[: self.size + 1])
        self.has_next = len(rows) > self.size
        rows = rows[: self.size]
        if self.has_next:
            last = rows[-1]
            # Model instances, or dicts from .values() (SQL-built pages read ids only).
            self.next_position = (
                (last[field], last["id"])
                if isinstance(last, dict)
                else (getattr(last, field), last.pk)
            )
        else:
            self.next_position = None
        return rows

    def get_next_link(self) -> str | None:
        if self.next_position is None:
            return None
        value, pk = self.next_position
        token = json.dumps({"o": self.ordering, "v": value.isoformat(), "id": pk})
        cursor = base64.urlsafe_b64encode(token.encode()).decode()
        return replace_query_param(
            self.request.build_absolute_uri(), self.cursor_query_param, cursor
        )

    def get_first_link(self) -> str:
        return remove_query_param(self.request.build_absolute_uri(), self.cursor_query_param)

    def _decode(self, cursor: str | None):
        if not cursor:
            return None
        invalid = ValidationError({"cursor": [_("Invalid cursor.")]})
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise invalid
        try:
            token = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
            value = parse_datetime(token["v"])
            pk = token["id"]
            ordering = token["o"]
        except (
            ValueError,
            KeyError,
            TypeError,
            OverflowError,
            RecursionError,
            binascii.Error,
            UnicodeError,
        ):
            raise invalid from None
        # An id is a whole number of the column's range: JSON's 1e400, 1.5, true or 10**30 are not.
        if type(pk) is not int or not 0 < pk <= MAX_ID:
            raise invalid
        if value is None or value.tzinfo is None or not isinstance(ordering, str):
            raise invalid
        # Any offset Python accepts, as UTC: PostgreSQL refuses offsets beyond 15:59.
        try:
            value = value.astimezone(datetime.UTC)
        except (OverflowError, ValueError):
            raise ValidationError({"cursor": [_("Invalid cursor.")]}) from None
        if ordering != self.ordering:
            raise ValidationError(
                {"cursor": [_("This cursor belongs to another ordering; start again without it.")]}
            )
        return value, pk

    def get_paginated_response(self, data):
        if isinstance(data, dict) and data.get("type") == "FeatureCollection":
            return Response(
                OrderedDict(
                    [
                        ("type", "FeatureCollection"),
                        ("next", self.get_next_link()),
                        ("features", data["features"]),
                    ]
                )
            )
        return Response(OrderedDict([("next", self.get_next_link()), ("results", data)]))

    def get_paginated_response_schema(self, schema):
        if _is_feature_collection(schema):
            return _feature_collection_with(schema, {"next": NULLABLE_URI})
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {"next": NULLABLE_URI, "results": schema},
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Opaque cursor from the `next` link of the previous page.",
                "schema": {"type": "string"},
            },
            {
                "name": "page_size",
                "required": False,
                "in": "query",
                "description": (
                    f"Results per page (default {self.page_size}, at most {self.max_page_size})."
                ),
                "schema": {"type": "integer", "minimum": 1},
            },
        ]
