"""Review API (analysts and admins): likely duplicates of a report, and its change history."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from accounts.permissions import STAFF_ROLES
from common.views import StrictQueryParamsMixin
from incidents.models import Incident, IncidentChange

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
class IncidentHistoryView(StrictQueryParamsMixin, generics.ListAPIView):
    """Every change to a report, newest first: who, when, what (old and new values).
    Analysts and admins only."""

    serializer_class = IncidentHistoryEntrySerializer
    read_roles = STAFF_ROLES

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return IncidentChange.objects.none()
        incident = get_object_or_404(Incident.all_objects, client_uuid=self.kwargs["id"])
        return incident.changes.select_related("user").order_by("-at", "-id")
