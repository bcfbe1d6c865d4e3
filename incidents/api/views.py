"""Incident API: list (JSON or GeoJSON, filters, keyset pages), detail, submit, changes feed."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import generics, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from accounts.audit import ExactLocationsMixin, exact_read
from accounts.permissions import ALL_ROLES
from accounts.roles import Role, role_of, sees_exact_locations
from common.pagination import KeysetPagination
from common.views import GeoJSONMixin, StrictQueryParamsMixin
from incidents.api.filters import IncidentFilter, parse_when
from incidents.api.geojson import features_json
from incidents.api.serializers import (
    EventTypeSerializer,
    IncidentGeoSerializer,
    IncidentSerializer,
    IncidentSubmitSerializer,
)
from incidents.disclosure import reads_exact
from incidents.models import EventType, Incident, ReviewStatus
from incidents.services import SubmissionConflict, incident_submit
from sealing.payloads import submission_payload
from sealing.serializers import SealedSubmissionSerializer

ORDERINGS = ("-occurred_at", "occurred_at", "-updated_at", "updated_at")
ORDERING_PARAMETER = OpenApiParameter(
    "ordering",
    OpenApiTypes.STR,
    enum=list(ORDERINGS),
    description="Sort order (default -occurred_at). Use updated_at with updated_since to mirror.",
)


@extend_schema(tags=["incidents"])
class IncidentViewSet(
    ExactLocationsMixin,
    StrictQueryParamsMixin,
    GeoJSONMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Truce-violation reports. Analysts and admins see all with exact locations; reporters their
    own; partners verified reports with locations snapped to a 0.05 degree grid."""

    serializer_class = IncidentSerializer
    geo_serializer_class = IncidentGeoSerializer
    filterset_class = IncidentFilter
    pagination_class = KeysetPagination
    lookup_field = "client_uuid"
    lookup_url_kwarg = "id"
    read_roles = ALL_ROLES
    write_roles = frozenset({Role.REPORTER, Role.ANALYST, Role.ADMIN})
    allowed_query_params = frozenset({"ordering"})

    def get_queryset(self):
        user = self.request.user
        return Incident.objects.visible_to(user).for_api(grid=not reads_exact(user))

    def get_ordering(self, request) -> str:
        ordering = request.query_params.get("ordering", "-occurred_at")
        if ordering not in ORDERINGS:
            raise ValidationError({"ordering": [_("One of: %(o)s.") % {"o": ", ".join(ORDERINGS)}]})
        return ordering

    def _read(self, incidents) -> None:
        """What this response shows (audited for analysts and admins by ExactLocationsMixin)."""
        exact_read(self.request, object_ids=[incident.client_uuid for incident in incidents])

    @extend_schema(
        parameters=[ORDERING_PARAMETER],
        responses={
            (200, "application/json"): IncidentSerializer(many=True),
            (200, "application/geo+json"): IncidentGeoSerializer(many=True),
        },
    )
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if self.wants_geojson():
            return self._list_geojson(queryset)
        page = self.paginate_queryset(queryset)
        self._read(page)
        serializer = self.get_serializer(page, many=True)
        return self.get_paginated_response(serializer.data)

    def _list_geojson(self, queryset) -> HttpResponse:
        """The page's ids from the ORM (keyset pagination), its features from PostgreSQL."""
        field = self.get_ordering(self.request).lstrip("-")
        rows = self.paginate_queryset(queryset.values("id", "client_uuid", field))
        exact_read(self.request, object_ids=[row["client_uuid"] for row in rows])
        features = features_json([row["id"] for row in rows], role_of(self.request.user))
        next_link = json.dumps(self.paginator.get_next_link())
        body = f'{{"type":"FeatureCollection","next":{next_link},"features":{features}}}'
        return HttpResponse(body, content_type="application/geo+json")

    @extend_schema(
        responses={
            (200, "application/json"): IncidentSerializer,
            (200, "application/geo+json"): IncidentGeoSerializer,
        },
    )
    def retrieve(self, request, *args, **kwargs):
        incident = self.get_object()
        self._read([incident])
        return Response(self.get_serializer(incident).data)

    @extend_schema(
        request=PolymorphicProxySerializer(
            component_name="IncidentSubmission",
            serializers=[IncidentSubmitSerializer, SealedSubmissionSerializer],
            resource_type_field_name=None,
        ),
        responses={
            201: IncidentSerializer,
            200: OpenApiResponse(
                IncidentSerializer, description="Exact repeat of an earlier submission."
            ),
            409: OpenApiResponse(description="This client_uuid was used for a different report."),
        },
    )
    def create(self, request, *args, **kwargs):
        # A report sealed on the phone is decrypted here and then checked like any other.
        submitted = IncidentSubmitSerializer(data=submission_payload(request))
        submitted.is_valid(raise_exception=True)
        try:
            result = incident_submit(
                reporter=request.user,
                client_uuid=submitted.validated_data["client_uuid"],
                data=submitted.service_data(),
            )
        except SubmissionConflict as conflict:
            return Response(
                {
                    "client_uuid": [str(conflict)],
                    "existing": str(conflict.existing.client_uuid),
                },
                status=status.HTTP_409_CONFLICT,
            )
        if result.incident.reporter_id != request.user.pk and not sees_exact_locations(
            request.user
        ):
            # Someone else's UUID: do not echo their report back.
            return Response(
                {"client_uuid": [_("This client UUID was already used.")]},
                status=status.HTTP_409_CONFLICT,
            )
        incident = Incident.all_objects.for_api().get(pk=result.incident.pk)
        self._read([incident])
        body = IncidentSerializer(incident, context=self.get_serializer_context()).data
        return Response(
            body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "since", OpenApiTypes.DATETIME, description="Changes at or after this time."
            ),
        ],
        responses=inline_serializer(
            "IncidentChange",
            fields={
                "id": serializers.UUIDField(),
                "change": serializers.ChoiceField(["upsert", "deleted", "merged", "withdrawn"]),
                "updated_at": serializers.DateTimeField(),
                "merged_into": serializers.UUIDField(allow_null=True),
                "record": IncidentSerializer(allow_null=True),
            },
            many=True,
        ),
        filters=False,
    )
    @action(
        detail=False,
        methods=["get"],
        url_path="changes",
        filterset_class=None,
        renderer_classes=[JSONRenderer],
        read_roles=frozenset({Role.ANALYST, Role.ADMIN, Role.PARTNER}),
        allowed_query_params=frozenset({"since"}),
    )
    def changes(self, request):
        """Every incident that changed since a time, in (updated_at, id) order.

        `change` is upsert, deleted, merged (a duplicate of `merged_into`, which is null when you
        may not see that report) or withdrawn (no longer visible to you). `record` holds the
        record when you may still see it, else null: a mirror stores the record when there is one
        and drops the id otherwise. Updates can commit out of order, so sync again from a little
        before your last mark (say five minutes); applying an entry twice is harmless."""
        role = role_of(request.user)
        queryset = Incident.all_objects.for_api(grid=not reads_exact(request.user))
        if role == Role.PARTNER:
            # A partner hears only of records it could once see.
            queryset = queryset.filter(verified_at__isnull=False)
        since = request.query_params.get("since")
        if since:
            queryset = queryset.filter(updated_at__gte=parse_when("since", since))
        paginator = KeysetPagination()
        page = paginator.paginate_queryset(queryset, request, view=_UpdatedOrder())
        # The page's records and the originals its duplicates point at: a partner hears of an
        # original only when it may read it (verified), never of an unverified report's id.
        originals = [incident.duplicate_of_id for incident in page if incident.duplicate_of_id]
        visible_ids = set(
            Incident.objects.visible_to(request.user)
            .filter(pk__in=[incident.pk for incident in page] + originals)
            .values_list("pk", flat=True)
        )
        context = self.get_serializer_context()
        entries = []
        for incident in page:
            entry = {
                "id": str(incident.client_uuid),
                "updated_at": incident.updated_at,
                "merged_into": None,
                "record": None,
            }
            if incident.deleted_at is not None:
                entry["change"] = "deleted"
            elif incident.review_status == ReviewStatus.DUPLICATE and incident.duplicate_of_id:
                entry["change"] = "merged"
                if incident.duplicate_of_id in visible_ids:
                    entry["merged_into"] = str(incident.duplicate_of.client_uuid)
            elif incident.pk in visible_ids:
                entry["change"] = "upsert"
            else:
                entry["change"] = "withdrawn"
            if incident.deleted_at is None and incident.pk in visible_ids:
                # Staff still see a merged report (marked as a duplicate); partners do not.
                entry["record"] = IncidentSerializer(incident, context=context).data
            entries.append(entry)
        self._read([i for i in page if i.pk in visible_ids])
        return paginator.get_paginated_response(entries)


class _UpdatedOrder:
    """The changes feed always runs in (updated_at, id) order."""

    def get_ordering(self, request) -> str:
        return "updated_at"


@extend_schema(tags=["reference"])
class TaxonomyView(StrictQueryParamsMixin, generics.ListAPIView):
    """The ACLED event types and their sub-event types, with the codes the filters take."""

    serializer_class = EventTypeSerializer
    read_roles = ALL_ROLES
    exact_locations = False

    def get_queryset(self):
        return EventType.objects.prefetch_related("sub_types").order_by("position", "name")
