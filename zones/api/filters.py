"""Query filters of the zone and gazetteer API; each is documented in the OpenAPI schema."""

from __future__ import annotations

import django_filters
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework.exceptions import ValidationError

from zones.models import Locality, Zone, ZoneKind
from zones.text import normalize_name

MAX_QUERY_LENGTH = 200
LOCALITY_QUERY_MIN_LENGTH = 2


def _error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _needle(name: str, value: str, *, min_length: int = 1) -> str:
    if len(value) > MAX_QUERY_LENGTH:
        raise _error(name, _("At most %(n)d characters.") % {"n": MAX_QUERY_LENGTH})
    needle = normalize_name(value)
    if len(needle) < min_length:
        message = ngettext(
            "At least %(n)d letter is required.", "At least %(n)d letters are required.", min_length
        )
        raise _error(name, message % {"n": min_length})
    return needle


class ZoneFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(
        choices=ZoneKind.choices,
        label="Kind of zone.",
    )
    parent = django_filters.CharFilter(
        method="filter_parent", label="P-code of the parent zone: only its direct children."
    )
    q = django_filters.CharFilter(
        method="filter_q", label="Text in the English or Arabic name (case and hamza folded)."
    )

    class Meta:
        model = Zone
        fields: list[str] = []

    def filter_parent(self, queryset, name, value):
        parent = Zone.objects.filter(pcode=value.strip()).only("pk").first()
        if parent is None:
            raise _error(name, _("Unknown P-code."))
        return queryset.filter(parent=parent)

    def filter_q(self, queryset, name, value):
        return queryset.search(_needle(name, value))


class LocalityFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_q",
        required=True,
        label=(
            f"Name or part of a name, in Arabic or Latin script (at least "
            f"{LOCALITY_QUERY_MIN_LENGTH} letters). Names that start with it come first."
        ),
    )

    class Meta:
        model = Locality
        fields: list[str] = []

    def filter_q(self, queryset, name, value):
        needle = _needle(name, value, min_length=LOCALITY_QUERY_MIN_LENGTH)
        return queryset.search(needle).starting_first(needle)
