import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from briefs.services import brief_build


class Command(BaseCommand):
    help = "Write the daily brief of a day (default: yesterday, Damascus time), or of a range."

    def add_arguments(self, parser):
        parser.add_argument("--day", help="YYYY-MM-DD (default: yesterday)")
        parser.add_argument("--days", type=int, default=1, help="This many days ending on --day")

    def handle(self, *args, day=None, days=1, **options):
        try:
            last = (
                datetime.date.fromisoformat(day)
                if day
                else timezone.localdate() - datetime.timedelta(days=1)
            )
        except ValueError as error:
            raise CommandError(f"--day: {error}") from None
        if days < 1 or days > 3660:
            raise CommandError("--days: between 1 and 3660")
        for offset in range(days - 1, -1, -1):
            brief = brief_build(last - datetime.timedelta(days=offset))
            self.stdout.write(brief.data["headline"]["en"])
