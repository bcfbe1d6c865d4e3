"""Review API (analysts and admins): a review decision (with the shareable summary partners
read), likely duplicates of a report, and its change history."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts.audit import ExactLocationsMixin, exact_read
from accounts.permissions import STAFF_ROLES
from common.views import StrictQueryParamsMixin
from incidents.api.serializers import IncidentSerializer
from incidents.models import Incident, IncidentChange
from incidents.review_forms import DECISIONS
from incidents.services import PUBLIC_SUMMARY_MAX_LENGTH, incident_review

DESCRIPTION_PREVIEW_CHARS = 280


class DuplicateCandidateSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="client_uuid", read_only=True)
    sub_event_type = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    sub_event_type_name = serializers.CharField(source="sub_event_type.name", read_only=True)
    distance_m = serializers.SerializerMethodField()
    hours_apart = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Incident
        fields = (
            "id",
            "occurred_at",
            "place_name",
            "sub_event_type",
            "sub_event_type_name",
            "review_status",
            "distance_m",
            "hours_apart",
            "description",
            "page_url",
        )
        read_only_fields = fields

    def get_distance_m(self, obj) -> int:
        return round(obj.distance_m.m)

    def get_hours_apart(self, obj) -> float:
        seconds = abs((obj.occurred_at - self.context["of"].occurred_at).total_seconds())
        return round(seconds / 3600, 1)

    def get_description(self, obj) -> str:
        """The start of the description (plain text: the page escapes it)."""
        return obj.description[:DESCRIPTION_PREVIEW_CHARS]

    def get_page_url(self, obj) -> str:
        return reverse("incident-page", kwargs={"id": obj.client_uuid})


@extend_schema(tags=["review"])
class DuplicateCandidatesView(StrictQueryParamsMixin, generics.ListAPIView):
    """Likely duplicates of a report, nearest first: the same sub-event type within 2 km and one
    day, not rejected and not themselves duplicates. Analysts and admins only."""

    serializer_class = DuplicateCandidateSerializer
    read_roles = STAFF_ROLES
    exact_locations = False  # distances between reports, never a point

    def get_incident(self) -> Incident:
        if not hasattr(self, "_incident"):
            self._incident = get_object_or_404(Incident.objects, client_uuid=self.kwargs["id"])
        return self._incident

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no incident
            return Incident.objects.none()
        return Incident.objects.duplicate_candidates(self.get_incident()).select_related(
            "sub_event_type"
        )

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "of": self.get_incident()}


class IncidentHistoryEntrySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    changes = serializers.JSONField(
        source="fields",
        read_only=True,
        help_text='{"field": {"old": value, "new": value}} for each changed field.',
    )

    class Meta:
        model = IncidentChange
        fields = ("at", "user", "action", "changes")
        read_only_fields = fields


@extend_schema(tags=["review"])
class IncidentHistoryView(ExactLocationsMixin, StrictQueryParamsMixin, generics.ListAPIView):
    """Every change to a report, newest first: who, when, what (old and new values).
    Analysts and admins only."""

    serializer_class = IncidentHistoryEntrySerializer
    read_roles = STAFF_ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IncidentChange.objects.none()
        incident = get_object_or_404(Incident.all_objects, client_uuid=self.kwargs["id"])
        # Old and new values include the exact location.
        exact_read(self.request, object_ids=[incident.client_uuid])
        return incident.changes.select_related("user").order_by("-at", "-id")


class ReviewDecisionSerializer(serializers.Serializer):
    """A review decision, as the review page takes it."""

    status = serializers.ChoiceField(choices=[value for value, _label in DECISIONS])
    note = serializers.CharField(
        max_length=2000,
        required=False,
        allow_blank=True,
        default="",
        help_text="Required when rejecting a report.",
    )
    duplicate_of = serializers.UUIDField(
        required=False, allow_null=True, default=None, help_text="Required for `duplicate`."
    )
    public_summary = serializers.CharField(
        max_length=PUBLIC_SUMMARY_MAX_LENGTH,
        required=False,
        allow_blank=True,
        trim_whitespace=True,
        help_text=(
            "The shareable summary partners read instead of the description, approved with a "
            "`verified` decision (with another decision it must stay as it is). Absent: left as "
            "it is; empty: partners read no description."
        ),
    )

    def validate_duplicate_of(self, value) -> Incident | None:
        if value is None:
            return None
        original = Incident.objects.select_related("duplicate_of").filter(client_uuid=value).first()
        if original is None:
            raise serializers.ValidationError(_("No report has this id."))
        return original


@extend_schema(
    tags=["review"],
    request=ReviewDecisionSerializer,
    responses={
        200: IncidentSerializer,
        400: OpenApiResponse(description="A field is wrong or the decision is not allowed."),
    },
)
class ReviewDecisionView(ExactLocationsMixin, StrictQueryParamsMixin, generics.GenericAPIView):
    """Verify, reject (with a reason), mark as a duplicate or put under review; verifying also
    approves the shareable summary that partners read in place of the description. Analysts and
    admins only; the decision is kept in the history and the audit log."""

    serializer_class = ReviewDecisionSerializer
    read_roles = frozenset()
    write_roles = STAFF_ROLES

    def post(self, request, id):
        incident = get_object_or_404(Incident.objects, client_uuid=id)
        decision = ReviewDecisionSerializer(data=request.data)
        decision.is_valid(raise_exception=True)
        data = decision.validated_data
        try:
            incident_review(
                incident=incident,
                reviewer=request.user,
                status=data["status"],
                note=data["note"].strip(),
                duplicate_of=data["duplicate_of"],
                public_summary=data.get("public_summary"),
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        incident = Incident.objects.for_api().get(pk=incident.pk)
        exact_read(request, object_ids=[incident.client_uuid])  # the record, as staff read it
        return Response(IncidentSerializer(incident, context={"request": request}).data)
