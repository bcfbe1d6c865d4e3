"""What every benchmark figure shares: its own database, the data in it, timing, the results file.

Figures never run against the database you work in: the benchmark database is named by
BENCH_DATABASE_URL, or is DATABASE_URL's server with the database `ceasefire_bench`.
"""

from __future__ import annotations

import argparse
import datetime
import inspect
import io
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
BENCH_DATABASE = "ceasefire_bench"
DEFAULT_DATABASE_URL = "postgis://postgres@127.0.0.1:5432/ceasefire_monitor"
BENCH_REDIS_DB = 10  # the app uses 0 and the tests 15 by default; BENCH_REDIS_URL to choose
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
DEFAULT_INCIDENTS = 1_000_000
DEFAULT_PATROLS = 10_000


def say(message: str) -> None:
    print(message, flush=True)


# --- the database ------------------------------------------------------------------------------


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, or DATABASE_URL (or its default) with the database `ceasefire_bench`."""
    explicit = os.environ.get("BENCH_DATABASE_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    return urlunsplit(parts._replace(path="/" + BENCH_DATABASE))


def bench_redis_url() -> str:
    """BENCH_REDIS_URL, or REDIS_URL (or its default) with the database number BENCH_REDIS_DB:
    the Celery messages the benchmark's writes send (which no worker reads here) and the web
    server's throttle counters stay out of the app's Redis database."""
    explicit = os.environ.get("BENCH_REDIS_URL")
    if explicit:
        return explicit
    parts = urlsplit(os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    return urlunsplit(parts._replace(path=f"/{BENCH_REDIS_DB}"))


def bench_redis_clear(url: str | None = None) -> int:
    """Remove what the benchmark's writes left in its Redis database: the Celery messages no
    worker reads here (and kombu's bindings) and the throttle's counters. Returns the keys."""
    import redis

    client = redis.Redis.from_url(url or bench_redis_url(), socket_timeout=2)
    db = client.connection_pool.connection_kwargs.get("db", 0)
    me = client.client_id()
    if any(int(c.get("db", -1)) == db and int(c["id"]) != me for c in client.client_list()):
        say(f"Redis database {db} is in use by another client: left as it is")
        return 0
    keys = [
        key
        for pattern in ("celery", "_kombu.*", "unacked*", "throttle:*")
        for key in client.scan_iter(match=pattern, count=1000)
    ]
    if keys:
        client.delete(*keys)
    return len(keys)


_configured: str | None = None


def django_setup() -> str:
    """Point Django at the benchmark database, before any setting is read. Returns its URL."""
    global _configured
    if _configured is not None:
        return _configured
    url = bench_database_url()
    working = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    if urlsplit(url)._replace(scheme="") == working._replace(scheme=""):
        sys.exit(
            f"The benchmark would write a million rows into {working.path.lstrip('/')!r}, the "
            "database in DATABASE_URL: set BENCH_DATABASE_URL to a database of its own."
        )
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DATABASE_URL"] = url
    os.environ["REDIS_URL"] = bench_redis_url()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring.settings.local")
    os.environ.setdefault("DEBUG", "0")  # DEBUG would keep every query in memory
    os.environ.setdefault("DB_STATEMENT_TIMEOUT_MS", "0")  # full rebuilds run for seconds
    import django

    django.setup()
    _configured = url
    return url


def database_prepare() -> float:
    """Create the database with PostGIS, migrate, load the reference data (the project's own
    commands; each does only what is left to do). Returns the seconds taken."""
    from django.core.management import call_command

    started = time.perf_counter()
    out = io.StringIO()
    call_command("ensure_database", stdout=out)
    call_command("migrate", interactive=False, verbosity=0, stdout=out)
    call_command("load_reference_data", stdout=out)
    return time.perf_counter() - started


@dataclass
class DataState:
    incidents: int
    patrols: int
    generated_incidents: int = 0
    generated_patrols: int = 0
    generation_seconds: float = 0.0
    generation_lines: list[str] = field(default_factory=list)


def data_ensure(*, incidents: int, patrols: int, seed: int) -> DataState:
    """At least `incidents` live incidents and `patrols` benchmark patrols: the shortfall is
    generated (monitoring.benchdata), more than asked for is used as it is."""
    from incidents.models import Incident
    from monitoring.benchdata import bench_data_generate, bench_patrol_count

    have_incidents = Incident.objects.count()
    have_patrols = bench_patrol_count()
    state = DataState(incidents=have_incidents, patrols=have_patrols)
    missing_incidents = max(0, incidents - have_incidents)
    missing_patrols = max(0, patrols - have_patrols)
    if not missing_incidents and not missing_patrols:
        return state
    say(
        f"Generating {missing_incidents:,} incidents and {missing_patrols:,} patrols "
        f"({have_incidents:,} and {have_patrols:,} present)"
    )
    started = time.perf_counter()
    # A top-up draws other rows than the first fill: the seed moves with what is there.
    report = bench_data_generate(
        incidents=missing_incidents,
        patrols=missing_patrols,
        seed=seed + have_incidents,
        progress=lambda message: say(f"  {message}"),
    )
    state.generation_seconds = time.perf_counter() - started
    state.generation_lines = report.lines()
    state.generated_incidents = report.incidents
    state.generated_patrols = sum(report.patrols.values())
    state.incidents = Incident.objects.count()
    state.patrols = bench_patrol_count()
    for line in state.generation_lines:
        say(f"  {line}")
    return state


# --- timing ------------------------------------------------------------------------------------


def interleaved(
    cases: Sequence[tuple[str, Callable[[], object]]],
    *,
    repeats: int,
    warmup: int = 0,
    before_each: Callable[[], object] | None = None,
) -> dict[str, list[float]]:
    """Time each case `repeats` times, alternating the order (A B, B A, ...) so that drift and
    noise (caches, autovacuum, other processes) hit every side alike. `before_each` runs untimed."""
    samples: dict[str, list[float]] = {name: [] for name, _ in cases}
    for run in range(warmup + repeats):
        order = list(cases) if run % 2 == 0 else list(reversed(cases))
        for name, work in order:
            if before_each is not None:
                before_each()
            started = time.perf_counter()
            work()
            elapsed = time.perf_counter() - started
            if run >= warmup:
                samples[name].append(elapsed)
    return samples


def server_setting(name: str) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s)", [name])
        return cursor.fetchone()[0]


@contextmanager
def jit(mode: str) -> Iterator[None]:
    """Run with the server's JIT setting ("server") or with JIT off for this session ("off")."""
    if mode == "server":
        yield
        return
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET jit")


def load_note(before: float) -> str:
    """The machine's load while a figure ran (other jobs share its cores): the noise to expect."""
    return (
        f"Load average (1 min) when the figure started {before:.2f}, when it ended "
        f"{os.getloadavg()[0]:.2f}, on {os.cpu_count()} cores shared with other jobs."
    )


@contextmanager
def database_setting(name: str, value: str | None) -> Iterator[None]:
    """Every new session of the benchmark database with `name` = `value` (ALTER DATABASE ... SET),
    for a web server started inside: its sessions are its own, a SET from here cannot reach them.
    Reset on the way out, and on the way in (a run cut short leaves nothing behind). None: the
    server's setting."""
    from django.db import connection

    assert name.replace("_", "").isalpha()  # a setting's name, formatted into the statement
    database = connection.ops.quote_name(connection.settings_dict["NAME"])
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER DATABASE {database} RESET {name}")
        if value is not None:
            cursor.execute(f"ALTER DATABASE {database} SET {name} = %s", [value])
    try:
        yield
    finally:
        connection_renew()
        with connection.cursor() as cursor:
            cursor.execute(f"ALTER DATABASE {database} RESET {name}")


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def percentile(values: Sequence[float], percent: float) -> float:
    """The `percent`th percentile, interpolated between the closest ranks (as numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    position = (len(ordered) - 1) * percent / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def ratio(numerator: float, denominator: float) -> str:
    return f"{numerator / denominator:.1f}x" if denominator > 0 else "n/a"


# --- results -----------------------------------------------------------------------------------


@dataclass
class Figure:
    title: str
    columns: list[str]
    rows: list[list[str]]
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        widths = [
            max(len(str(cell)) for cell in column)
            for column in zip(self.columns, *self.rows, strict=True)
        ]

        def line(cells: Sequence[str]) -> str:
            return "  ".join(
                str(cell).ljust(width) for cell, width in zip(cells, widths, strict=True)
            )

        out = [self.title, line(self.columns), line(["-" * w for w in widths])]
        out += [line(row) for row in self.rows]
        out += [f"  {note}" for note in self.notes]
        return "\n".join(out)

    def markdown(self) -> str:
        out = [f"### {self.title}", ""]
        out.append("| " + " | ".join(self.columns) + " |")
        out.append("|" + "---|" * len(self.columns))
        out += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in self.rows]
        if self.notes:
            out.append("")
            out += [f"- {note}" for note in self.notes]
        return "\n".join(out)


def machine_lines() -> list[str]:
    """The machine and server the figures were measured on."""
    from django.db import connection

    cpu = platform.processor() or "unknown"
    try:
        for row in Path("/proc/cpuinfo").read_text().splitlines():
            if row.startswith("model name"):
                cpu = row.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for row in Path("/proc/meminfo").read_text().splitlines():
            if row.startswith("MemTotal"):
                ram = f"{int(row.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_database(), version(), postgis_lib_version(), postgis_geos_version(),"
            " current_setting('shared_buffers'), current_setting('work_mem'),"
            " current_setting('jit'), current_setting('max_parallel_workers_per_gather'),"
            " current_setting('synchronous_commit'), current_setting('autovacuum')"
        )
        (database, version, postgis, geos, shared_buffers, work_mem, jit, parallel, sync, auto) = (
            cursor.fetchone()
        )
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    return [
        f"Date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"CPU: {cpu}, {os.cpu_count()} cores; RAM {ram}; load average when written {load} "
        "(the machine is shared with other jobs)",
        f"PostgreSQL: {version.split(' on ')[0]}; PostGIS {postgis} (GEOS {geos})",
        f"Server settings: shared_buffers {shared_buffers}, work_mem {work_mem}, jit {jit}, "
        f"max_parallel_workers_per_gather {parallel}, synchronous_commit {sync}, "
        f"autovacuum {auto}",
        f"Database: {database}; Python {platform.python_version()}",
    ]


ATTEMPTS = 3


def figure_run(module, *, data: DataState, options: dict) -> list[Figure]:
    """Run a figure; again (up to ATTEMPTS times) when PostgreSQL restarted meanwhile, whether
    the figure failed on it or not: its sessions were cut and its caches emptied, so the numbers
    are not comparable. (The machine is shared; other people's tests restart the server.)"""
    wanted = inspect.signature(module.run).parameters
    arguments = {k: v for k, v in options.items() if k in wanted}
    for attempt in range(1, ATTEMPTS + 1):
        started = database_started_at()
        try:
            figures = module.run(data=data, **arguments)
        except Exception as exc:
            if attempt == ATTEMPTS or database_started_at() == started:
                raise
            say(f"{module.NAME}: PostgreSQL restarted during the figure ({type(exc).__name__})")
        else:
            if database_started_at() == started:
                return figures
            say(f"{module.NAME}: PostgreSQL restarted during the figure")
            if attempt == ATTEMPTS:
                for figure in figures:
                    figure.notes.append("PostgreSQL restarted during this figure: noisy.")
                return figures
        say(f"{module.NAME}: running it again (attempt {attempt + 1} of {ATTEMPTS})")
    raise AssertionError("unreachable")


def connection_renew() -> None:
    """Close Django's connection when it is dead (PostgreSQL restarted), outside a transaction:
    the next query opens a new one."""
    from django.db import connection

    live = connection.connection is not None and not connection.in_atomic_block
    if live and not connection.is_usable():
        connection.close()


def database_started_at(wait: float = 180) -> datetime.datetime:
    """When PostgreSQL started (pg_postmaster_start_time); waits while it is restarting."""
    from django.db import OperationalError, connection

    deadline = time.monotonic() + wait
    while True:
        try:
            connection_renew()
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_postmaster_start_time()")
                return cursor.fetchone()[0]
        except OperationalError:
            if time.monotonic() > deadline:
                raise
            connection.close()
            time.sleep(2)


def figure_main(module, argv: list[str] | None = None) -> None:
    """`python bench/<figure>.py`: prepare the database, run one figure, print and write it."""
    parser = argparse.ArgumentParser(description=(module.__doc__ or "").splitlines()[0])
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    django_setup()
    say(f"Preparing the benchmark database ({database_prepare():.1f} s)")
    data = data_ensure(
        incidents=args.incidents, patrols=getattr(args, "patrols", 0), seed=args.seed
    )
    figures = figure_run(module, data=data, options=vars(args))
    for figure in figures:
        print()
        print(figure.text())
    results_write(
        module.RESULTS_FILE,
        heading=f"Benchmark: {getattr(module, 'TITLE', module.NAME)}",
        figures=figures,
        intro=data_lines(data, args.seed),
    )
    say(f"\nWritten to {module.RESULTS_FILE.relative_to(ROOT)}")


def data_lines(data: DataState, seed: int) -> list[str]:
    lines = [
        f"Data: {data.incidents:,} incidents and {data.patrols:,} patrols, synthetic "
        f"(manage.py generate_bench_data, seed {seed})"
    ]
    if data.generated_incidents or data.generated_patrols:
        lines.append(
            f"Generated in this run: {data.generated_incidents:,} incidents and "
            f"{data.generated_patrols:,} patrols in {data.generation_seconds:.0f} s "
            "(zones, VACUUM ANALYZE and a statistics rebuild included)"
        )
    return lines


def results_write(
    path: Path, *, heading: str, figures: Sequence[Figure | str], intro: Sequence[str] = ()
) -> None:
    """The heading, the machine, the intro's lines, then each figure (or Markdown text)."""
    out = [f"# {heading}", ""]
    out += [f"- {line}" for line in machine_lines()]
    out += [f"- {line}" for line in intro]
    for figure in figures:
        out += ["", figure if isinstance(figure, str) else figure.markdown()]
    path.write_text("\n".join(out) + "\n")


def results_earlier(path: Path) -> str | None:
    """A figure file's figures, as Markdown, with the date and machine it was measured on (for
    bench/RESULTS.md when a run measures only some figures); None when there is none."""
    if not path.exists():
        return None
    head, found, body = path.read_text().partition("\n### ")
    if not found:
        return None
    facts = [line[2:] for line in head.splitlines() if line.startswith("- ")]
    measured = next((f for f in facts if f.startswith("Date:")), "Date: unknown")
    return (
        f"_Not measured in this run: from {path.relative_to(ROOT)} ({measured}; the machine "
        "and data as there)._\n\n"
        f"### {body.rstrip()}"
    )
