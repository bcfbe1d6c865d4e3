import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.demo import DemoDataError, demo_data_present, demo_data_remove, demo_data_seed


class Command(BaseCommand):
    help = (
        "Fill the database with SYNTHETIC demo data: joint patrols on the M4 from 15 March 2020, "
        "truce-violation reports at real localities in 2020-2021 and monthly camp populations. "
        "The same seed always gives the same data. Earlier synthetic rows are replaced; real rows "
        "are never touched. Needs the reference data (manage.py load_reference_data)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--incidents", type=int, default=3000, help="Number of incidents (default 3000)."
        )
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Delete the existing synthetic rows first. This is always done, so that running "
            "twice never duplicates; the option is kept for scripts that pass it.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing when the database already holds incidents or patrols, real or "
            "synthetic (for set-up scripts that run on every start).",
        )
        parser.add_argument(
            "--remove",
            action="store_true",
            help="Only delete the synthetic rows (incidents, patrols, camp populations).",
        )

    def handle(
        self, *args, seed: int, incidents: int, remove: bool, if_empty: bool, **options
    ) -> None:
        if incidents < 0:
            raise CommandError("--incidents must be 0 or more.")
        if if_empty and not remove and demo_data_present():
            self.stdout.write("Incidents or patrols are already loaded: no demo data written.")
            return
        started = time.monotonic()
        try:
            if remove:
                removed = demo_data_remove()
                summary = ", ".join(f"{name} {n}" for name, n in sorted(removed.items()))
                self.stdout.write(f"Removed synthetic demo data: {summary or 'nothing to remove'}.")
                return
            report = demo_data_seed(seed=seed, incident_count=incidents)
        except DemoDataError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.WARNING(
                "SYNTHETIC DEMO DATA: every row written here is invented (is_synthetic=True, text "
                "marked [SYNTHETIC]). It is not a real report, patrol or population figure."
            )
        )
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"Synthetic demo data written (seed {seed}) in {time.monotonic() - started:.1f} s."
            )
        )
