"""Run every benchmark figure against the benchmark database and write bench/RESULTS.md.

    .venv/bin/python bench/run.py [--incidents 1000000] [--repeats 3] [--only stats] [--help]

`make bench` runs this after the set-up. A figure is a module in bench/ with `NAME`,
`RESULTS_FILE`, `add_arguments(parser)` and `run(data=..., **options) -> list[Figure]`; add it
to FIGURES. Each figure's results also go to its own file (bench/RESULTS-<name>.md).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

FIGURES = [
    "bench.geojson_bench",
    "bench.tiles_bench",
    "bench.stats_bench",
    "bench.import_bench",
    "bench.submit_bench",
]
RESULTS_FILE = harness.BENCH_DIR / "RESULTS.md"


def main(argv: list[str] | None = None) -> None:
    harness.django_setup()
    modules = [importlib.import_module(name) for name in FIGURES]
    # Figures share option names (--incidents, --repeats, ...): one definition stays.
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], conflict_handler="resolve"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=[m.NAME for m in modules],
        help="run only this figure (repeatable)",
    )
    for module in modules:
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    chosen = [m for m in modules if not args.only or m.NAME in args.only]

    harness.say(f"Preparing the benchmark database ({harness.database_prepare():.1f} s)")
    data = harness.data_ensure(
        incidents=args.incidents, patrols=getattr(args, "patrols", 0), seed=args.seed
    )
    fresh: dict[str, list[harness.Figure]] = {}
    for module in chosen:
        figures = harness.figure_run(module, data=data, options=vars(args))
        for figure in figures:
            print()
            print(figure.text())
        lines = getattr(module, "data_lines", harness.data_lines)
        harness.results_write(
            module.RESULTS_FILE,
            heading=f"Benchmark: {getattr(module, 'TITLE', module.NAME)}",
            figures=figures,
            intro=lines(data, args.seed),
        )
        fresh[module.NAME] = figures
    # Every figure, in FIGURES order: this run's, and the last measured of the others (with
    # their date), so that `--only` never drops a figure from the summary.
    everything: list[harness.Figure | str] = []
    for module in modules:
        if module.NAME in fresh:
            everything += fresh[module.NAME]
        else:
            earlier = harness.results_earlier(module.RESULTS_FILE)
            everything.append(earlier or f"_{module.NAME}: not measured yet._")
    harness.results_write(
        RESULTS_FILE,
        heading="Benchmarks",
        figures=everything,
        intro=[
            f"Data: {data.incidents:,} incidents, {data.patrols:,} patrols (synthetic, "
            f"manage.py generate_bench_data, seed {args.seed})",
            *(
                [f"Generated in this run in {data.generation_seconds:.0f} s"]
                if data.generated_incidents or data.generated_patrols
                else []
            ),
            "Measured in this run: "
            + ", ".join(fresh)
            + ("; the others as last measured (dated)" if len(fresh) < len(modules) else ""),
        ],
    )
    harness.say(f"\nWritten to {RESULTS_FILE.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
