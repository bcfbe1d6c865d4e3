"""Zone statistics API: counts per period from the precomputed table (never from incidents)."""

from __future__ import annotations

import datetime

from django.db.models import Sum
from django.db.models.functions import TruncDay, TruncMonth, TruncWeek
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import ALL_ROLES
from accounts.roles import sees_exact_locations
from common.views import StrictQueryParamsMixin
from incidents.models import ReviewStatus
from stats.models import ZoneDayStat
from zones.models import Zone

# Partner-facing counts below this are withheld: small numbers can identify people (PRODUCT.md).
SUPPRESS_BELOW = 3
MAX_PERIODS = 1000
INTERVALS = {"day": TruncDay, "week": TruncWeek, "month": TruncMonth}


def _date(name: str, raw: str | None, default: datetime.date) -> datetime.date:
    if raw is None:
        return default
    value = None
    try:
        value = parse_date(raw)
    except ValueError:
        value = None
    if value is None:
        raise ValidationError({name: [_("Expected an ISO 8601 date (YYYY-MM-DD).")]})
    return value


Period = inline_serializer(
    "ZoneStatPeriod",
    many=True,
    fields={
        "period": serializers.DateField(),
        "incidents": serializers.IntegerField(allow_null=True),
        "killed": serializers.IntegerField(allow_null=True),
        "injured": serializers.IntegerField(allow_null=True),
        "suppressed": serializers.BooleanField(),
    },
)


@extend_schema(
    tags=["statistics"],
    parameters=[
        OpenApiParameter(
            "from", OpenApiTypes.DATE, description="First day (default: 90 days ago)."
        ),
        OpenApiParameter(
            "to", OpenApiTypes.DATE, description="Last day, inclusive (default: today)."
        ),
        OpenApiParameter(
            "interval", OpenApiTypes.STR, enum=list(INTERVALS), description="Bucket size."
        ),
        OpenApiParameter("sub_type", OpenApiTypes.STR, description="Sub-event type code."),
        OpenApiParameter(
            "review_status",
            OpenApiTypes.STR,
            description="Analysts and admins: a status (default: all). Others see verified only.",
        ),
    ],
    responses=inline_serializer(
        "ZoneStats",
        fields={
            "zone": serializers.CharField(),
            "interval": serializers.CharField(),
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "suppressed_below": serializers.IntegerField(allow_null=True),
            "series": Period,
        },
    ),
)
class ZoneStatsView(StrictQueryParamsMixin, APIView):
    """Incidents, killed and injured in a zone per day, week or month (Damascus dates)."""

    read_roles = ALL_ROLES
    allowed_query_params = frozenset({"from", "to", "interval", "sub_type", "review_status"})

    def get(self, request, pcode: str):
        zone = get_object_or_404(Zone, pcode=pcode)
        today = datetime.date.today()
        params = request.query_params
        start = _date("from", params.get("from"), today - datetime.timedelta(days=90))
        end = _date("to", params.get("to"), today)
        if start > end:
            raise ValidationError({"from": [_("Must not be after 'to'.")]})
        interval = params.get("interval", "day")
        if interval not in INTERVALS:
            raise ValidationError({"interval": [_("One of: day, week, month.")]})
        days = (end - start).days + 1
        periods = {"day": days, "week": days // 7 + 1, "month": days // 28 + 1}[interval]
        if periods > MAX_PERIODS:
            raise ValidationError({"to": [_("At most %(n)d periods.") % {"n": MAX_PERIODS}]})

        rows = ZoneDayStat.objects.filter(zone=zone, day__gte=start, day__lte=end)
        staff = sees_exact_locations(request.user)
        status = params.get("review_status")
        if status is not None and status not in ReviewStatus.values:
            raise ValidationError({"review_status": [_("Unknown status.")]})
        if not staff:
            rows = rows.filter(review_status=ReviewStatus.VERIFIED)
        elif status:
            rows = rows.filter(review_status=status)
        if params.get("sub_type"):
            rows = rows.filter(sub_event_type__slug=params["sub_type"])
        series = (
            rows.annotate(period=INTERVALS[interval]("day"))
            .values("period")
            .annotate(incidents=Sum("incidents"), killed=Sum("killed"), injured=Sum("injured"))
            .order_by("period")
        )
        threshold = None if staff else SUPPRESS_BELOW
        out = []
        for row in series:
            hide = threshold is not None and row["incidents"] < threshold
            out.append(
                {
                    "period": row["period"],
                    "incidents": None if hide else row["incidents"],
                    "killed": None if hide else row["killed"],
                    "injured": None if hide else row["injured"],
                    "suppressed": hide,
                }
            )
        return Response(
            {
                "zone": zone.pcode,
                "interval": interval,
                "from": start,
                "to": end,
                "suppressed_below": threshold,
                "series": out,
            }
        )
