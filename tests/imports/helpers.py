"""ACLED-format CSV files for the import tests, written with the csv module from row dicts."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from incidents.exports import ACLED_COLUMNS
from tests.factories import ARIHA

# A valid ACLED event at Ariha (in the M4 corridor); tests override what they need.
BASE_ROW = {
    "event_id_cnty": "SYR0001",
    "event_date": "2021-03-10",
    "year": "2021",
    "time_precision": "1",
    "disorder_type": "Political violence",
    "event_type": "Explosions/Remote violence",
    "sub_event_type": "Shelling/artillery/missile attack",
    "actor1": "Military Forces of Syria (2000-)",
    "inter1": "1",
    "interaction": "10",
    "civilian_targeting": "",
    "iso": "760",
    "region": "Middle East",
    "country": "Syria",
    "admin1": "Idleb",
    "location": "Ariha",
    "latitude": f"{ARIHA[1]:.4f}",
    "longitude": f"{ARIHA[0]:.4f}",
    "geo_precision": "1",
    "source": "SOHR; Local council",
    "source_scale": "National",
    "notes": "Regime forces shelled the western edge of Ariha.",
    "fatalities": "2",
    "tags": "",
    "timestamp": "1615400000",
}


def acled_row(**values) -> dict:
    return {**BASE_ROW, **values}


def acled_rows(count: int, *, prefix: str = "SYR", **values) -> list[dict]:
    return [acled_row(event_id_cnty=f"{prefix}{n:05d}", **values) for n in range(1, count + 1)]


def acled_text(rows: list[dict], columns: list[str] | None = None) -> str:
    columns = list(columns or ACLED_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(column, "") for column in columns])
    return buffer.getvalue()


def write_acled(path: Path, rows: list[dict], columns: list[str] | None = None) -> Path:
    path.write_text(acled_text(rows, columns), encoding="utf-8")
    return path
