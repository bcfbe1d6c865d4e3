"""Load with repeats: many reports at once, some sent again unchanged (a phone that did not hear
the answer) and some sent again with other content under the same client UUID (a conflict).

Goals: nothing lost, nothing stored twice, no server error, every answer as specified, the
stored reports as acknowledged, and the zone statistics equal to a plain GROUP BY afterwards.
"""

from __future__ import annotations

import random

from reliability import checks
from reliability.context import Context, Send, judge, run_concurrently
from reliability.figures import Row, info, latency_rows, zero

NAME = "load"


def plan(
    ctx: Context, rng: random.Random, *, submissions: int, repeats: int, conflicts: int, tag: str
) -> list[Send]:
    """The sends in order: each repeat or conflict comes after its original, at a random distance
    (near ones run at the same time as the original)."""
    originals = submissions - repeats - conflicts
    reporters = ctx.world.reporters(8)
    firsts = [
        Send(actor=rng.choice(reporters), body=ctx.world.report(rng, scenario=tag))
        for _ in range(originals)
    ]
    keyed = [(float(i), send) for i, send in enumerate(firsts)]
    for n in range(repeats + conflicts):
        i = rng.randrange(originals)
        original = firsts[i]
        if n < repeats:
            again = Send(actor=original.actor, body=dict(original.body))
        else:
            body = dict(original.body)
            body["explosions_count"] = (body["explosions_count"] or 0) + 1 + rng.randrange(5)
            again = Send(actor=original.actor, body=body, variant=1)
        keyed.append((rng.uniform(i + 0.5, originals), again))
    keyed.sort(key=lambda pair: pair[0])
    return [send for _, send in keyed]


def run(
    ctx: Context,
    *,
    submissions: int = 2000,
    concurrency: int = 16,
    repeat_share: float = 0.10,
    conflict_share: float = 0.02,
    stats_timeout: float = 180,
) -> list[Row]:
    rng = random.Random(ctx.seed + 1)  # noqa: S311 (test data, not secrets)
    repeats = round(submissions * repeat_share)
    conflicts = round(submissions * conflict_share)
    tag = "load"
    sends = plan(ctx, rng, submissions=submissions, repeats=repeats, conflicts=conflicts, tag=tag)
    wall = run_concurrently(sends, Send.post, concurrency)
    verdict = judge(sends, tag=ctx.world.tag(tag))
    difference, waited = checks.stats_wait_exact(stats_timeout)
    return [
        info(
            NAME,
            f"submissions at concurrency {concurrency}",
            f"{submissions:,} ({submissions - repeats - conflicts:,} new, {repeats:,} exact "
            f"repeats, {conflicts:,} same UUID with another body)",
        ),
        zero(NAME, "reports lost (acknowledged, not stored)", len(verdict.lost), verdict.lost),
        zero(NAME, "reports duplicated", verdict.extra_rows, verdict.duplicated),
        zero(
            NAME,
            "server errors (5xx or no answer)",
            len(verdict.server_errors),
            verdict.server_errors,
        ),
        zero(
            NAME,
            "answers not 201 once / 200 repeat / 409 other body",
            len(verdict.wrong_answers),
            verdict.wrong_answers,
        ),
        zero(
            NAME,
            "stored reports differing from the acknowledged body",
            len(verdict.content_differs),
            verdict.content_differs,
        ),
        *latency_rows(NAME, [r.seconds for s in sends for r in s.replies], wall),
        zero(
            NAME,
            "statistics rows differing from a plain GROUP BY",
            len(difference),
            map(repr, difference),
        ),
        info(NAME, "statistics exact after the last submission", f"{waited:.1f} s"),
    ]
