from django.core.management.base import BaseCommand

from monitoring.reference import iter_report, load_reference_data


class Command(BaseCommand):
    help = (
        "Load the NW Syria reference data (admin zones, M4 route and corridor, observation "
        "posts, camp clusters, the locality gazetteer) from fixtures/reference/. Safe to run "
        "again: unchanged rows are left alone."
    )

    def handle(self, *args, **options):
        report = load_reference_data()
        for line in iter_report(report):
            self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS("Reference data loaded."))
