"""Zone statistics at scale, each figure against the bare GROUP BY that computes the same rows.

- the full rebuild, `stats_rebuild()`, against REBUILD_SQL's own SELECT written into a temporary
  table (`CREATE TEMP TABLE AS`);
- bringing the statistics current after 1,000 new reports (submitted one by one through
  `incident_submit`, as the API and the form do; the triggers fill the outbox):
  `stats_recompute_pending()` against a GROUP BY of the same (zone, day) buckets.

After each, the statistics are compared with an independent GROUP BY over every incident.

    .venv/bin/python bench/stats_bench.py [--incidents 1000000] [--repeats 3] [--reports 1000]

The database is `ceasefire_bench` (or BENCH_DATABASE_URL), prepared and filled on first use.
"""

from __future__ import annotations

import argparse
import datetime
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as bench/stats_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import django_setup

    django_setup()

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from bench import harness
from incidents.models import Incident
from incidents.services import incident_submit
from monitoring.benchdata import FIRST_DAY, bench_reports_draw
from stats.services import REBUILD_SQL, stats_rebuild, stats_recompute_pending

NAME = "stats"
TITLE = "zone statistics"
RESULTS_FILE = harness.BENCH_DIR / "RESULTS-stats.md"
RECENT_DAYS = 14
# A drain of 1,000 reports' buckets takes milliseconds, but the planner's estimate for it is high
# enough for PostgreSQL to JIT-compile it (about half a second): the catch-up is measured with the
# server's setting and with JIT off.
JIT_MODES = ("server", "off")

# The baseline of the rebuild: REBUILD_SQL's SELECT (the same grouping), into a table with no
# index, constraint or WAL. Taken from the statement itself so that the two never drift apart.
assert REBUILD_SQL.lstrip().startswith("INSERT INTO stats_zonedaystat")
BARE_REBUILD_SQL = (
    "CREATE TEMP TABLE bench_bare_rebuild\n"
    "    (zone_id, day, sub_event_type_id, review_status, incidents, killed, injured) AS\n"
    + REBUILD_SQL[REBUILD_SQL.index("SELECT") :]
)

# The baseline of the catch-up: the same grouping restricted to the buckets the outbox held,
# reading each touched day's incidents once through the occurred_at index.
BARE_CATCHUP_SQL = """
CREATE TEMP TABLE bench_bare_catchup AS
SELECT b.zone_id, b.day, i.sub_event_type_id, i.review_status,
       count(*) AS incidents,
       sum(i.killed_civilians + i.killed_combatants) AS killed,
       sum(i.injured_civilians + i.injured_combatants) AS injured
FROM (SELECT DISTINCT day FROM bench_touched) d
CROSS JOIN LATERAL (
    SELECT i.governorate_id, i.district_id, i.subdistrict_id, i.in_corridor, i.occurred_at,
           i.sub_event_type_id, i.review_status, i.killed_civilians, i.killed_combatants,
           i.injured_civilians, i.injured_combatants
    FROM incidents_incident i
    WHERE i.occurred_at >= (d.day::timestamp AT TIME ZONE 'Asia/Damascus')
      AND i.occurred_at < ((d.day + 1)::timestamp AT TIME ZONE 'Asia/Damascus')
      AND i.deleted_at IS NULL
    OFFSET 0  -- one index range per day (flattened, the planner scans the whole table)
) i
CROSS JOIN LATERAL stats_buckets(
    i.governorate_id, i.district_id, i.subdistrict_id, i.in_corridor, i.occurred_at) b
JOIN bench_touched t ON t.zone_id = b.zone_id AND t.day = b.day
GROUP BY b.zone_id, b.day, i.sub_event_type_id, i.review_status
"""

TOUCHED_SQL = """
DROP TABLE IF EXISTS bench_touched, bench_bare_catchup;
CREATE TEMP TABLE bench_touched AS SELECT DISTINCT zone_id, day FROM stats_statsoutbox;
ANALYZE bench_touched;
"""

# The statistics of the touched buckets against the baseline's rows: differing rows, both ways.
TOUCHED_MISMATCH_SQL = """
WITH actual AS MATERIALIZED (
    SELECT s.zone_id, s.day, s.sub_event_type_id, s.review_status::text,
           s.incidents::bigint, s.killed::bigint, s.injured::bigint
    FROM stats_zonedaystat s JOIN bench_touched t ON t.zone_id = s.zone_id AND t.day = s.day
),
bare AS MATERIALIZED (
    SELECT zone_id, day, sub_event_type_id, review_status::text,
           incidents::bigint, killed::bigint, injured::bigint
    FROM bench_bare_catchup
)
SELECT (SELECT count(*) FROM (SELECT * FROM actual EXCEPT ALL SELECT * FROM bare) a)
     + (SELECT count(*) FROM (SELECT * FROM bare EXCEPT ALL SELECT * FROM actual) b)
"""

# The whole table against numbers written independently of stats/ (no stats_buckets): one plain
# GROUP BY per zone kind, as tests/stats/helpers.py does. Differing rows, both ways.
MISMATCH_SQL = """
WITH expected AS MATERIALIZED (
    SELECT zone_id, day, sub_event_type_id, review_status::text,
           count(*) AS incidents, sum(killed) AS killed, sum(injured) AS injured
    FROM (
        SELECT z.zone_id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date AS day,
               i.sub_event_type_id, i.review_status,
               i.killed_civilians + i.killed_combatants AS killed,
               i.injured_civilians + i.injured_combatants AS injured
        FROM incidents_incident i,
             LATERAL (VALUES (i.governorate_id), (i.district_id), (i.subdistrict_id)) AS z(zone_id)
        WHERE i.deleted_at IS NULL AND z.zone_id IS NOT NULL
        UNION ALL
        SELECT c.id, (i.occurred_at AT TIME ZONE 'Asia/Damascus')::date,
               i.sub_event_type_id, i.review_status,
               i.killed_civilians + i.killed_combatants, i.injured_civilians + i.injured_combatants
        FROM incidents_incident i JOIN zones_zone c ON c.kind = 'security_corridor'
        WHERE i.deleted_at IS NULL AND i.in_corridor
    ) t
    GROUP BY 1, 2, 3, 4
),
actual AS MATERIALIZED (
    SELECT zone_id, day, sub_event_type_id, review_status::text,
           incidents::bigint, killed::bigint, injured::bigint
    FROM stats_zonedaystat
)
SELECT (SELECT count(*) FROM (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected) a)
     + (SELECT count(*) FROM (SELECT * FROM expected EXCEPT ALL SELECT * FROM actual) b)
"""

STATS_KICKS = ((post_save, "stats_kick_on_save"), (post_delete, "stats_kick_on_delete"))


@dataclass
class RebuildResult:
    service: list[float]
    bare: list[float]
    rows: int
    bare_rows: int
    mismatches: int


@dataclass
class CatchUpResult:
    label: str
    submit: list[float] = field(default_factory=list)
    # Drain and baseline times by JIT mode: "server" (the server's setting) and "off".
    service: dict[str, list[float]] = field(default_factory=dict)
    bare: dict[str, list[float]] = field(default_factory=dict)
    buckets: list[int] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    touched_mismatches: int = 0
    mismatches: int = 0


def stats_mismatch_count() -> int:
    """Rows in which the statistics differ from an independent GROUP BY (0 when correct)."""
    with connection.cursor() as cursor:
        cursor.execute(MISMATCH_SQL)
        return cursor.fetchone()[0]


def rebuild_measure(*, repeats: int, warmup: int = 1) -> RebuildResult:
    """stats_rebuild() against REBUILD_SQL's SELECT into a temporary table."""
    rows: dict[str, int] = {}

    def service() -> None:
        rows["service"] = stats_rebuild()

    def bare() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(BARE_REBUILD_SQL)
            rows["bare"] = cursor.rowcount

    samples = harness.interleaved(
        [("service", service), ("bare", bare)],
        repeats=repeats,
        warmup=warmup,
        before_each=_rebuild_reset,
    )
    _rebuild_reset()
    return RebuildResult(
        service=samples["service"],
        bare=samples["bare"],
        rows=rows["service"],
        bare_rows=rows["bare"],
        mismatches=stats_mismatch_count(),
    )


def catchup_measure(
    *,
    label: str,
    first_day: datetime.date,
    last_day: datetime.date,
    reports: int,
    repeats: int,
    seed: int,
    reporter=None,
    jit_modes: tuple[str, ...] = JIT_MODES,
) -> CatchUpResult:
    """Submit `reports` fresh reports through incident_submit, then time draining the outbox
    against the GROUP BY of the same buckets. `repeats` runs per JIT mode, the modes taking turns
    and each mode's runs alternating which side goes first. The reports are deleted again at the
    end (untimed), so the database keeps its size."""
    reporter = reporter or bench_reporter()
    result = CatchUpResult(label)
    for mode in jit_modes:
        result.service[mode], result.bare[mode] = [], []
    stats_recompute_pending()  # start from an empty outbox
    made: list[int] = []
    try:
        for run in range(repeats * len(jit_modes)):
            mode = jit_modes[run % len(jit_modes)]
            _outbox_vacuum()
            drawn = bench_reports_draw(
                count=reports, seed=seed * 1000 + run, first_day=first_day, last_day=last_day
            )
            started = time.perf_counter()
            with stats_kicks_off():
                for data in drawn:
                    submitted = incident_submit(
                        reporter=reporter, client_uuid=uuid.uuid4(), data=data, is_synthetic=True
                    )
                    made.append(submitted.incident.pk)
            result.submit.append(time.perf_counter() - started)
            with connection.cursor() as cursor:
                cursor.execute(TOUCHED_SQL)
                cursor.execute("SELECT count(*) FROM bench_touched")
                result.buckets.append(cursor.fetchone()[0])

            def service() -> None:
                result.rows.append(stats_recompute_pending())

            def bare() -> None:
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute(BARE_CATCHUP_SQL)

            cases = [("service", service), ("bare", bare)]
            if (run // len(jit_modes)) % 2:
                cases.reverse()
            with harness.jit(mode):
                samples = harness.interleaved(cases, repeats=1)
            result.service[mode] += samples["service"]
            result.bare[mode] += samples["bare"]
            with connection.cursor() as cursor:
                cursor.execute(TOUCHED_MISMATCH_SQL)
                result.touched_mismatches += cursor.fetchone()[0]
        result.mismatches = stats_mismatch_count()
    finally:
        _reports_delete(made)
    return result


def bench_reporter():
    """The account the benchmark's reports come from (a reporter, as in the field)."""
    user, created = get_user_model().objects.get_or_create(username="bench-reporter")
    if created:
        user.set_unusable_password()
        user.save()
        group = Group.objects.filter(name="reporter").first()
        if group is not None:
            user.groups.add(group)
    return user


@contextmanager
def stats_kicks_off() -> Iterator[None]:
    """No recompute task is sent to Celery while reports go in: the benchmark drains the outbox
    itself (and a worker on the same database would drain it behind its back)."""
    from stats.receivers import kick_stats

    disconnected = [
        (signal, uid)
        for signal, uid in STATS_KICKS
        if signal.disconnect(sender=Incident, dispatch_uid=uid)
    ]
    try:
        yield
    finally:
        for signal, uid in disconnected:
            signal.connect(kick_stats, sender=Incident, dispatch_uid=uid)


def _rebuild_reset() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_bare_rebuild")
        if not connection.in_atomic_block:
            # Each rebuild deletes every row: vacuum between runs so each starts alike (and
            # analyze, as autovacuum would, for the plans of the catch-up that follows).
            cursor.execute("VACUUM (ANALYZE) stats_zonedaystat")
            cursor.execute("VACUUM (ANALYZE) stats_statsoutbox")


def _outbox_vacuum() -> None:
    """Start each catch-up with the outbox vacuumed, as autovacuum keeps it between bursts. With
    the dead rows of earlier drains still counted, the planner takes the outbox for a large table
    and merge-joins the whole statistics table when removing rows (see the figure's notes)."""
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM stats_statsoutbox")


def _reports_delete(ids: list[int]) -> None:
    if not ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM incidents_incidentchange WHERE incident_id = ANY(%s::bigint[])", [ids]
        )
        cursor.execute("DELETE FROM incidents_incident WHERE id = ANY(%s::bigint[])", [ids])
        cursor.execute("DROP TABLE IF EXISTS bench_touched, bench_bare_catchup")
    stats_recompute_pending()


# --- the figure --------------------------------------------------------------------------------


def run(*, data: harness.DataState, repeats: int, reports: int, seed: int) -> list[harness.Figure]:
    """Measure and return the figure (bench/run.py calls this for `make bench`)."""
    harness.say(f"Statistics: full rebuild, {repeats} runs each after a warm-up")
    rebuild = rebuild_measure(repeats=repeats)
    today = timezone.localdate()
    catchups = []
    for label, first_day in (
        (f"dated in the last {RECENT_DAYS} days", today - datetime.timedelta(days=RECENT_DAYS - 1)),
        (f"dated {FIRST_DAY:%Y-%m} to today (a backfill)", FIRST_DAY),
    ):
        harness.say(f"Statistics: catch-up after {reports:,} reports {label}, {repeats} runs")
        catchups.append(
            catchup_measure(
                label=label,
                first_day=first_day,
                last_day=today,
                reports=reports,
                repeats=repeats,
                seed=seed,
            )
        )
    return [
        _figure(data=data, rebuild=rebuild, catchups=catchups, repeats=repeats, reports=reports)
    ]


def _figure(
    *,
    data: harness.DataState,
    rebuild: RebuildResult,
    catchups: list[CatchUpResult],
    repeats: int,
    reports: int,
) -> harness.Figure:
    def ok(mismatches: int) -> str:
        return "OK" if mismatches == 0 else f"MISMATCH ({mismatches} rows)"

    def spread(values: list[float]) -> str:
        return f"{harness.seconds(min(values))}-{harness.seconds(max(values))}"

    def cells(service: list[float], bare: list[float]) -> list[str]:
        return [
            harness.seconds(harness.median(service)),
            harness.seconds(harness.median(bare)),
            harness.ratio(harness.median(service), harness.median(bare)),
        ]

    server_jit = f"jit {harness.server_setting('jit')}"
    rows = [
        [
            f"full rebuild ({server_jit})",
            *cells(rebuild.service, rebuild.bare),
            f"{rebuild.rows:,} rows",
            ok(rebuild.mismatches + abs(rebuild.rows - rebuild.bare_rows)),
        ]
    ]
    notes = [
        "Full rebuild: project code = stats_rebuild() (empties the outbox and the table, then "
        "REBUILD_SQL, one transaction); bare = REBUILD_SQL's own SELECT ... GROUP BY written "
        "into a temporary table (CREATE TEMP TABLE AS: no index, constraint or WAL). "
        f"Runs: project code {spread(rebuild.service)}, bare {spread(rebuild.bare)}.",
        f"Catch-up: {reports:,} new reports go in one by one through incident_submit (the "
        "service behind the API and the form: validation, zones, history, one transaction each; "
        "the triggers fill the outbox); then project code = stats_recompute_pending() (drains the "
        "outbox); bare = the same grouping restricted to the outbox's (zone, day) buckets, reading "
        "each touched day's incidents once through the occurred_at index, into a temporary table. "
        "The outbox is vacuumed before each run, as autovacuum keeps it between bursts: while "
        "the dead rows of earlier drains are still counted, the planner takes it for a large "
        "table and its 'removed' step merge-joins the whole statistics table, so a drain then "
        "costs in proportion to stats_zonedaystat rather than to the buckets.",
        f"Median of {repeats} runs per line, the two sides interleaved (A B, B A, ...); the "
        "rebuild after one untimed warm-up of each side and with VACUUM of the statistics tables "
        "before each run; every catch-up run submits fresh reports; JIT settings take turns.",
    ]
    for catchup in catchups:
        for mode in catchup.service:
            label = server_jit if mode == "server" else "jit off"
            rows.append(
                [
                    f"catch-up after {reports:,} reports {catchup.label} ({label})",
                    *cells(catchup.service[mode], catchup.bare[mode]),
                    f"{round(harness.median(catchup.buckets)):,} buckets, "
                    f"{round(harness.median(catchup.rows)):,} rows",
                    ok(catchup.mismatches + catchup.touched_mismatches),
                ]
            )
        submit = harness.median(catchup.submit)
        runs = "; ".join(
            f"{'server' if mode == 'server' else 'jit off'}: project code "
            f"{spread(catchup.service[mode])}, bare {spread(catchup.bare[mode])}"
            for mode in catchup.service
        )
        notes.append(
            f"Reports {catchup.label}: {harness.seconds(submit)} to submit {reports:,} "
            f"({submit / reports * 1000:.1f} ms a report, not timed in the catch-up). Runs: {runs}."
        )
    notes.append(
        "Check: after the rebuild and after the catch-ups, stats_zonedaystat equals an "
        "independent GROUP BY over every incident (one plain GROUP BY per zone kind, no "
        "stats_buckets), and after each drain the touched buckets equal the baseline's rows."
    )
    return harness.Figure(
        title=f"Zone statistics, {data.incidents:,} incidents",
        columns=["measurement", "project code", "bare GROUP BY", "ratio", "size", "check"],
        rows=rows,
        notes=notes,
    )


def data_lines(data: harness.DataState, seed: int) -> list[str]:
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incidents", type=int, default=harness.DEFAULT_INCIDENTS)
    parser.add_argument("--patrols", type=int, default=harness.DEFAULT_PATROLS)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each side")
    parser.add_argument("--reports", type=int, default=1000, help="new reports for the catch-up")
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    harness.django_setup()
    harness.say(f"Preparing the benchmark database ({harness.database_prepare():.1f} s)")
    data = harness.data_ensure(incidents=args.incidents, patrols=args.patrols, seed=args.seed)
    figures = run(data=data, repeats=args.repeats, reports=args.reports, seed=args.seed)
    print()
    for figure in figures:
        print(figure.text())
    harness.results_write(
        RESULTS_FILE,
        heading=f"Benchmark: {TITLE}",
        figures=figures,
        intro=data_lines(data, args.seed),
    )
    harness.say(f"\nWritten to {RESULTS_FILE.relative_to(harness.ROOT)}")


if __name__ == "__main__":
    main()
