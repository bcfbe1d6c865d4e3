"""Query filters of the patrol API; each is documented in the OpenAPI schema."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from patrols.models import Forces, Patrol


def _choices(name: str, value: str, allowed: list[str]) -> list[str]:
    chosen = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in chosen if item not in allowed]
    if unknown or not chosen:
        message = _("Unknown value(s): %(v)s. One of: %(a)s.") % {
            "v": ", ".join(unknown),
            "a": ", ".join(allowed),
        }
        raise ValidationError({name: [message]})
    return chosen


class PatrolFilter(django_filters.FilterSet):
    date_after = django_filters.DateFilter(
        field_name="date", lookup_expr="gte", label="On or after this day (ISO 8601 date)."
    )
    date_before = django_filters.DateFilter(
        field_name="date", lookup_expr="lte", label="On or before this day (ISO 8601 date)."
    )
    status = django_filters.CharFilter(
        method="filter_status",
        label="Statuses, comma-separated: " + ", ".join(Patrol.Status.values) + ".",
    )
    forces = django_filters.CharFilter(
        method="filter_forces",
        label="Forces, comma-separated: " + ", ".join(Forces.values) + ".",
    )

    class Meta:
        model = Patrol
        fields: list[str] = []

    def filter_status(self, queryset, name, value):
        return queryset.filter(status__in=_choices(name, value, Patrol.Status.values))

    def filter_forces(self, queryset, name, value):
        return queryset.filter(forces__in=_choices(name, value, Forces.values))
