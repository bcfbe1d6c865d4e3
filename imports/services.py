"""Writes of the imports app: the ACLED import itself, and the jobs that run it.

`acled_import` is the whole pipeline, in one transaction: COPY the file into a temporary staging
table, check every row in one statement, then write the good rows with `INSERT ... SELECT ... ON
CONFLICT (external_id) DO UPDATE` (zones computed by the same SQL as for reports entered by hand,
history rows appended), in slices of the file so progress can be shown. Nothing is written when
anything fails. Importing the same file again changes nothing and reports every row unchanged.
"""

from __future__ import annotations

import datetime
import io
import logging
import os
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import psycopg2
from django.conf import settings
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from imports import acled
from imports.acled import ImportFileError
from imports.models import IMPORT_REVIEW_STATUSES, ImportJob, RejectionReason
from incidents.models import IncidentChange, ReviewStatus
from incidents.services import ZONES_OF_POINTS_PARAMS

logger = logging.getLogger(__name__)

# Rows of a file written per statement: small enough for the progress to move, large enough for
# the per-statement overhead not to count.
SLICE_ROWS = int(getattr(settings, "ACLED_IMPORT_SLICE_ROWS", 25_000))
# Rejected rows listed (in the report, on the job); all of them are counted by reason.
REJECTIONS_KEPT = 10_000
# One import at a time: two imports of overlapping files would otherwise wait on each other's
# rows (or deadlock, writing them in different orders).
IMPORT_LOCK_KEY = 7_305_001
# Jobs hold a session lock (this class, the job id) while they run; a job whose lock is free while
# it says "running" lost its runner (a worker killed mid-way) and may be run again.
JOB_LOCK_CLASS = 7_305
# A job started this many times without finishing is given up (each start rolled back).
JOB_MAX_ATTEMPTS = 3

ProgressCallback = Callable[[int, str], None]


@dataclass(frozen=True)
class Rejection:
    row: int  # as a spreadsheet numbers rows: the header is row 1
    event_id: str
    reason: str
    value: str

    @property
    def message(self) -> str:
        return str(RejectionReason(self.reason).label)


@dataclass
class ImportReport:
    total: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    rejected_by_reason: dict[str, int] = field(default_factory=dict)
    rejections: list[Rejection] = field(default_factory=list)  # the first REJECTIONS_KEPT
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.total / self.seconds if self.seconds else 0.0

    def lines(self, *, listed: int = 20) -> list[str]:
        """The report as the command prints it: counts, rejections by reason, the first rows."""
        lines = [
            _("Rows read: %(n)s") % {"n": f"{self.total:,}"},
            _("Imported (new): %(n)s") % {"n": f"{self.inserted:,}"},
            _("Updated: %(n)s") % {"n": f"{self.updated:,}"},
            _("Unchanged: %(n)s") % {"n": f"{self.unchanged:,}"},
            _("Rejected: %(n)s") % {"n": f"{self.rejected:,}"},
        ]
        for reason, count in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            lines.append(f"  {count:>9,}  {reason}: {RejectionReason(reason).label}")
        if self.rejections and listed:
            shown = self.rejections[:listed]
            lines.append(
                _("Rejected rows (the first %(n)d of %(total)s):")
                % {"n": len(shown), "total": f"{self.rejected:,}"}
            )
            for rejection in shown:
                value = f"  [{rejection.value}]" if rejection.value else ""
                lines.append(
                    _("  row %(row)d  %(id)s  %(reason)s%(value)s")
                    % {
                        "row": rejection.row,
                        "id": rejection.event_id or "-",
                        "reason": rejection.reason,
                        "value": value,
                    }
                )
        lines.append(
            _("%(seconds).1f s, %(rate)s rows a second")
            % {"seconds": self.seconds, "rate": f"{self.rows_per_second:,.0f}"}
        )
        return lines


# --- the import --------------------------------------------------------------------------------

# Where the bar stands after each step, from their share of the time of a large import.
PHASE_READING = 5  # the file is in the staging table
PHASE_CHECKED = 25  # every row is checked; writing fills the rest up to 99


def acled_import(
    source: str | os.PathLike | IO,
    *,
    job: ImportJob | None = None,
    user=None,
    review_status: str = ReviewStatus.VERIFIED,
    progress: ProgressCallback | None = None,
    rejections_csv: IO | None = None,
) -> ImportReport:
    """Import an ACLED CSV file (a path or an open file, binary or text) and report what it did.

    New events become incidents with `review_status`, reported by `user` (or nobody); events
    imported before are updated where the file changed them; rejected rows are counted by reason
    and the first REJECTIONS_KEPT listed (and stored on `job`; all of them written to
    `rejections_csv` if given). Raises ImportFileError when the file cannot be read at all.
    """
    if review_status not in IMPORT_REVIEW_STATUSES:
        raise ValueError(f"an import cannot give incidents the status {review_status!r}")
    started = time.monotonic()
    report = ImportReport()
    tell = _Progress(job=job, callback=progress)
    user_id = user.pk if user is not None and user.is_authenticated else None
    try:
        with _binary_stream(source) as (stream, size):
            header = acled.header_parse(_first_line(stream))
            tell(0, _("Reading the file"))
            with transaction.atomic(), connection.cursor() as cursor:
                _prepare(cursor)
                report.total = _stage(cursor, header, _CountingReader(stream, size, tell))
                tell(PHASE_READING, _("Checking the rows"))
                _check(cursor, header, report, job=job, rejections_csv=rejections_csv)
                tell(PHASE_CHECKED, _("Writing incidents"))
                report.inserted, report.updated = _upsert(
                    cursor, user_id=user_id, review_status=review_status, tell=tell
                )
                report.unchanged = report.total - report.rejected - report.inserted - report.updated
                cursor.execute("DROP TABLE acled_staging, acled_rows")
                _record(job=job, user=user, report=report, review_status=review_status)
            # After the commit, which checks the foreign keys of every new row.
            report.seconds = time.monotonic() - started
            tell.done()
    finally:
        tell.close()
    _kick_followers(report, review_status=review_status)
    return report


def _prepare(cursor) -> None:
    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_KEY])
    # The statements are large but simple: compiling them (JIT) costs seconds per statement and
    # saves less; the sorts and hashes of a whole file fit in memory.
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '64MB'")
    _require_reference_data(cursor)
    # Left over from an earlier import in the same transaction (tests run in one).
    cursor.execute("DROP TABLE IF EXISTS pg_temp.acled_staging, pg_temp.acled_rows")


def _stage(cursor, header: acled.Header, stream: IO) -> int:
    """COPY the file into the staging table, all text; the number of data rows."""
    cursor.execute(acled.staging_create_sql(header))
    _copy(cursor, header, stream)
    cursor.execute(acled.drop_hxl_row_sql(header))
    cursor.execute("SELECT count(*) FROM acled_staging")
    return cursor.fetchone()[0]


def _check(cursor, header, report: ImportReport, *, job, rejections_csv) -> None:
    """Check every row in one statement; count the rejected ones, list and store the first."""
    cursor.execute(
        acled.parse_sql(header),
        acled.parse_params(today=timezone.localdate(), time_zone=settings.TIME_ZONE),
    )
    cursor.execute("CREATE INDEX ON acled_rows (row_no)")
    cursor.execute("ANALYZE acled_rows")
    cursor.execute(
        "SELECT reason, count(*) FROM acled_rows WHERE reason IS NOT NULL GROUP BY reason"
    )
    report.rejected_by_reason = dict(cursor.fetchall())
    report.rejected = sum(report.rejected_by_reason.values())
    cursor.execute(acled.REJECTIONS_SQL, {"limit": REJECTIONS_KEPT})
    report.rejections = [Rejection(*row) for row in cursor.fetchall()]
    if job is not None:
        cursor.execute(acled.REJECTIONS_STORE_SQL, {"job_id": job.pk, "limit": REJECTIONS_KEPT})
    if rejections_csv is not None:
        cursor.copy_expert(acled.REJECTIONS_CSV_SQL, rejections_csv)


def _upsert(cursor, *, user_id: int | None, review_status: str, tell) -> tuple[int, int]:
    cursor.execute("SELECT min(row_no), max(row_no) FROM acled_rows")
    first, last = cursor.fetchone()
    inserted = updated = 0
    if first is None:
        return inserted, updated
    now = timezone.now()
    reviewed = review_status != ReviewStatus.SUBMITTED
    params: dict[str, Any] = {
        **ZONES_OF_POINTS_PARAMS,
        "review_status": review_status,
        "reviewed_at": now if reviewed else None,
        "reviewed_by": user_id if reviewed else None,
        "verified_at": now if review_status == ReviewStatus.VERIFIED else None,
        "user_id": user_id,
        "history_action": IncidentChange.Action.IMPORTED,
    }
    slices = range(first, last + 1, SLICE_ROWS)
    for number, start in enumerate(slices, start=1):
        cursor.execute(
            acled.UPSERT_SQL,
            {**params, "first_row": start, "last_row": start + SLICE_ROWS - 1},
        )
        new, changed = cursor.fetchone()
        inserted += new
        updated += changed
        percent = PHASE_CHECKED + (99 - PHASE_CHECKED) * number // len(slices)
        tell(percent, _("Writing incidents"))
    return inserted, updated


def _require_reference_data(cursor) -> None:
    cursor.execute("SELECT count(*) FROM zones_zone WHERE kind = 'governorate'")
    (governorates,) = cursor.fetchone()
    cursor.execute("SELECT count(*) FROM incidents_subeventtype")
    (sub_types,) = cursor.fetchone()
    if not governorates or not sub_types:
        raise ImportFileError(
            _(
                "The reference data is not loaded (zones and the event taxonomy): run "
                "manage.py load_reference_data first."
            )
        )


_COPY_LINE_RE = re.compile(r"COPY acled_staging, line (\d+)")


def _copy(cursor, header: acled.Header, stream: IO) -> None:
    try:
        cursor.copy_expert(acled.copy_sql(header), stream)
    except (DatabaseError, psycopg2.Error) as exc:  # copy_expert is psycopg2's, not wrapped
        message = str(exc).strip()
        first_line = message.splitlines()[0] if message else ""
        match = _COPY_LINE_RE.search(message)
        if match:
            raise ImportFileError(
                _("Row %(row)d of the file cannot be read as CSV: %(error)s")
                % {"row": int(match.group(1)) + 1, "error": first_line}
            ) from exc
        raise ImportFileError(
            _("The file cannot be read as CSV: %(error)s") % {"error": first_line}
        ) from exc


def _record(*, job: ImportJob | None, user, report: ImportReport, review_status: str) -> None:
    """The job's result and the audit event, in the import's own transaction."""
    from accounts.models import AuditEvent
    from accounts.services import audit_record

    counts = {
        "total": report.total,
        "inserted": report.inserted,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "rejected": report.rejected,
    }
    if job is not None:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE,
            progress=100,
            phase=_("Done"),
            rejected_by_reason=report.rejected_by_reason,
            finished_at=timezone.now(),
            error="",
            **counts,
        )
    audit_record(
        action=AuditEvent.Action.IMPORT,
        user=user,
        object_type="acled_import",
        object_ids=[job.pk] if job is not None else [],
        detail={
            **counts,
            "rejected_by_reason": report.rejected_by_reason,
            "review_status": review_status,
            "file": job.file_name if job is not None else "",
        },
    )


def _kick_followers(report: ImportReport, *, review_status: str) -> None:
    """The statistics outbox was filled by the triggers; ask a worker to drain it (and to run the
    alert rules over newly verified incidents). Beat does both anyway: these only save time."""
    if not (report.inserted or report.updated):
        return
    from stats.scheduling import stats_kick

    stats_kick()
    if review_status == ReviewStatus.VERIFIED:
        from alerts.tasks import evaluate_alerts
        from common.scheduling import send_after_commit

        send_after_commit(evaluate_alerts)


@contextmanager
def _binary_stream(source) -> Iterator[tuple[IO, int | None]]:
    """The source as a readable stream and its size in bytes when known (for the progress)."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        with path.open("rb") as stream:
            yield stream, path.stat().st_size
        return
    size = getattr(source, "size", None)
    if size is None:
        try:
            size = os.fstat(source.fileno()).st_size
        except (AttributeError, OSError, io.UnsupportedOperation):
            size = None
    yield source, size


def _first_line(stream: IO) -> bytes | str:
    line = stream.readline(acled.MAX_HEADER_BYTES)
    if len(line) >= acled.MAX_HEADER_BYTES and not line.endswith(("\n", b"\n")):
        raise ImportFileError(_("This is not a CSV file: its first line does not end."))
    return line


class _CountingReader:
    """Hands COPY the stream and reports how far it has read."""

    def __init__(self, stream: IO, size: int | None, tell: _Progress):
        self.stream = stream
        self.size = size
        self.tell = tell
        self.read_bytes = 0

    def read(self, size: int = -1):
        chunk = self.stream.read(size)
        self.read_bytes += len(chunk)
        if self.size:
            done = min(self.read_bytes / self.size, 1.0)
            self.tell(int(PHASE_READING * done), _("Reading the file"))
        return chunk

    def readline(self, size: int = -1):
        line = self.stream.readline(size)
        self.read_bytes += len(line)
        return line


class _Progress:
    """Reports progress to a callback (the terminal bar) and to the job's row.

    The job's row is written on a second database connection in autocommit, so the admin page
    sees progress while the import's own transaction is still open; those writes wait at most a
    moment for a lock and never fail the import.
    """

    MIN_INTERVAL = 0.5  # seconds between writes to the job's row

    def __init__(self, *, job: ImportJob | None, callback: ProgressCallback | None):
        self.job = job
        self.callback = callback
        self.last = (-1, "")
        self.last_write = 0.0
        self.side_connection = None

    def __call__(self, percent: int, phase: str) -> None:
        if (percent, phase) == self.last:
            return
        new_phase = phase != self.last[1]
        self.last = (percent, phase)
        if self.callback is not None:
            self.callback(percent, phase)
        if self.job is not None:
            now = time.monotonic()
            if new_phase or now - self.last_write >= self.MIN_INTERVAL:
                self.last_write = now
                self._write(percent, phase)

    def _write(self, percent: int, phase: str) -> None:
        try:
            if self.side_connection is None:
                self.side_connection = connections.create_connection("default")
            with self.side_connection.cursor() as cursor:
                cursor.execute("SET lock_timeout = '1s'")
                cursor.execute(
                    "UPDATE imports_importjob SET progress = %s, phase = %s "
                    "WHERE id = %s AND status = %s",
                    [percent, phase[:100], self.job.pk, ImportJob.Status.RUNNING],
                )
        except DatabaseError:
            logger.warning("progress of import job %s not recorded", self.job.pk, exc_info=True)

    def done(self) -> None:
        if self.callback is not None:
            self.callback(100, _("Done"))

    def close(self) -> None:
        if self.side_connection is not None:
            self.side_connection.close()
            self.side_connection = None


# --- jobs --------------------------------------------------------------------------------------


def import_job_create(
    *, file, user, review_status: str = ReviewStatus.VERIFIED, file_name: str = ""
) -> ImportJob:
    """Store an uploaded file as a queued job and ask a worker to run it after commit.

    The send never blocks on Redis (common.scheduling); a job no worker took is run by
    `manage.py run_import_jobs` or the admin's "run now".
    """
    from common.scheduling import send_after_commit
    from imports.tasks import run_import_job

    job = ImportJob(
        created_by=user if user is not None and user.is_authenticated else None,
        review_status=review_status,
        file_name=(file_name or getattr(file, "name", ""))[:255],
        source=ImportJob.Source.UPLOAD,
    )
    job.file.save("upload.csv", file, save=False)
    job.save()
    send_after_commit(run_import_job, job.pk)
    return job


@contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [JOB_LOCK_CLASS, job_id])
        (locked,) = cursor.fetchone()
    try:
        yield locked
    finally:
        if locked:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [JOB_LOCK_CLASS, job_id])


def import_job_run(*, job_id: int) -> ImportJob | None:
    """Run a queued job (or a running one whose runner died); None if it is not to be run here:
    finished, or running elsewhere right now. Safe to call twice, or from two places at once."""
    with _job_lock(job_id) as locked:
        if not locked:
            return None
        job = ImportJob.objects.filter(pk=job_id).first()
        if job is None or job.is_finished:
            return None
        if not job.file:
            # A command-line import whose process died: its file is not ours to read again.
            _job_fail(job, _("The import was interrupted; nothing was stored."))
        elif job.attempts >= JOB_MAX_ATTEMPTS:
            _job_fail(
                job,
                _("Given up after %(n)d runs that did not finish; nothing was stored.")
                % {"n": job.attempts},
            )
        else:
            _job_run_file(job)
        job.refresh_from_db()
        return job


def _job_run_file(job: ImportJob) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        attempts=job.attempts + 1,
        progress=0,
        phase=_("Starting"),
        error="",
    )
    try:
        with job.file.open("rb") as stream:
            acled_import(stream, job=job, user=job.created_by, review_status=job.review_status)
    except ImportFileError as exc:
        _job_fail(job, str(exc))
    except Exception as exc:
        logger.exception("import job %s failed", job.pk)
        error = f"{type(exc).__name__}: {exc}"[:1000]
        _job_fail(job, _("The import failed; nothing was stored. %(error)s") % {"error": error})


def _job_fail(job: ImportJob, error: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.FAILED, error=error, finished_at=timezone.now(), phase=""
    )


def import_jobs_run_waiting(*, waited_minutes: float = 0) -> list[ImportJob]:
    """Run the queued jobs created at least `waited_minutes` ago, and every "running" job whose
    runner died (its lock is free).

    The fallback for when no worker takes the jobs (`manage.py run_import_jobs`, or a periodic
    task); jobs running in a live worker or command are left alone."""
    cutoff = timezone.now() - datetime.timedelta(minutes=waited_minutes)
    waiting = ImportJob.objects.filter(
        Q(status=ImportJob.Status.QUEUED, created_at__lte=cutoff)
        | Q(status=ImportJob.Status.RUNNING)
    ).order_by("created_at", "id")
    done = []
    for job_id in list(waiting.values_list("id", flat=True)):
        job = import_job_run(job_id=job_id)
        if job is not None:
            done.append(job)
    return done


def acled_import_file(
    *,
    path: str | os.PathLike,
    user,
    review_status: str = ReviewStatus.VERIFIED,
    progress: ProgressCallback | None = None,
    rejections_csv: IO | None = None,
) -> tuple[ImportJob, ImportReport]:
    """Import a file from the command line, recorded as a job like an upload (the file itself
    stays where it is). Raises ImportFileError, with the job marked failed."""
    job = ImportJob.objects.create(
        file_name=Path(path).name[:255],
        source=ImportJob.Source.COMMAND,
        created_by=user,
        review_status=review_status,
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        attempts=1,
        phase=_("Starting"),
    )
    with _job_lock(job.pk):
        try:
            report = acled_import(
                path,
                job=job,
                user=user,
                review_status=review_status,
                progress=progress,
                rejections_csv=rejections_csv,
            )
        except BaseException as exc:
            _job_fail(job, str(exc) if isinstance(exc, ImportFileError) else repr(exc)[:1000])
            raise
    job.refresh_from_db()
    return job, report
