import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from monitoring.benchdata import (
    BATCH_ROWS,
    BenchDataError,
    bench_data_generate,
    bench_data_remove,
)


class Command(BaseCommand):
    help = (
        "Add SYNTHETIC benchmark data: N incidents (default 1,000,000) at real localities from "
        "March 2020 to yesterday, skewed to the front line and the M4 corridor and to bursts of "
        "escalation, and joint patrols on the M4 with tracks. Drawn in SQL (seeded), zones "
        "assigned by incident_zones_assign, statistics rebuilt. Meant for a benchmark database "
        "(bench/), not for the one you work in. Needs the reference data."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--incidents", type=int, default=1_000_000)
        parser.add_argument("--patrols", type=int, default=10_000)
        parser.add_argument("--seed", type=int, default=1, help="Random seed (default 1).")
        parser.add_argument(
            "--batch", type=int, default=BATCH_ROWS, help="Incidents per transaction."
        )
        parser.add_argument(
            "--no-stats",
            action="store_true",
            help="Leave the statistics outbox to the worker instead of rebuilding at the end.",
        )
        parser.add_argument(
            "--remove",
            action="store_true",
            help="Only delete the benchmark rows written by this command (demo and real rows "
            "stay), then rebuild the statistics.",
        )

    def handle(
        self,
        *args,
        incidents: int,
        patrols: int,
        seed: int,
        batch: int,
        no_stats: bool,
        remove: bool,
        **options,
    ) -> None:
        if incidents < 0 or patrols < 0 or batch < 1:
            raise CommandError("--incidents and --patrols must be 0 or more, --batch 1 or more.")
        started = time.perf_counter()
        if remove:
            removed = bench_data_remove()
            summary = ", ".join(f"{name} {n}" for name, n in removed.items())
            self.stdout.write(
                f"Removed benchmark data: {summary or 'nothing to remove'} "
                f"({time.perf_counter() - started:.1f} s)."
            )
            return
        self.stdout.write(
            self.style.WARNING(
                "SYNTHETIC BENCHMARK DATA: every row written here is invented (is_synthetic=True, "
                "text marked [SYNTHETIC])."
            )
        )
        try:
            report = bench_data_generate(
                incidents=incidents,
                patrols=patrols,
                seed=seed,
                batch_rows=batch,
                rebuild_stats=not no_stats,
                progress=self._progress,
            )
        except BenchDataError as exc:
            raise CommandError(str(exc)) from exc
        for line in report.lines():
            self.stdout.write(line)
        self.stdout.write(
            self.style.SUCCESS(
                f"Benchmark data written (seed {seed}) in {time.perf_counter() - started:.1f} s."
            )
        )

    def _progress(self, message: str) -> None:
        self.stdout.write(message)
        self.stdout.flush()
