"""manage.py run_import_jobs: run the uploaded imports no worker has taken (the fallback for a
worker or broker that is down)."""

from django.core.management.base import BaseCommand

from imports.services import import_jobs_run_waiting


class Command(BaseCommand):
    help = (
        "Run queued ACLED imports (uploaded in the admin) here and now, and any whose worker died "
        "mid-way. Imports running in a live worker are left alone."
    )

    def handle(self, *args, **options):
        jobs = import_jobs_run_waiting()
        for job in jobs:
            self.stdout.write(
                f"Import {job.pk} ({job.file_name}): {job.get_status_display()}; "
                f"new {job.inserted}, updated {job.updated}, unchanged {job.unchanged}, "
                f"rejected {job.rejected}" + (f"; {job.error}" if job.error else "")
            )
        self.stdout.write(f"{len(jobs)} import(s) run.")
