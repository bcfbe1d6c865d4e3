"""SQL statements longer than a screen live in `<app>/sql/<name>.sql`; this is the one helper
that reads them (STYLE.md, "SQL"). Values go in as parameters, identifiers through psycopg2.sql."""

from __future__ import annotations

from functools import cache
from importlib import import_module
from pathlib import Path


@cache
def sql_text(package: str, name: str) -> str:
    """The text of `<package>/sql/<name>.sql`, read once per process."""
    module = import_module(package)
    return (Path(module.__file__).resolve().parent / "sql" / f"{name}.sql").read_text("utf-8")
