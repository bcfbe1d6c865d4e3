"""Withheld counts on pages (stats.privacy): `{{ count|withheld }}` prints a withheld one as
WITHHELD_MARK; `{% withheld_label %}` says it in words."""

from django import template

from stats.privacy import WITHHELD_MARK, withheld_label

register = template.Library()


@register.filter
def withheld(value):
    return WITHHELD_MARK if value is None else value


@register.simple_tag(name="withheld_label")
def withheld_label_tag() -> str:
    return withheld_label()
