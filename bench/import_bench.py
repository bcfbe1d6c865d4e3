"""The ACLED import into the incidents table at scale, against a bare COPY of the same rows and
against Django's bulk_create of them.

A CSV file of ACLED events (seeded: drawn by the benchmark generator's SQL, written by the ACLED
export's own row function, so in the format the exporter writes) is imported with
`imports.services.acled_import(path)`: staging COPY, the checks, zones, the upsert and the history,
one transaction, commit included. The baselines write the rows that import produced:

- a bare `COPY incidents_incident (...) FROM STDIN` of them (text format), and commit;
- `Incident.objects.bulk_create(objs, batch_size=5000)` of them as model instances, and commit.

All three write into the same table, with its indexes, constraints and statistics triggers;
only the import parses the file, assigns zones and writes the history. After each run the rows
are deleted again (by their external id), the statistics outbox drained and the tables vacuumed
(untimed), so the database keeps its size.

    .venv/bin/python bench/import_bench.py [--import-rows 100000] [--import-repeats 2]
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as bench/import_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import django_setup

    django_setup()

from django.db import connection, transaction

from bench import harness
from imports.acled import CONTENT_COLUMNS, ZONE_COLUMNS
from imports.services import acled_import
from incidents.exports import ACLED_COLUMNS, acled_row
from incidents.models import Incident
from monitoring.benchdata import FIRST_DAY, bench_reports_draw, yesterday
from stats.services import stats_recompute_pending

NAME = "import"
TITLE = "ACLED import"
RESULTS_FILE = harness.BENCH_DIR / "RESULTS-import.md"
EXTERNAL_ID_PREFIX = "BENCHACLED-"
BULK_BATCH_SIZE = 5000
METHODS = ("import", "copy", "bulk_create")
LABELS = {
    "import": "acled_import(path)",
    "copy": "bare COPY",
    "bulk_create": f"bulk_create (batch {BULK_BATCH_SIZE:,})",
}

# What the three must agree on: every column an import writes from the file, the zones, and who
# the row is (not the times of the writing).
FINGERPRINT_COLUMNS = (
    "external_id",
    "client_uuid",
    "review_status",
    "reporter_id",
    *CONTENT_COLUMNS,
    *ZONE_COLUMNS,
)
FINGERPRINT_SQL = f"""
SELECT count(*), md5(string_agg(
    concat_ws('|', {", ".join(FINGERPRINT_COLUMNS)}), E'\\n' ORDER BY external_id))
FROM incidents_incident WHERE external_id LIKE %s
"""  # noqa: S608 (constant column names)


@dataclass
class ImportResult:
    rows: int
    file_bytes: int
    seconds: dict[str, list[float]] = field(default_factory=lambda: {m: [] for m in METHODS})
    fingerprints: dict[str, set] = field(default_factory=lambda: {m: set() for m in METHODS})
    rejected: int = 0
    history_rows: int = 0
    cleanup_seconds: list[float] = field(default_factory=list)
    left_over: int = 0

    @property
    def consistent(self) -> bool:
        every = set().union(*self.fingerprints.values())
        return len(every) == 1 and next(iter(every))[0] == self.rows


def acled_file_write(path: Path, *, rows: int, seed: int) -> int:
    """`rows` synthetic events as ACLED rows (the export's acled_row), ids EXTERNAL_ID_PREFIX and
    a number, dated from the first day of the benchmark data to yesterday. Returns the rows."""
    drawn = bench_reports_draw(count=rows, seed=seed, first_day=FIRST_DAY, last_day=yesterday())
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)  # the export's dialect
        writer.writerow(ACLED_COLUMNS)
        for number, report in enumerate(drawn, start=1):
            sub = report["sub_event_type"]
            record = {
                "client_uuid": None,
                "external_id": f"{EXTERNAL_ID_PREFIX}{number:07d}",
                "occurred_at": report["occurred_at"],
                "time_precision": report["time_precision"],
                "sub_event_type__disorder_type": sub.disorder_type,
                "event_type__name": sub.event_type.name,
                "sub_event_type__name": sub.name,
                "perpetrator_side": report["perpetrator_side"],
                "target": report["target"],
                "governorate__name_en": None,
                "district__name_en": None,
                "subdistrict__name_en": None,
                "place_name": report["place_name"],
                "location_precision": report["location_precision"],
                "sources": report["sources"],
                "description": report["description"],
                "killed_civilians": report["killed_civilians"],
                "killed_combatants": report["killed_combatants"],
                "weapon": report["weapon"],
                "is_synthetic": True,
                "updated_at": report["occurred_at"],
                "lon": round(report["location"].x, 6),
                "lat": round(report["location"].y, 6),
            }
            writer.writerow(acled_row(record, exact=True))
    return len(drawn)


def _copy_columns() -> list[str]:
    """The incidents table's columns a writer sets: all but the id and the generated ones."""
    return [
        f.column
        for f in Incident._meta.concrete_fields
        if not f.primary_key and not getattr(f, "generated", False)
    ]


def rows_dump(prefix: str) -> bytes:
    """The rows an import produced, as COPY's text format."""
    columns = ", ".join(_copy_columns())
    out = io.BytesIO()
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY (SELECT {columns} FROM incidents_incident "  # noqa: S608 (model's columns)
            f"WHERE external_id LIKE '{prefix}%' ORDER BY id) TO STDOUT",
            out,
        )
    return out.getvalue()


def instances_of(prefix: str) -> list[Incident]:
    """The rows an import produced as unsaved model instances (no id)."""
    objs = list(Incident.all_objects.filter(external_id__startswith=prefix).order_by("id"))
    for obj in objs:
        obj.pk = None
        obj._state.adding = True
    return objs


def fingerprint(prefix: str) -> tuple[int, str]:
    with connection.cursor() as cursor:
        cursor.execute(FINGERPRINT_SQL, [prefix + "%"])
        count, digest = cursor.fetchone()
        return count, digest or ""


def rows_delete(prefix: str) -> int:
    """Delete the rows (and their history), drain the statistics outbox their inserts and deletes
    filled (the numbers end where they began), and vacuum, as autovacuum would."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM incidents_incidentchange WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE external_id LIKE %s)",
            [prefix + "%"],
        )
        cursor.execute("DELETE FROM incidents_incident WHERE external_id LIKE %s", [prefix + "%"])
        deleted = cursor.rowcount
    stats_recompute_pending()
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in ("incidents_incident", "incidents_incidentchange", "stats_statsoutbox"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return deleted


def measure(
    *, path: Path, rows: int, repeats: int, prefix: str = EXTERNAL_ID_PREFIX
) -> ImportResult:
    """`repeats` rounds of the three methods, their order turning each round; each writes the
    same rows into an incidents table without them, and they are deleted again after it."""
    result = ImportResult(rows=rows, file_bytes=path.stat().st_size)
    rows_delete(prefix)  # what an interrupted run left, and an empty outbox to start from
    try:
        # The import runs first once, untimed: its rows are what the baselines write.
        report = acled_import(path)
        result.rejected = report.rejected
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM incidents_incidentchange c JOIN incidents_incident i "
                "ON i.id = c.incident_id WHERE i.external_id LIKE %s",
                [prefix + "%"],
            )
            result.history_rows = cursor.fetchone()[0]
        dump = rows_dump(prefix)
        objs = instances_of(prefix)
        result.fingerprints["import"].add(fingerprint(prefix))
        rows_delete(prefix)

        columns = ", ".join(_copy_columns())

        def run_import() -> None:
            acled_import(path)

        def run_copy() -> None:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.cursor.copy_expert(
                    f"COPY incidents_incident ({columns}) FROM STDIN", io.BytesIO(dump)
                )

        def run_bulk_create() -> None:
            for obj in objs:
                obj.pk = None
                obj._state.adding = True
            with transaction.atomic():
                Incident.objects.bulk_create(objs, batch_size=BULK_BATCH_SIZE)

        work = {"import": run_import, "copy": run_copy, "bulk_create": run_bulk_create}
        for round_number in range(repeats):
            order = METHODS[round_number % 3 :] + METHODS[: round_number % 3]
            for method in order:
                started = time.perf_counter()
                work[method]()
                result.seconds[method].append(time.perf_counter() - started)
                result.fingerprints[method].add(fingerprint(prefix))
                started = time.perf_counter()
                rows_delete(prefix)
                result.cleanup_seconds.append(time.perf_counter() - started)
    finally:
        harness.connection_renew()  # lost in a server restart: clean up on a new one
        rows_delete(prefix)
        result.left_over = Incident.all_objects.filter(external_id__startswith=prefix).count()
    return result


# --- the figure --------------------------------------------------------------------------------


def run(
    *, data: harness.DataState, import_rows: int, import_repeats: int, seed: int
) -> list[harness.Figure]:
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-acled-") as folder:
        path = Path(folder) / "acled.csv"
        harness.say(f"Import: writing {import_rows:,} ACLED rows")
        started = time.perf_counter()
        rows = acled_file_write(path, rows=import_rows, seed=seed)
        harness.say(
            f"Import: written in {time.perf_counter() - started:.0f} s; {import_repeats} rounds "
            "of import, COPY and bulk_create"
        )
        result = measure(path=path, rows=rows, repeats=import_repeats)
    harness.bench_redis_clear()  # the statistics and alert tasks each import sent
    figure = _figure(data=data, result=result, repeats=import_repeats)
    figure.notes.append(harness.load_note(load_before))
    return [figure]


def _figure(*, data: harness.DataState, result: ImportResult, repeats: int) -> harness.Figure:
    medians = {m: harness.median(result.seconds[m]) for m in METHODS}
    rate = {m: result.rows / medians[m] for m in METHODS}
    check = (
        "OK"
        if result.consistent and not result.rejected and not result.left_over
        else (
            f"MISMATCH (fingerprints {sorted(len(v) for v in result.fingerprints.values())}, "
            f"rejected {result.rejected}, left over {result.left_over})"
        )
    )
    rows = []
    for method in METHODS:
        runs = result.seconds[method]
        rows.append(
            [
                LABELS[method],
                harness.seconds(medians[method]),
                f"{rate[method]:,.0f}",
                f"{rate[method] / rate['copy']:.2f}",
                f"{rate[method] / rate['bulk_create']:.2f}",
                f"{harness.seconds(min(runs))}-{harness.seconds(max(runs))}",
                check if method == "import" else "",
            ]
        )
    notes = [
        f"{result.rows:,} synthetic ACLED events ({result.file_bytes / 1e6:.1f} MB), drawn by "
        "the benchmark generator's SQL and written by the ACLED export's acled_row (all valid, "
        f"all new: ids {EXTERNAL_ID_PREFIX}...), dated "
        f"{FIRST_DAY:%Y-%m-%d} to yesterday, into a table of {data.incidents:,} incidents.",
        "acled_import(path): the whole service (COPY into staging, one checking statement, "
        "zones by ZONES_OF_POINTS_SQL, INSERT ... ON CONFLICT in slices of 25,000 rows, "
        f"{result.history_rows:,} history rows, the audit event), one transaction, commit "
        "included. Bare COPY: the rows that import produced (every column but the id and the "
        "generated ones), COPY ... FROM STDIN in text format, commit included. bulk_create: "
        "the same rows as Incident instances built beforehand (untimed), in one transaction. "
        "All three pay the table's 26 indexes, its constraints and the statistics triggers.",
        "Ratio columns: rows/s divided by the bare COPY's and by bulk_create's.",
        f"Median of {repeats} rounds; in each round the three run in turn (the order turning "
        "each round); after each run the rows and their history are deleted, the statistics "
        "outbox drained and the tables vacuumed, untimed "
        f"(median {harness.seconds(harness.median(result.cleanup_seconds))}).",
        "Check: after every run of every method the rows are the same (count and an md5 over "
        "the columns the import writes, the zones and the identity), nothing rejected, and "
        "nothing left after the clean-up.",
    ]
    return harness.Figure(
        title=f"ACLED import, {result.rows:,} rows into {data.incidents:,} incidents",
        columns=[
            "writer",
            "time",
            "rows/s",
            "vs COPY",
            "vs bulk_create",
            "runs",
            "check",
        ],
        rows=rows,
        notes=notes,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incidents", type=int, default=harness.DEFAULT_INCIDENTS)
    parser.add_argument("--import-rows", type=int, default=100_000, help="ACLED rows to import")
    parser.add_argument(
        "--import-repeats", type=int, default=2, help="timed rounds of the three writers"
    )
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    harness.figure_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
