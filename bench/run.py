"""Run every benchmark figure against the benchmark database and write bench/RESULTS.md.

    .venv/bin/python bench/run.py [--incidents 1000000] [--repeats 3] [--only stats]

`make bench` runs this after the set-up. A figure is a module in bench/ with `NAME`,
`RESULTS_FILE`, `add_arguments(parser)` and `run(data=..., **options) -> list[Figure]`; add it
to FIGURES. Each figure's results also go to its own file (bench/RESULTS-<name>.md).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as bench/run.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness

FIGURES = ["bench.stats_bench"]
RESULTS_FILE = harness.BENCH_DIR / "RESULTS.md"


def main(argv: list[str] | None = None) -> None:
    harness.django_setup()
    modules = [importlib.import_module(name) for name in FIGURES]
    # Figures share option names (--incidents, --repeats, ...): one definition stays.
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], conflict_handler="resolve"
    )
    parser.add_argument("--only", action="append", help="run only this figure (repeatable)")
    for module in modules:
        module.add_arguments(parser)
    args = parser.parse_args(argv)
    chosen = [m for m in modules if not args.only or m.NAME in args.only]

    harness.say(f"Preparing the benchmark database ({harness.database_prepare():.1f} s)")
    data = harness.data_ensure(
        incidents=args.incidents, patrols=getattr(args, "patrols", 0), seed=args.seed
    )
    everything = []
    for module in chosen:
        wanted = inspect.signature(module.run).parameters
        options = {k: v for k, v in vars(args).items() if k in wanted}
        figures = module.run(data=data, **options)
        for figure in figures:
            print()
            print(figure.text())
        intro = module.data_lines(data, args.seed) if hasattr(module, "data_lines") else []
        harness.results_write(
            module.RESULTS_FILE,
            heading=f"Benchmark: {getattr(module, 'TITLE', module.NAME)}",
            figures=figures,
            intro=intro,
        )
        everything += figures
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
        ],
    )
    harness.say(f"\nWritten to {RESULTS_FILE.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
