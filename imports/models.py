"""Bulk imports of incidents from other datasets (ACLED): the job, its progress, its rejected rows.

A job is the record of one import, whoever started it (an upload in the admin, run by a worker;
`manage.py import_acled`). The uploaded file is kept with the job so a failed run can be repeated.
"""

from __future__ import annotations

import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from incidents.dates import EARLIEST_OCCURRED_DATE
from incidents.models import ReviewStatus

# The review statuses an import may give the incidents it creates (ACLED data is curated, so
# verified by default; rejected or duplicate would make no sense for a whole file).
IMPORT_REVIEW_STATUSES = (ReviewStatus.VERIFIED, ReviewStatus.UNDER_REVIEW, ReviewStatus.SUBMITTED)


class RejectionReason(models.TextChoices):
    """Why a row of an imported file was not imported: a stable code and a message for people."""

    MISSING_ID = "missing_id", _("event_id_cnty is empty")
    ID_TOO_LONG = "id_too_long", _("event_id_cnty is longer than 64 characters")
    DUPLICATE_ID = (
        "duplicate_id",
        _("event_id_cnty appears again further down the file (the last row is imported)"),
    )
    BAD_DATE = "bad_date", _("event_date is not a date (2020-03-06 or 06 March 2020)")
    EARLY_DATE = (
        "early_date",
        format_lazy(
            _("event_date is before {date}, the start of the conflict"),
            date=EARLIEST_OCCURRED_DATE.isoformat(),
        ),
    )
    FUTURE_DATE = (
        "future_date",
        _("event_date is in the future (or after the event was first imported)"),
    )
    BAD_COORDINATES = (
        "bad_coordinates",
        _("latitude or longitude is missing, not a number or out of range"),
    )
    OUTSIDE_AREA = (
        "outside_area",
        _(
            "the place is outside the monitored area (Aleppo, Hama, Idleb and Lattakia); "
            "check that latitude and longitude are not swapped"
        ),
    )
    UNKNOWN_EVENT_TYPE = "unknown_event_type", _("event_type is not an ACLED event type")
    UNKNOWN_SUB_EVENT_TYPE = (
        "unknown_sub_event_type",
        _("sub_event_type is not an ACLED sub-event type of this event type"),
    )
    BAD_FATALITIES = "bad_fatalities", _("fatalities is not a whole number of at least 0")
    BAD_PRECISION = "bad_precision", _("time_precision or geo_precision is not 1, 2 or 3")
    LOCAL_REPORT = (
        "local_report",
        _(
            "an incident recorded here already carries this event (one of this monitor's own "
            "reports, exported from here): edit it here rather than import it"
        ),
    )
    DELETED = "deleted", _("this event was deleted here; it is not imported again")


class ImportJobQuerySet(models.QuerySet):
    def queued(self) -> ImportJobQuerySet:
        return self.filter(status=ImportJob.Status.QUEUED)

    def waiting_longer_than(self, minutes: float) -> ImportJobQuerySet:
        """Queued jobs no worker has started within `minutes`: the worker or the broker is down."""
        cutoff = timezone.now() - datetime.timedelta(minutes=minutes)
        return self.queued().filter(created_at__lt=cutoff)


def upload_path(instance: ImportJob, filename: str) -> str:
    # The stored name is ours; the uploader's file name is kept in `file_name` for display.
    return f"imports/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.csv"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Source(models.TextChoices):
        UPLOAD = "upload", _("Uploaded in the administration")
        COMMAND = "command", _("manage.py import_acled")

    file = models.FileField(_("file"), upload_to=upload_path, blank=True)
    file_name = models.CharField(_("file name"), max_length=255, blank=True)
    source = models.CharField(
        _("started from"), max_length=16, choices=Source.choices, default=Source.UPLOAD
    )
    review_status = models.CharField(
        _("review status of imported incidents"),
        max_length=16,
        choices=[(status.value, status.label) for status in IMPORT_REVIEW_STATUSES],
        default=ReviewStatus.VERIFIED,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED, db_index=True
    )
    progress = models.PositiveSmallIntegerField(_("progress (%)"), default=0)
    phase = models.CharField(_("step"), max_length=100, blank=True)
    total = models.PositiveIntegerField(_("rows read"), default=0)
    inserted = models.PositiveIntegerField(_("imported (new)"), default=0)
    updated = models.PositiveIntegerField(_("updated"), default=0)
    unchanged = models.PositiveIntegerField(_("unchanged"), default=0)
    rejected = models.PositiveIntegerField(_("rejected"), default=0)
    # {reason code: number of rows}, for every rejected row (the rows listed are capped).
    rejected_by_reason = models.JSONField(_("rejected rows by reason"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)
    attempts = models.PositiveSmallIntegerField(_("runs started"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("started by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    started_at = models.DateTimeField(_("started"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)

    objects = ImportJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("ACLED import")
        verbose_name_plural = _("ACLED imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name or self.file.name} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def duration(self) -> datetime.timedelta | None:
        if self.started_at and self.finished_at:
            return self.finished_at - self.started_at
        return None


class ImportRejection(models.Model):
    """A row of an imported file that was not imported, and why (the first rows of each job are
    kept, up to imports.acled.REJECTIONS_KEPT; the job counts them all)."""

    job = models.ForeignKey(
        ImportJob, verbose_name=_("import"), on_delete=models.CASCADE, related_name="rejections"
    )
    row_number = models.PositiveIntegerField(
        _("row"), help_text=_("As a spreadsheet numbers it: the header is row 1.")
    )
    event_id = models.CharField(_("event_id_cnty"), max_length=100, blank=True)
    reason = models.CharField(_("reason"), max_length=32, choices=RejectionReason.choices)
    value = models.CharField(_("value"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("rejected row")
        verbose_name_plural = _("rejected rows")
        ordering = ["job", "row_number"]
        indexes = [models.Index(fields=["job", "row_number"], name="import_rejection_row")]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.get_reason_display()}"
