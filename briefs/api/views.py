"""Daily briefs API: a paged list of days with their headlines, and one day's whole brief."""

from __future__ import annotations

import datetime

from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import mixins, serializers, viewsets

from accounts.audit import ExactLocationsMixin, exact_read
from accounts.permissions import ALL_ROLES
from accounts.roles import role_of
from briefs.models import DailyBrief
from briefs.selectors import brief_for_reader, brief_headline_for_reader
from common.views import StrictQueryParamsMixin


class BriefListSerializer(serializers.ModelSerializer):
    headline = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = DailyBrief
        fields = ("day", "generated_at", "headline", "url")

    def get_headline(self, brief) -> dict[str, str]:
        return brief_headline_for_reader(brief.data, role=self.context["role"])

    def get_url(self, brief) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("brief-detail", args=[brief.day.isoformat()])
        )


class BriefSerializer(serializers.BaseSerializer):
    def to_representation(self, brief: DailyBrief) -> dict:
        data = brief_for_reader(brief.data, role=self.context["role"])
        return {"day": brief.day, "generated_at": brief.generated_at, **data}


BriefDoc = inline_serializer(
    "DailyBrief",
    fields={
        "day": serializers.DateField(),
        "generated_at": serializers.DateTimeField(),
        "headline": serializers.DictField(child=serializers.CharField()),
        "totals": serializers.DictField(),
        "zones": serializers.ListField(child=serializers.DictField()),
        "notable": serializers.ListField(child=serializers.DictField()),
        "notable_withheld": serializers.BooleanField(),
        "patrols": serializers.ListField(child=serializers.DictField()),
        "patrol_counts": serializers.DictField(),
        "alerts": serializers.DictField(),
    },
)


@extend_schema(tags=["briefs"])
@extend_schema_view(retrieve=extend_schema(responses=BriefDoc))
class BriefViewSet(
    ExactLocationsMixin,
    StrictQueryParamsMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """The day's picture, written every morning for the day before (Damascus time): per zone the
    day's verified incidents against the day before and the 28-day daily average, notable
    incidents, patrols and alerts; headlines in English and Arabic. Partners get grid locations
    and no count below the suppression threshold; reporters the same counts and no incidents
    (`notable` is empty and `notable_withheld` true)."""

    queryset = DailyBrief.objects.order_by("-day")
    serializer_class = BriefListSerializer
    lookup_field = "day"
    lookup_value_regex = r"\d{4}-\d{2}-\d{2}"
    read_roles = ALL_ROLES

    def get_object(self):
        try:
            day = datetime.date.fromisoformat(self.kwargs["day"])
        except ValueError:
            raise Http404 from None
        brief = DailyBrief.objects.filter(day=day).first()
        if brief is None:
            raise Http404
        return brief

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        # The notable incidents, at their exact locations for staff.
        exact_read(request, object_ids=[row["id"] for row in response.data["notable"]])
        return response

    def list(self, request, *args, **kwargs):
        exact_read(request)  # days and headlines: no location
        return super().list(request, *args, **kwargs)

    def get_serializer_class(self):
        return BriefSerializer if self.action == "retrieve" else BriefListSerializer

    def get_serializer_context(self):
        return {
            **super().get_serializer_context(),
            "role": role_of(self.request.user),
        }
