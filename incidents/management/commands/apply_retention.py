from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from incidents.retention import retention_apply


class Command(BaseCommand):
    help = (
        "Coarsen precise incident locations (to the 0.05 degree grid) and delete photos older "
        "than the retention periods (settings RETENTION_EXACT_LOCATION_DAYS and "
        "RETENTION_PHOTO_DAYS unless given here)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--location-days", type=int, help="Coarsen locations older than this")
        parser.add_argument("--photo-days", type=int, help="Delete photos older than this")
        parser.add_argument("--keep-locations", action="store_true", help="Leave locations")
        parser.add_argument("--keep-photos", action="store_true", help="Leave photos")
        parser.add_argument("--dry-run", action="store_true", help="Count only, change nothing")

    def handle(self, *args, **options):
        location_days = options["location_days"] or settings.RETENTION_EXACT_LOCATION_DAYS
        photo_days = options["photo_days"] or settings.RETENTION_PHOTO_DAYS
        if location_days < 1 or photo_days < 1:
            raise CommandError("Retention periods are whole days, at least 1.")
        result = retention_apply(
            location_days=None if options["keep_locations"] else location_days,
            photo_days=None if options["keep_photos"] else photo_days,
            dry_run=options["dry_run"],
        )
        verb = "would be" if options["dry_run"] else "were"
        self.stdout.write(
            f"{result.locations_coarsened} locations {verb} coarsened "
            f"({result.history_entries_snapped} history entries), "
            f"{result.photos_deleted} photos {verb} deleted."
        )
