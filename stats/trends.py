"""Escalation trends: per zone, the last 7 days against the 28 days before them.

A zone is flagged when the week's count of verified incidents is improbably high for its baseline:
under a Poisson model whose weekly rate is the baseline's weekly mean, the chance of seeing at
least that many is below ESCALATION_P_VALUE, and the count reaches ESCALATION_MIN_COUNT (so one
or two incidents in a quiet zone never raise the flag). Counts come from the precomputed zone
statistics, so a trend for every zone is one indexed aggregate.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass

from django.conf import settings
from django.db import connection
from django.utils import timezone
from psycopg2 import sql

RECENT_DAYS = 7
BASELINE_DAYS = 28
# A zone with no incident in its baseline still has some chance of a few: without a floor, one
# incident in a quiet zone would be "infinitely improbable". Half an incident a week.
MIN_WEEKLY_RATE = 0.5

# Verified incidents per zone from the exact statistics, or (`grid`) from the grid statistics,
# which hold verified incidents only, counted by the zones of their grid points.
TRENDS_SQL = """
SELECT z.id, z.pcode, z.kind, z.name_en, z.name_ar,
       COALESCE(sum(s.incidents) FILTER (WHERE s.day > %(baseline_end)s), 0) AS recent,
       COALESCE(sum(s.incidents) FILTER (WHERE s.day <= %(baseline_end)s), 0) AS baseline,
       COALESCE(sum(s.killed) FILTER (WHERE s.day > %(baseline_end)s), 0) AS recent_killed
FROM zones_zone z
LEFT JOIN {stats} s
  ON s.zone_id = z.id AND {verified}
 AND s.day > %(baseline_start)s AND s.day <= %(as_of)s
WHERE (%(kinds)s::text[] IS NULL OR z.kind = ANY(%(kinds)s::text[]))
  AND (%(zone_ids)s::bigint[] IS NULL OR z.id = ANY(%(zone_ids)s::bigint[]))
GROUP BY z.id
ORDER BY z.kind, z.pcode
"""


def verified_stats_sql(template: str, *, grid: bool) -> sql.Composed:
    """A statement over the verified statistics, `{stats} s` and `{verified}` filled in: the
    exact table filtered on verified rows, or the grid table (verified rows only)."""
    if grid:
        return sql.SQL(template).format(
            stats=sql.Identifier("stats_zonedaygridstat"), verified=sql.SQL("true")
        )
    return sql.SQL(template).format(
        stats=sql.Identifier("stats_zonedaystat"),
        verified=sql.SQL("s.review_status = {}").format(sql.Literal("verified")),
    )


@dataclass(frozen=True)
class ZoneTrend:
    zone_id: int
    pcode: str
    kind: str
    name_en: str
    name_ar: str
    as_of: datetime.date
    recent: int
    baseline: int
    recent_killed: int

    @property
    def expected(self) -> float:
        """The weekly count the baseline leads one to expect."""
        return self.baseline * RECENT_DAYS / BASELINE_DAYS

    @property
    def p_value(self) -> float:
        return poisson_tail(self.recent, max(self.expected, MIN_WEEKLY_RATE))

    @property
    def ratio(self) -> float | None:
        return round(self.recent / self.expected, 2) if self.expected else None

    @property
    def escalation(self) -> bool:
        return (
            self.recent >= settings.ESCALATION_MIN_COUNT
            and self.p_value < settings.ESCALATION_P_VALUE
        )


def poisson_tail(k: int, rate: float) -> float:
    """P(X >= k) for X ~ Poisson(rate), accurate in the far tail where 1 - cdf would round to 0."""
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0

    def pmf(i: int) -> float:
        return math.exp(-rate + i * math.log(rate) - math.lgamma(i + 1))

    if k <= rate:
        return max(0.0, 1.0 - sum(pmf(i) for i in range(k)))
    total, i = 0.0, k
    while True:  # terms fall at least geometrically once i > rate
        term = pmf(i)
        total += term
        if term <= total * 1e-15 or term == 0.0:
            return min(1.0, total)
        i += 1


def damascus_today() -> datetime.date:
    return timezone.localdate()  # TIME_ZONE is Asia/Damascus


def zone_trends(
    *,
    as_of: datetime.date | None = None,
    kinds: list[str] | None = None,
    zone_ids: list[int] | None = None,
    grid: bool = False,
) -> list[ZoneTrend]:
    """Trends of every zone (or those of the given kinds or ids) for the week ending `as_of`;
    `grid` for readers who may not see exact locations (counted by the grid points' zones)."""
    as_of = as_of or damascus_today()
    baseline_end = as_of - datetime.timedelta(days=RECENT_DAYS)
    baseline_start = baseline_end - datetime.timedelta(days=BASELINE_DAYS)
    with connection.cursor() as cursor:
        cursor.execute(
            verified_stats_sql(TRENDS_SQL, grid=grid),
            {
                "as_of": as_of,
                "baseline_end": baseline_end,
                "baseline_start": baseline_start,
                "kinds": kinds,
                "zone_ids": zone_ids,
            },
        )
        rows = cursor.fetchall()
    return [
        ZoneTrend(
            zone_id=zone_id,
            pcode=pcode,
            kind=kind,
            name_en=name_en,
            name_ar=name_ar,
            as_of=as_of,
            recent=int(recent),
            baseline=int(baseline),
            recent_killed=int(killed),
        )
        for zone_id, pcode, kind, name_en, name_ar, recent, baseline, killed in rows
    ]
