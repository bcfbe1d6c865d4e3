"""Run the reliability battery against the whole application and print one table of figures.

    .venv/bin/python -m reliability.run [--quick] [--only NAME] [--skip NAME] [--seed N]

`make reliability` runs the full battery (about 4 minutes on 2 cores); `--quick` a smaller one
(about 1 minute; PostgreSQL's sessions are terminated instead of the server being restarted).
The battery makes its own database (`ceasefire_reliability`, or RELIABILITY_DATABASE_URL), starts
a private Redis and the Procfile's processes (gunicorn, Celery worker, beat) on it, and writes
the table, with the machine it ran on, to reliability/RESULTS.md (--quick only prints it).
The exit status is 1 when any goal is missed.

The full battery restarts the PostgreSQL cluster of DATABASE_URL (fast, then immediate; as root,
or through `sudo -n`): every session on that server is cut, so do not run it where others use the
same server (`--skip postgres_restart`, or `--quick`, leave the server alone).
"""

from __future__ import annotations

import argparse
import importlib
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from reliability.figures import Row, failure_details, info, machine_lines, markdown

HERE = Path(__file__).resolve().parent
SCENARIOS = (
    "load",
    "race",
    "bad_input",
    "access",
    "security",
    "redis_outage",
    "worker_kill",
    "postgres_restart",
)
# Sizes of the full battery are each scenario's defaults; --quick uses these.
QUICK = {
    "load": {"submissions": 200, "concurrency": 8},
    "race": {"uuids": 30},
    "bad_input": {},
    "access": {"probe_span": 3},
    "security": {},
    "redis_outage": {"submissions": 150},
    "worker_kill": {},
    "postgres_restart": {"submissions": 120, "modes": ("terminate",)},
}


def say(message: str) -> None:
    print(message, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="the smaller, CI-sized battery")
    parser.add_argument("--only", action="append", choices=SCENARIOS, help="run only these")
    parser.add_argument("--skip", action="append", choices=SCENARIOS, default=[])
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--results", type=Path, help="where to write the table (Markdown)")
    args = parser.parse_args(argv)
    chosen = [s for s in SCENARIOS if (not args.only or s in args.only) and s not in args.skip]
    # The quick battery only prints, unless told where to write.
    results = args.results or (None if args.quick else HERE / "RESULTS.md")

    from reliability.processes import PrivateRedis

    redis = PrivateRedis()
    redis.start()
    from reliability.database import database_recreate, django_setup

    database_url = django_setup(redis_url=redis.url)
    from django.conf import settings

    media_root = settings.MEDIA_ROOT
    log_dir = Path(tempfile.mkdtemp(prefix="ceasefire-reliability-logs-"))
    say(f"Database {settings.DATABASES['default']['NAME']}: made in {database_recreate():.1f} s")

    from reliability.context import Context
    from reliability.stack import ReliabilityStack
    from reliability.world import world_make

    stack = ReliabilityStack(log_dir=log_dir, redis_url=redis.url, database_url=database_url)
    rows: list[Row] = []
    started = time.monotonic()
    try:
        stack.start()
        say(f"Stack at {stack.base_url} (log: {stack.log_path}); Redis at {redis.url}")
        world = world_make(stack.base_url)
        context = Context(
            stack=stack, redis=redis, world=world, seed=args.seed, database_url=database_url
        )
        for name in chosen:
            say(f"\n== {name}")
            module = importlib.import_module(f"reliability.{name}")
            options = QUICK[name] if args.quick else {}
            began = time.monotonic()
            try:
                new = module.run(context, **options)
            except Exception as exc:
                traceback.print_exc()
                new = [Row(name, "scenario ran to its end", repr(exc)[:200], "yes", False)]
            new.append(info(name, "time taken", f"{time.monotonic() - began:.0f} s"))
            for row in new:
                say(f"  {row.name}: {row.value} [{row.result}]")
            rows += new
    finally:
        stack.stop()
        redis.stop()
        shutil.rmtree(media_root, ignore_errors=True)
    elapsed = time.monotonic() - started
    machine = machine_lines()
    table = markdown(rows)
    failed = failure_details(rows)
    say("\n" + table)
    if failed:
        say("\nGoals missed:\n" + "\n".join(failed))
    say(f"\n{len(rows)} figures in {elapsed / 60:.1f} min; stack log kept in {log_dir}")
    heading = "Reliability battery" + (" (quick)" if args.quick else "")
    lines = [
        f"# {heading}",
        "",
        "Written by `.venv/bin/python -m reliability.run"
        + (" --quick" if args.quick else "")
        + "` (`make reliability`); do not edit by hand.",
        "",
        *[f"- {line}" for line in machine],
        f"- Scenarios: {', '.join(chosen)}; {elapsed / 60:.1f} min in all",
        "",
        table,
        "",
    ]
    if failed:
        lines += ["## Goals missed", "", *failed, ""]
    if results is not None:
        results.write_text("\n".join(lines))
        say(f"Written to {results}")
    return 1 if any(row.ok is False for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
