"""Incident statistics per zone and day (by the exact point's zones, and by the grid point's for
readers outside the staff), and the outbox of (zone, day) buckets still to recompute.

The outbox is filled by PostgreSQL triggers on the incidents table (stats/migrations/0002), so no
write path (API, form, admin, import, raw SQL) can forget it; Celery tasks drain it. A lost task or
a broker outage delays the numbers, never breaks them.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ZoneDayStat(models.Model):
    # Derived rows, rebuilt wholesale: no foreign-key constraint in the database (checking two
    # per row was a third of a full rebuild); deleting a zone still deletes them (ORM cascade).
    zone = models.ForeignKey(
        "zones.Zone",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField(_("day (Damascus time)"))
    sub_event_type = models.ForeignKey(
        "incidents.SubEventType",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    review_status = models.CharField(_("review status"), max_length=16)
    incidents = models.PositiveIntegerField(_("incidents"))
    killed = models.PositiveIntegerField(_("killed"))
    injured = models.PositiveIntegerField(_("injured"))

    class Meta:
        verbose_name = _("zone statistic")
        verbose_name_plural = _("zone statistics")
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "day", "sub_event_type", "review_status"],
                name="zonedaystat_bucket",
            )
        ]
        # No separate (zone, day) index: the unique constraint's index starts with those columns.

    def __str__(self) -> str:
        return f"{self.zone_id} {self.day} {self.sub_event_type_id} {self.review_status}"


class ZoneDayGridStat(models.Model):
    """Verified incidents per zone, day and sub-event type, counted by the zones of each
    incident's grid point: what readers who may not see exact locations get (PRODUCT.md,
    "Do no harm" 6; incidents.disclosure). Counting them by the exact point's zones would tell,
    day by day, which side of a boundary a grid cell's incident lies."""

    zone = models.ForeignKey(
        "zones.Zone",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    day = models.DateField(_("day (Damascus time)"))
    sub_event_type = models.ForeignKey(
        "incidents.SubEventType",
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    incidents = models.PositiveIntegerField(_("incidents"))
    killed = models.PositiveIntegerField(_("killed"))
    injured = models.PositiveIntegerField(_("injured"))

    class Meta:
        verbose_name = _("zone statistic on the grid")
        verbose_name_plural = _("zone statistics on the grid")
        constraints = [
            models.UniqueConstraint(
                fields=["zone", "day", "sub_event_type"], name="zonedaygridstat_bucket"
            )
        ]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.day} {self.sub_event_type_id} (grid)"


def zone_day_stats(*, grid: bool):
    """The statistics a reader gets: on the grid (verified incidents only) or exact."""
    return ZoneDayGridStat.objects.all() if grid else ZoneDayStat.objects.all()


class StatsOutbox(models.Model):
    """A (zone, day) whose statistics must be recomputed; rows are deleted once done."""

    zone_id = models.BigIntegerField()
    day = models.DateField()
    queued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("statistics outbox entry")
        verbose_name_plural = _("statistics outbox")
        indexes = [models.Index(fields=["zone_id", "day"], name="statsoutbox_bucket")]

    def __str__(self) -> str:
        return f"{self.zone_id} {self.day}"
