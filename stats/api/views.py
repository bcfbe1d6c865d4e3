"""Zone statistics API: counts per period from the precomputed table (never from incidents)."""

from __future__ import annotations

import datetime

from django.conf import settings
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
from stats.models import zone_day_stats
from stats.privacy import SUPPRESS_BELOW, sees_small_counts, withhold_figures
from stats.trends import BASELINE_DAYS, RECENT_DAYS, ZoneTrend, damascus_today, zone_trends
from zones.models import Zone, ZoneKind

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
    exact_locations = False
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

        staff = sees_exact_locations(request.user)
        # Everyone else reads the grid statistics: verified incidents, by the zones of their grid
        # points (PRODUCT.md, "Do no harm" 6), never by which side of a boundary they lie.
        rows = zone_day_stats(grid=not staff).filter(zone=zone, day__gte=start, day__lte=end)
        status = params.get("review_status")
        if status is not None and status not in ReviewStatus.values:
            raise ValidationError({"review_status": [_("Unknown status.")]})
        if staff and status:
            rows = rows.filter(review_status=status)
        if params.get("sub_type"):
            rows = rows.filter(sub_event_type__slug=params["sub_type"])
        series = (
            rows.annotate(period=INTERVALS[interval]("day"))
            .values("period")
            .annotate(incidents=Sum("incidents"), killed=Sum("killed"), injured=Sum("injured"))
            .order_by("period")
        )
        out = []
        for row in series:
            shown, hidden = withhold_figures(
                row, viewer=request.user, count="incidents", describing=("killed", "injured")
            )
            out.append({**shown, "suppressed": "incidents" in hidden})
        return Response(
            {
                "zone": zone.pcode,
                "interval": interval,
                "from": start,
                "to": end,
                "suppressed_below": None if sees_small_counts(request.user) else SUPPRESS_BELOW,
                "series": out,
            }
        )


Trend = inline_serializer(
    "ZoneTrend",
    fields={
        "zone": serializers.CharField(),
        "kind": serializers.CharField(),
        "name_en": serializers.CharField(),
        "name_ar": serializers.CharField(),
        "as_of": serializers.DateField(),
        "recent": serializers.IntegerField(allow_null=True),
        "baseline": serializers.IntegerField(allow_null=True),
        "expected": serializers.FloatField(allow_null=True),
        "ratio": serializers.FloatField(allow_null=True),
        "p_value": serializers.FloatField(allow_null=True),
        "escalation": serializers.BooleanField(),
        "suppressed": serializers.BooleanField(),
    },
)


def trend_json(trend: ZoneTrend, *, viewer) -> dict:
    """A trend for the reader, by the one small-count rule: the week's and the baseline's counts
    each withheld when 1 or 2, with every figure computed from a withheld one (the expected
    count, the ratio, the p-value, from which the counts could be worked back). The flag shows:
    it needs ESCALATION_MIN_COUNT >= the threshold, so it never reveals a small count."""
    figures, hidden = withhold_figures(
        {
            "recent": trend.recent,
            "baseline": trend.baseline,
            "expected": round(trend.expected, 2),
            "ratio": trend.ratio,
            "p_value": float(f"{trend.p_value:.3g}"),
        },
        viewer=viewer,
        count="recent",
        others=("baseline",),
        derived={
            "expected": "baseline",
            "ratio": ("recent", "baseline"),
            "p_value": ("recent", "baseline"),
        },
    )
    return {
        "zone": trend.pcode,
        "kind": trend.kind,
        "name_en": trend.name_en,
        "name_ar": trend.name_ar,
        "as_of": trend.as_of,
        **figures,
        "escalation": trend.escalation,
        "suppressed": bool(hidden),
    }


EARLIEST_AS_OF = datetime.date(1900, 1, 1)


def _as_of(request) -> datetime.date:
    as_of = _date("as_of", request.query_params.get("as_of"), damascus_today())
    if as_of < EARLIEST_AS_OF:
        raise ValidationError({"as_of": [_("Must be 1900-01-01 or later.")]})
    return as_of


@extend_schema(
    tags=["statistics"],
    parameters=[
        OpenApiParameter(
            "as_of", OpenApiTypes.DATE, description="Last day of the week (default: today)."
        ),
        OpenApiParameter("kind", OpenApiTypes.STR, enum=list(ZoneKind.values)),
        OpenApiParameter("escalation", OpenApiTypes.BOOL, description="Only flagged zones."),
    ],
    responses=inline_serializer(
        "ZoneTrends",
        fields={
            "as_of": serializers.DateField(),
            "recent_days": serializers.IntegerField(),
            "baseline_days": serializers.IntegerField(),
            "p_value_below": serializers.FloatField(),
            "min_count": serializers.IntegerField(),
            "results": serializers.ListField(child=Trend),
        },
    ),
)
class ZoneTrendsView(StrictQueryParamsMixin, APIView):
    """Verified incidents per zone in the 7 days to `as_of` against the 28 days before, with the
    escalation flag (Poisson tail below the threshold and a minimum count). Every zone of the
    area fits in one response (a few hundred rows), so the list needs no pages."""

    read_roles = ALL_ROLES
    exact_locations = False
    allowed_query_params = frozenset({"as_of", "kind", "escalation"})

    def get(self, request):
        params = request.query_params
        kind = params.get("kind")
        if kind is not None and kind not in ZoneKind.values:
            raise ValidationError({"kind": [_("One of: %s.") % ", ".join(ZoneKind.values)]})
        only_flagged = params.get("escalation")
        if only_flagged not in (None, "true", "false"):
            raise ValidationError({"escalation": [_("Expected true or false.")]})
        as_of = _as_of(request)
        trends = zone_trends(
            as_of=as_of,
            kinds=[kind] if kind else None,
            grid=not sees_exact_locations(request.user),
        )
        if only_flagged == "true":
            trends = [trend for trend in trends if trend.escalation]
        return Response(
            {
                "as_of": as_of,
                "recent_days": RECENT_DAYS,
                "baseline_days": BASELINE_DAYS,
                "p_value_below": settings.ESCALATION_P_VALUE,
                "min_count": settings.ESCALATION_MIN_COUNT,
                "results": [trend_json(trend, viewer=request.user) for trend in trends],
            }
        )


@extend_schema(
    tags=["statistics"],
    parameters=[OpenApiParameter("as_of", OpenApiTypes.DATE)],
    responses=Trend,
)
class ZoneTrendView(StrictQueryParamsMixin, APIView):
    """One zone's trend (see /api/v1/trends/)."""

    read_roles = ALL_ROLES
    exact_locations = False
    allowed_query_params = frozenset({"as_of"})

    def get(self, request, pcode: str):
        zone = get_object_or_404(Zone, pcode=pcode)
        (trend,) = zone_trends(
            as_of=_as_of(request), zone_ids=[zone.pk], grid=not sees_exact_locations(request.user)
        )
        return Response(trend_json(trend, viewer=request.user))
