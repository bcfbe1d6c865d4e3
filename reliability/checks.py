"""Checks that do not trust the code under test: rows counted in the database by client UUID, and
the zone statistics compared with the plain GROUP BY of tests/stats/helpers.py."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection

from stats.services import stats_pending_count
from tests.stats.helpers import actual, expected

STORED_SQL = """
SELECT i.client_uuid::text, i.occurred_at, ST_X(i.location), ST_Y(i.location), s.slug,
       i.explosions_count, i.killed_civilians, i.injured_civilians, i.killed_combatants,
       i.description, u.username
FROM incidents_incident i
JOIN incidents_subeventtype s ON s.id = i.sub_event_type_id
LEFT JOIN auth_user u ON u.id = i.reporter_id
WHERE i.client_uuid = ANY(%s::uuid[])
"""


@dataclass(frozen=True)
class Stored:
    client_uuid: str
    occurred_at: datetime.datetime
    lon: float
    lat: float
    sub_event_type: str
    explosions_count: int | None
    killed_civilians: int
    injured_civilians: int
    killed_combatants: int
    description: str
    reporter: str | None

    def differences(self, body: dict, reporter: str | None) -> list[str]:
        """The fields where this row is not what the body said (and who sent it)."""
        sent_at = datetime.datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
        lon, lat = body["location"]["coordinates"]
        pairs = {
            "occurred_at": (self.occurred_at == sent_at),
            "location": abs(self.lon - lon) < 1e-7 and abs(self.lat - lat) < 1e-7,
            "sub_event_type": self.sub_event_type == body["sub_event_type"],
            "explosions_count": self.explosions_count == body.get("explosions_count"),
            "killed_civilians": self.killed_civilians == body.get("killed_civilians", 0),
            "injured_civilians": self.injured_civilians == body.get("injured_civilians", 0),
            "killed_combatants": self.killed_combatants == body.get("killed_combatants", 0),
            "description": self.description == body.get("description", ""),
            "reporter": self.reporter == reporter,
        }
        return [name for name, same in pairs.items() if not same]


def fresh_connection() -> None:
    """Drop Django's connection (after a database restart it is dead); the next query opens one."""
    connection.close()


def stored(uuids: Iterable[str]) -> dict[str, list[Stored]]:
    """Every stored row (deleted ones too) for these client UUIDs, by UUID."""
    found: dict[str, list[Stored]] = {}
    wanted = sorted(set(uuids))
    for start in range(0, len(wanted), 5000):
        with connection.cursor() as cursor:
            cursor.execute(STORED_SQL, [wanted[start : start + 5000]])
            for row in cursor.fetchall():
                found.setdefault(row[0], []).append(Stored(*row))
    return found


def rows_tagged(tag: str) -> int:
    """Rows whose description carries a scenario's tag, whatever their client UUID."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM incidents_incident WHERE strpos(description, %s) > 0", [tag]
        )
        return cursor.fetchone()[0]


def stats_difference() -> list[tuple]:
    """Rows of the statistics table that a plain GROUP BY over the incidents does not give, and
    rows of the GROUP BY missing from the table."""
    want, have = set(expected()), set(actual())
    return sorted(want ^ have, key=repr)


def stats_wait_exact(timeout: float) -> tuple[list[tuple], float]:
    """Wait until the worker has drained the outbox and the statistics equal the GROUP BY.
    Returns the differing rows when time ran out (else []) and the seconds waited."""
    started = time.monotonic()
    difference: list[tuple] = []
    while True:
        if stats_pending_count() == 0:
            difference = stats_difference()
            if not difference:
                return [], time.monotonic() - started
        if time.monotonic() - started > timeout:
            return difference or [("outbox not drained", stats_pending_count())], (
                time.monotonic() - started
            )
        time.sleep(0.5)
