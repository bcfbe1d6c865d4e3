"""Rows of figures and the table they make: each row says what was measured, its value, the goal
and whether the goal was met (figures without a goal, such as latencies, are only reported)."""

from __future__ import annotations

import datetime
import os
import platform
import shutil
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Row:
    scenario: str
    name: str
    value: str
    goal: str = ""
    ok: bool | None = None  # None: a figure without a goal
    details: tuple[str, ...] = field(default=(), compare=False)

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "-"}[self.ok]


def zero(scenario: str, name: str, count: int, details: Iterable[str] = ()) -> Row:
    """A count that must be zero; `details` name the offending cases (the first few are kept)."""
    return Row(scenario, name, f"{count:,}", "0", count == 0, tuple(list(details)[:20]))


def equal(scenario: str, name: str, value: int, goal: int, details: Iterable[str] = ()) -> Row:
    return Row(scenario, name, f"{value:,}", f"{goal:,}", value == goal, tuple(list(details)[:20]))


def at_least(scenario: str, name: str, value: float, goal: float, unit: str = "") -> Row:
    return Row(scenario, name, f"{value:,g}{unit}", f">= {goal:,g}{unit}", value >= goal)


def at_most(scenario: str, name: str, value: float, goal: float, unit: str = "") -> Row:
    return Row(scenario, name, f"{value:,.1f}{unit}", f"<= {goal:,g}{unit}", value <= goal)


def check(scenario: str, name: str, passed: bool, value: str, goal: str) -> Row:
    return Row(scenario, name, value, goal, passed)


def info(scenario: str, name: str, value: str) -> Row:
    return Row(scenario, name, value)


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (no interpolation: the value a request actually took)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, round(fraction * len(ordered) + 0.5 - 1e-9))
    return ordered[min(rank, len(ordered)) - 1]


def latency_rows(scenario: str, seconds: Sequence[float], wall: float) -> list[Row]:
    """p50/p95/p99 of request times and requests per second over the wall-clock time."""
    ms = [s * 1000 for s in seconds]
    return [
        info(
            scenario,
            "latency p50 / p95 / p99",
            f"{percentile(ms, 0.50):.0f} / {percentile(ms, 0.95):.0f} / "
            f"{percentile(ms, 0.99):.0f} ms",
        ),
        info(scenario, "requests per second", f"{len(seconds) / wall:.1f}" if wall else "n/a"),
    ]


def markdown(rows: Sequence[Row]) -> str:
    lines = ["| scenario | figure | value | goal | result |", "|---|---|---|---|---|"]
    for row in rows:
        cells = (row.scenario, row.name, row.value, row.goal or "-", row.result)
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    return "\n".join(lines)


def failure_details(rows: Sequence[Row]) -> list[str]:
    """Lines naming what went wrong, for the rows that failed."""
    out = []
    for row in rows:
        if row.ok is False:
            out.append(f"- {row.scenario}: {row.name} = {row.value} (goal {row.goal})")
            out += [f"    - {detail}" for detail in row.details]
    return out


def machine_lines() -> list[str]:
    """The machine, Python and PostgreSQL the figures were measured on."""
    from django.db import connection

    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), postgis_lib_version()")
        postgres, postgis = cursor.fetchone()
    try:
        command = [shutil.which("redis-server") or "redis-server", "--version"]
        redis = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        redis = "Redis " + redis.stdout.split()[2].removeprefix("v=")
    except (OSError, IndexError):
        redis = "unknown"
    return [
        f"Run at {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC on "
        f"{platform.node() or 'this machine'}",
        f"CPU: {cpu}, {os.cpu_count()} cores; memory {memory}; {platform.platform()}",
        f"Python {platform.python_version()}; {postgres.split(' on ')[0]}, PostGIS {postgis}; "
        f"{redis}",
    ]
