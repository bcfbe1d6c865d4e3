"""The daily brief: the day's picture, written once a day by a scheduled job (and again on demand).

The brief is stored as language-neutral data (numbers, codes, names in English and Arabic, and a
headline in each language) with exact locations; pages and the API trim it for the reader's role
and render it in the reader's language.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class DailyBrief(models.Model):
    day = models.DateField(_("day (Damascus time)"), unique=True)
    generated_at = models.DateTimeField(_("written at"))
    data = models.JSONField(_("contents"))

    class Meta:
        verbose_name = _("daily brief")
        verbose_name_plural = _("daily briefs")
        ordering = ["-day"]

    def __str__(self) -> str:
        return self.day.isoformat()
