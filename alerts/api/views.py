"""Alerts API: newest first, cursor-paginated; partners see grid locations and only alerts whose
incident is still verified."""

from __future__ import annotations

import datetime

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.audit import ExactLocationsMixin, exact_read
from accounts.permissions import STAFF_ROLES
from accounts.roles import Role, sees_exact_locations
from alerts.models import Alert, AlertKind
from alerts.payloads import alert_payload
from common.pagination import KeysetPagination
from common.views import StrictQueryParamsMixin

ALERT_READ_ROLES = STAFF_ROLES | {Role.PARTNER}


class AlertSerializer(serializers.BaseSerializer):
    """The same JSON a webhook carries (alerts.payloads), trimmed by the reader's role."""

    def to_representation(self, alert: Alert) -> dict:
        return alert_payload(alert, exact=self.context["exact"])


class AlertDocSerializer(serializers.Serializer):
    """For the schema only: the shape alerts.payloads.alert_payload returns."""

    id = serializers.UUIDField()
    kind = serializers.ChoiceField(choices=AlertKind.choices)
    kind_label = serializers.CharField()
    created_at = serializers.DateTimeField()
    occurred_at = serializers.DateTimeField()
    summary = serializers.DictField(child=serializers.CharField(), help_text="By language code.")
    detail = serializers.DictField(help_text="The rule's figures (distance, counts, ...).")
    incident = serializers.DictField(allow_null=True)
    patrol = serializers.CharField(allow_null=True)
    zone = serializers.CharField(allow_null=True, help_text="P-code.")
    camp = serializers.CharField(allow_null=True, help_text="Camp site id.")
    url = serializers.URLField()


@extend_schema(tags=["alerts"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("kind", OpenApiTypes.STR, enum=AlertKind.values),
            OpenApiParameter("zone", OpenApiTypes.STR, description="Zone P-code."),
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Raised at or after this time."
            ),
        ],
        responses=AlertDocSerializer(many=True),
    ),
    retrieve=extend_schema(responses=AlertDocSerializer),
)
class AlertViewSet(
    ExactLocationsMixin,
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Alerts raised by the rules: incidents in the M4 corridor, shelling or air strikes near
    large camps, zone escalations, patrols cut short."""

    serializer_class = AlertSerializer
    pagination_class = KeysetPagination
    lookup_field = "uuid"
    read_roles = ALERT_READ_ROLES
    allowed_query_params = frozenset({"kind", "zone", "since"})

    def get_ordering(self, request) -> str:
        return "-created_at"

    def _read(self, alerts) -> None:
        """The incidents whose locations this response shows (exact for staff, audited)."""
        exact_read(
            self.request,
            object_ids=[alert.incident.client_uuid for alert in alerts if alert.incident_id],
        )

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self._read(page)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        alert = self.get_object()
        self._read([alert])
        return Response(self.get_serializer(alert).data)

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "exact": sees_exact_locations(self.request.user),
        }

    def get_queryset(self):
        alerts = Alert.objects.visible_to(self.request.user).select_related("incident")
        if self.action != "list":
            return alerts
        params = self.request.query_params
        if "kind" in params:
            if params["kind"] not in AlertKind.values:
                raise ValidationError({"kind": [_("One of: %s.") % ", ".join(AlertKind.values)]})
            alerts = alerts.filter(kind=params["kind"])
        if "zone" in params:
            alerts = alerts.filter(
                Q(zone__pcode=params["zone"])
                | Q(zone__parent__pcode=params["zone"])
                | Q(zone__parent__parent__pcode=params["zone"])
            )
        if "since" in params:
            since = None
            try:
                since = parse_datetime(params["since"])
            except ValueError:
                since = None
            if since is None:
                raise ValidationError({"since": [_("Expected an ISO 8601 date and time.")]})
            # Any offset Python accepts, as UTC: PostgreSQL refuses offsets beyond 15:59.
            try:
                if timezone.is_naive(since):
                    since = timezone.make_aware(since)
                since = since.astimezone(datetime.UTC)
            except (OverflowError, ValueError):
                raise ValidationError({"since": [_("This time is out of range.")]}) from None
            alerts = alerts.filter(created_at__gte=since)
        return alerts
