"""Thin tasks over imports.services. Running a job twice is safe (the job's lock and status let
one runner through; the import itself is an upsert), so they are acknowledged late."""

from celery import shared_task

from imports.services import import_job_run, import_jobs_run_waiting

# A queued job older than this lost its task (a job is normally taken within seconds).
WAITING_MINUTES = 5
# An import of a large file may outlast the default 15 minute limit.
IMPORT_SOFT_TIME_LIMIT = 55 * 60
IMPORT_TIME_LIMIT = 60 * 60


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def run_import_job(job_id: int) -> str | None:
    job = import_job_run(job_id=job_id)
    return job.status if job is not None else None


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=IMPORT_SOFT_TIME_LIMIT,
    time_limit=IMPORT_TIME_LIMIT,
)
def run_waiting_import_jobs() -> int:
    """For beat: jobs whose task was lost (sent while Redis was down, or a worker killed)."""
    return len(import_jobs_run_waiting(waited_minutes=WAITING_MINUTES))
