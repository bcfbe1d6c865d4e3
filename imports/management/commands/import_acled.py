"""manage.py import_acled FILE.csv: import ACLED events, with a progress bar and a report."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from imports.acled import ImportFileError
from imports.models import IMPORT_REVIEW_STATUSES
from imports.progress import TerminalProgress
from imports.services import acled_import_file
from incidents.models import ReviewStatus


class Command(BaseCommand):
    help = (
        "Import an ACLED CSV file (ACLED's column names, any order, extra columns ignored). "
        "Events are matched on event_id_cnty: importing the same file again updates what changed "
        "and never duplicates. Rejected rows are reported with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="the ACLED CSV file (UTF-8)")
        parser.add_argument(
            "--user", help="username recorded as the reporter and in the history (default: none)"
        )
        parser.add_argument(
            "--status",
            default=ReviewStatus.VERIFIED.value,
            choices=[status.value for status in IMPORT_REVIEW_STATUSES],
            help="review status of new incidents (default: verified; ACLED data is curated)",
        )
        parser.add_argument(
            "--show",
            type=int,
            default=20,
            metavar="N",
            help="list the first N rejected rows (default 20; the report counts all of them)",
        )
        parser.add_argument(
            "--rejected-csv", metavar="PATH", help="write every rejected row, with its reason, here"
        )

    def handle(self, *args, **options):
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"No user {options['user']!r}.") from exc
        bar = TerminalProgress(self.stderr._out)
        rejected_csv = None
        try:
            if options["rejected_csv"]:
                rejected_csv = open(options["rejected_csv"], "w", encoding="utf-8", newline="")  # noqa: SIM115
            job, report = acled_import_file(
                path=options["file"],
                user=user,
                review_status=options["status"],
                progress=bar,
                rejections_csv=rejected_csv,
            )
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {options['file']}") from exc
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            bar.close()
            if rejected_csv is not None:
                rejected_csv.close()
        for line in report.lines(listed=options["show"]):
            self.stdout.write(line)
        if options["rejected_csv"] and report.rejected:
            self.stdout.write(f"Rejected rows written to {options['rejected_csv']}")
        self.stdout.write(self.style.SUCCESS(f"Import {job.pk} done."))
