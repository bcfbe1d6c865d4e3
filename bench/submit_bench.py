"""Report submission under load, against a trivial endpoint on the same server.

The web server the Procfile starts (gunicorn) is driven by a load tool, wrk (`apt-get install wrk`;
`make bench` installs it) or, where wrk is missing, a Python thread pool: a fixed number of
connections for a fixed time, in turn (interleaved rounds):

- `POST /api/v1/incidents/` with a reporter's API key, each request a report drawn by the
  benchmark generator (dated in the last 14 days) with a fresh client_uuid (bench/wrk_load.lua);
- `GET /api/v1/health/`, the trivial endpoint (no authentication, no database), and, for scale,
  `GET /healthz` (the load balancers' check: one `SELECT 1` and one Redis read).

    .venv/bin/python bench/submit_bench.py [--submit-seconds 20] [--submit-repeats 2]

Afterwards every report answered 201 must be stored once: the incidents created equal the 201s
the server logged, the client saw no other status, and the in-flight requests the load tool
dropped at the end are the only difference between its count and the server's. The reports are
deleted again and the statistics outbox they filled is drained.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as bench/submit_bench.py
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from bench.harness import django_setup

    django_setup()

from django.db import connection, transaction
from django.utils import timezone

from bench import harness, server
from incidents.models import Incident
from monitoring.benchdata import bench_reports_draw
from stats.services import stats_recompute_pending

NAME = "submit"
TITLE = "report submission under load"
RESULTS_FILE = harness.BENCH_DIR / "RESULTS-submit.md"
SUBMIT_PATH = "/api/v1/incidents/"
TRIVIAL_PATH = server.HEALTH_PATH
# name: (path, the status every answer must have, label)
ENDPOINTS = {
    "submit": (SUBMIT_PATH, 201, f"POST {SUBMIT_PATH} (a report)"),
    "trivial": (TRIVIAL_PATH, 200, f"GET {TRIVIAL_PATH} (trivial: no database)"),
    "healthz": ("/healthz", 200, "GET /healthz (SELECT 1 and a Redis read)"),
}
WRK_SCRIPT = harness.BENCH_DIR / "wrk_load.lua"
SUBMITTER = "bench-submitter"
BODIES = 1000  # distinct reports, taken in turn
RECENT_DAYS = 14
ACCESS_LOG_201 = re.compile(r'"POST /api/v1/incidents/ HTTP/1\.[01]" 201 ')


@dataclass
class LoadRun:
    """One run of the load tool against one endpoint."""

    endpoint: str
    requests: int
    seconds: float
    p50: float
    p95: float
    statuses: Counter = field(default_factory=Counter)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class SubmitResult:
    tool: str
    tool_description: str = ""
    runs: list[LoadRun] = field(default_factory=list)
    created: int = 0  # incidents stored by the submitter during the runs
    server_201: int = 0  # 201 answers in the server's access log
    duplicates: int = 0  # stored client UUIDs that are not unique (must be 0)
    left_over: int = 0

    def of(self, endpoint: str) -> list[LoadRun]:
        return [run for run in self.runs if run.endpoint == endpoint]

    @property
    def client_201(self) -> int:
        return sum(run.statuses.get(201, 0) for run in self.of("submit"))

    @property
    def unexpected(self) -> Counter:
        """Answers other than 201 (submit) and 200 (the others), and transport errors."""
        counts: Counter = Counter()
        for run in self.runs:
            wanted = ENDPOINTS[run.endpoint][1]
            for status, count in run.statuses.items():
                if status != wanted:
                    counts[str(status)] += count
            for kind, count in run.errors.items():
                if count:
                    counts[kind] += count
        return counts


def report_bodies(*, count: int, seed: int) -> list[str]:
    """`count` reports as a reporter's app sends them (JSON), client_uuid left as @UUID@."""
    today = timezone.localdate()
    drawn = bench_reports_draw(
        count=count,
        seed=seed,
        first_day=today - datetime.timedelta(days=RECENT_DAYS - 1),
        last_day=today,
    )
    now = timezone.now()
    bodies = []
    for report in drawn:
        body = {
            "client_uuid": "@UUID@",
            # Today's reports are drawn up to the end of the day: not after the submission.
            "occurred_at": min(report["occurred_at"], now - datetime.timedelta(minutes=1)),
            "time_precision": report["time_precision"],
            "location": {
                "type": "Point",
                "coordinates": [round(report["location"].x, 6), round(report["location"].y, 6)],
            },
            "location_precision": report["location_precision"],
            "place_name": report["place_name"],
            "sub_event_type": report["sub_event_type"].slug,
            "weapon": report["weapon"],
            "observation_method": report["observation_method"],
            "explosions_count": report["explosions_count"],
            "direction": report["direction"],
            "distance_estimate_m": report["distance_estimate_m"],
            "perpetrator_side": report["perpetrator_side"],
            "target": report["target"],
            "target_description": report["target_description"],
            "killed_civilians": report["killed_civilians"],
            "killed_combatants": report["killed_combatants"],
            "injured_civilians": report["injured_civilians"],
            "injured_combatants": report["injured_combatants"],
            "description": report["description"],
            "sources": report["sources"],
        }
        bodies.append(json.dumps(body, default=_json_default, ensure_ascii=False))
    return bodies


def _json_default(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    raise TypeError(type(value))


# --- load tools --------------------------------------------------------------------------------


def wrk_path() -> str | None:
    return shutil.which("wrk")


def wrk_run(
    *,
    endpoint: str,
    url: str,
    seconds: float,
    connections: int,
    threads: int,
    post: tuple[Path, str] | None = None,
) -> LoadRun:
    """One wrk run; `post` is (bodies file, API key) for submissions, None for a GET."""
    args = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "30s",
        "-s",
        str(WRK_SCRIPT),
        url,
        "--",
    ]
    if post is None:
        args.append("get")
    else:
        bodies, key = post
        args += ["post", str(bodies), key, uuid.uuid4().hex[:16]]
    finished = subprocess.run(  # noqa: S603 (our own arguments)
        args, capture_output=True, text=True, timeout=seconds + 120, check=True
    )
    line = next(
        (row for row in finished.stdout.splitlines() if row.startswith("WRK_RESULT ")), None
    )
    if line is None:
        raise RuntimeError(f"wrk printed no result:\n{finished.stdout}\n{finished.stderr}")
    data = json.loads(line.removeprefix("WRK_RESULT "))
    return LoadRun(
        endpoint=endpoint,
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50=data["p50_us"] / 1e6,
        p95=data["p95_us"] / 1e6,
        statuses=Counter({int(k): v for k, v in data["statuses"].items()}),
        errors=data["errors"],
    )


def python_run(
    *,
    endpoint: str,
    base_url: str,
    path: str,
    seconds: float,
    connections: int,
    post: tuple[list[str], str] | None = None,
) -> LoadRun:
    """The fallback load tool: `connections` threads, each a client in a loop until time is up.
    Python's threads cost CPU on the same machine: it drives a fast endpoint less hard than
    wrk, so the trivial endpoint's rate (and the ratio) is a lower bound."""
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: Counter = Counter()
    lock = threading.Lock()
    nonce = uuid.uuid4().hex[:16]
    counter = iter(range(10**12))

    def worker() -> None:
        client = server.Client(base_url, timeout=30)
        mine, seen, failed = [], Counter(), Counter()
        while time.perf_counter() < deadline:
            body = headers = None
            if post is not None:
                bodies, key = post
                with lock:
                    number = next(counter)
                client_uuid = f"{nonce[:8]}-{nonce[8:12]}-4{nonce[12:15]}-8000-{number:012x}"
                body = bodies[number % len(bodies)].replace("@UUID@", client_uuid).encode()
                headers = {"Content-Type": "application/json", "Authorization": f"Api-Key {key}"}
            started = time.perf_counter()
            try:
                status, _headers, _body = client.request(
                    "POST" if post else "GET", path, body=body, headers=headers
                )
            except (OSError, http.client.HTTPException):
                failed["read"] += 1
                client.close()
                continue
            mine.append(time.perf_counter() - started)
            seen[status] += 1
        client.close()
        with lock:
            latencies.extend(mine)
            statuses.update(seen)
            errors.update(failed)

    started = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(connections)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    elapsed = time.perf_counter() - started
    return LoadRun(
        endpoint=endpoint,
        requests=len(latencies),
        seconds=elapsed,
        p50=harness.percentile(latencies, 50),
        p95=harness.percentile(latencies, 95),
        statuses=statuses,
        errors=dict(errors),
    )


def _tool_description(tool: str, wrk_threads: int) -> str:
    if tool != "wrk":
        return (
            "a Python thread pool (the fallback where wrk is not installed: it drives fast "
            "endpoints less hard than wrk, so the trivial endpoint's rate is a lower bound)"
        )
    shown = subprocess.run(  # noqa: S603 (our own arguments)
        [wrk_path() or "wrk", "-v"], capture_output=True, text=True, check=False
    )
    version = (shown.stdout + shown.stderr).split()[1:2] or ["?"]
    return f"wrk {version[0]} ({wrk_threads} threads, Lua script bench/wrk_load.lua)"


# --- the measurement ---------------------------------------------------------------------------


def submitted_count(user_id: int) -> int:
    return Incident.all_objects.filter(reporter_id=user_id).count()


def submissions_delete(user_id: int) -> int:
    """Delete the submitter's reports and their history; drain the statistics outbox."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM incidents_incidentchange WHERE incident_id IN "
            "(SELECT id FROM incidents_incident WHERE reporter_id = %s)",
            [user_id],
        )
        cursor.execute("DELETE FROM incidents_incident WHERE reporter_id = %s", [user_id])
        deleted = cursor.rowcount
    stats_recompute_pending()
    if not connection.in_atomic_block:
        with connection.cursor() as cursor:
            for table in ("incidents_incident", "incidents_incidentchange", "stats_statsoutbox"):
                cursor.execute(f"VACUUM (ANALYZE) {table}")
    return deleted


def measure(
    *,
    web: server.WebServer,
    bodies: list[str],
    seconds: float,
    repeats: int,
    connections: int,
    tool: str,
    wrk_threads: int = 2,
    endpoints: tuple[str, ...] = tuple(ENDPOINTS),
) -> SubmitResult:
    """`repeats` rounds of every endpoint, the order turning each round."""
    result = SubmitResult(tool=tool, tool_description=_tool_description(tool, wrk_threads))
    account = server.bench_account("reporter", username=SUBMITTER)
    submissions_delete(account.user_id)  # left by an interrupted run
    log_start = len(web.log())
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".jsonl", encoding="utf-8") as file:
            file.write("\n".join(bodies) + "\n")
            file.flush()

            def load(endpoint: str) -> LoadRun:
                path = ENDPOINTS[endpoint][0]
                if tool == "wrk":
                    post = (Path(file.name), account.key) if endpoint == "submit" else None
                    return wrk_run(
                        endpoint=endpoint,
                        url=web.base_url + path,
                        seconds=seconds,
                        connections=connections,
                        threads=wrk_threads,
                        post=post,
                    )
                post_bodies = (bodies, account.key) if endpoint == "submit" else None
                return python_run(
                    endpoint=endpoint,
                    base_url=web.base_url,
                    path=path,
                    seconds=seconds,
                    connections=connections,
                    post=post_bodies,
                )

            for round_number in range(repeats):
                names = list(endpoints)
                turn = round_number % len(names)
                order = names[turn:] + names[:turn]
                for endpoint in order:
                    result.runs.append(load(endpoint))
        time.sleep(1)  # requests the tool dropped at the end finish on the server
        result.created = submitted_count(account.user_id)
        result.server_201 = len(ACCESS_LOG_201.findall(web.log()[log_start:]))
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) - count(DISTINCT client_uuid) FROM incidents_incident "
                "WHERE reporter_id = %s",
                [account.user_id],
            )
            result.duplicates = cursor.fetchone()[0]
    finally:
        harness.connection_renew()  # lost in a server restart: clean up on a new one
        submissions_delete(account.user_id)
        result.left_over = submitted_count(account.user_id)
        server.bench_account_remove(account)
    return result


def check_failures(result: SubmitResult, *, connections: int) -> list[str]:
    """What is wrong with the stored reports ([] when nothing is lost or duplicated)."""
    problems = []
    if result.created != result.server_201:
        problems.append(
            f"{result.created:,} reports stored, {result.server_201:,} answered 201 by the server"
        )
    dropped = result.server_201 - result.client_201
    if not 0 <= dropped <= connections * len(result.of("submit")):
        problems.append(
            f"the load tool saw {result.client_201:,} answers 201, the server sent "
            f"{result.server_201:,}"
        )
    if result.duplicates:
        problems.append(f"{result.duplicates} client UUIDs stored twice")
    if result.unexpected:
        problems.append(f"other answers: {dict(result.unexpected)}")
    if result.left_over:
        problems.append(f"{result.left_over} reports left after the clean-up")
    return problems


# --- the figure --------------------------------------------------------------------------------


def run(
    *,
    data: harness.DataState,
    submit_seconds: float,
    submit_repeats: int,
    submit_connections: int,
    web_workers: int,
    load_tool: str,
    seed: int,
) -> list[harness.Figure]:
    load_before = os.getloadavg()[0]
    tool = load_tool
    if tool == "auto":
        tool = "wrk" if wrk_path() else "python"
    harness.say(f"Submission: drawing {BODIES:,} reports")
    bodies = report_bodies(count=BODIES, seed=seed)
    stats_recompute_pending()  # start from an empty outbox
    with server.web_server(workers=web_workers) as web:
        harness.say(
            f"Submission: {submit_repeats} rounds of {submit_seconds:.0f} s per endpoint, "
            f"{submit_connections} connections, {tool}"
        )
        result = measure(
            web=web,
            bodies=bodies,
            seconds=submit_seconds,
            repeats=submit_repeats,
            connections=submit_connections,
            tool=tool,
        )
        described = web.describe()
    harness.bench_redis_clear()
    figure = _figure(
        data=data,
        result=result,
        seconds=submit_seconds,
        connections=submit_connections,
        described=described,
    )
    figure.notes.append(harness.load_note(load_before))
    return [figure]


def _figure(
    *,
    data: harness.DataState,
    result: SubmitResult,
    seconds: float,
    connections: int,
    described: str,
) -> harness.Figure:
    problems = check_failures(result, connections=connections)
    names = [name for name in ENDPOINTS if result.of(name)]
    rate = {e: harness.median([r.rate for r in result.of(e)]) for e in names}
    p95 = {e: harness.median([r.p95 for r in result.of(e)]) for e in names}
    p50 = {e: harness.median([r.p50 for r in result.of(e)]) for e in names}
    rows = []
    for endpoint in names:
        runs = result.of(endpoint)
        rows.append(
            [
                ENDPOINTS[endpoint][2],
                f"{rate[endpoint]:,.0f}",
                harness.seconds(p50[endpoint]),
                harness.seconds(p95[endpoint]),
                f"{sum(r.requests for r in runs):,}",
                ", ".join(f"{r.rate:,.0f}" for r in runs),
                ("OK" if not problems else "FAILED") if endpoint == "submit" else "",
            ]
        )
    for other in names[1:]:
        rows.append(
            [
                f"submit / {other}",
                f"{rate['submit'] / rate[other]:.3f}" if rate[other] else "n/a",
                harness.ratio(p50["submit"], p50[other]),
                harness.ratio(p95["submit"], p95[other]),
                "",
                "",
                "",
            ]
        )
    notes = [
        f"Load: {result.tool_description}, {connections} connections, {seconds:.0f} s per "
        f"run, against {described}; the load tool runs on the same 2 cores as the server "
        "and PostgreSQL.",
        f"Submit: each request one of {BODIES:,} reports drawn by the benchmark generator "
        f"(dated in the last {RECENT_DAYS} days) with a fresh client_uuid, by a reporter's API "
        "key: validation, zones, the history entry, the statistics outbox (triggers) and a "
        "Celery message after commit (to a Redis database no worker reads), in one request. "
        "Trivial: the API's health endpoint (no authentication, no throttle, no database); "
        "/healthz adds one database and one Redis round trip.",
        "Rate: completed requests a second, median of the runs (listed); p50 and p95 latency "
        "from the load tool, median of the runs. Ratio rows: the rates divided (submit / other, "
        "the goal is at least 0.5 against the trivial endpoint) and the latencies divided.",
        f"Check: {result.created:,} reports stored = {result.server_201:,} answers 201 in the "
        f"server's access log; the load tool counted {result.client_201:,} (requests still in "
        "flight when it stopped are answered but not counted); no client UUID stored twice, "
        "no other status; all deleted afterwards"
        + (f". PROBLEMS: {'; '.join(problems)}" if problems else "."),
    ]
    return harness.Figure(
        title=f"Report submission under load, {data.incidents:,} incidents",
        columns=["endpoint", "requests/s", "p50", "p95", "requests", "runs (req/s)", "check"],
        rows=rows,
        notes=notes,
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--incidents", type=int, default=harness.DEFAULT_INCIDENTS)
    parser.add_argument(
        "--submit-seconds", type=float, default=20, help="seconds per load run (submission)"
    )
    parser.add_argument(
        "--submit-repeats", type=int, default=2, help="rounds of runs of every endpoint"
    )
    parser.add_argument(
        "--submit-connections", type=int, default=16, help="concurrent connections of the load"
    )
    parser.add_argument(
        "--load-tool",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="wrk when installed (auto), else a Python thread pool",
    )
    parser.add_argument(
        "--web-workers", type=int, default=server.DEFAULT_WORKERS, help="gunicorn workers"
    )
    parser.add_argument("--seed", type=int, default=1)


def main(argv: list[str] | None = None) -> None:
    harness.figure_main(sys.modules[__name__], argv)


if __name__ == "__main__":
    main()
