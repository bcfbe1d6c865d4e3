"""Race: the same report posted several times at the same instant (a phone retrying on several
connections). Exactly one report per client UUID; one 201, the other answers 200; no 5xx."""

from __future__ import annotations

import random
import threading
import time

from reliability.context import Context, Send, judge
from reliability.figures import Row, equal, info, latency_rows, zero

NAME = "race"


def run(ctx: Context, *, uuids: int = 200, copies: int = 8, at_once: int = 2) -> list[Row]:
    """`at_once` UUIDs per round, each posted `copies` times; all threads of a round start
    together behind a barrier."""
    rng = random.Random(ctx.seed + 2)  # noqa: S311 (test data, not secrets)
    tag = "race"
    reporters = ctx.world.reporters(8)
    groups = []
    for _ in range(uuids):
        actor = rng.choice(reporters)
        body = ctx.world.report(rng, scenario=tag)
        groups.append([Send(actor=actor, body=dict(body)) for _ in range(copies)])
    started = time.perf_counter()
    for first in range(0, uuids, at_once):
        round_sends = [send for group in groups[first : first + at_once] for send in group]
        barrier = threading.Barrier(len(round_sends))

        def fire(send: Send, barrier=barrier) -> None:
            barrier.wait()
            send.post()

        threads = [threading.Thread(target=fire, args=(send,)) for send in round_sends]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    wall = time.perf_counter() - started
    sends = [send for group in groups for send in group]
    verdict = judge(sends, tag=ctx.world.tag(tag))
    stored = verdict.sent_uuids - len(verdict.lost) + verdict.extra_rows
    not_once = [
        f"{group[0].uuid}: {sorted(s.final.status for s in group)}"
        for group in groups
        if sorted(s.final.status for s in group) != [200] * (copies - 1) + [201]
    ]
    return [
        info(NAME, "UUIDs x copies posted at once", f"{uuids:,} x {copies} ({at_once} per round)"),
        equal(NAME, "reports stored", stored, uuids),
        zero(NAME, "reports duplicated", verdict.extra_rows, verdict.duplicated),
        zero(NAME, "reports lost", len(verdict.lost), verdict.lost),
        zero(
            NAME,
            "server errors (5xx or no answer)",
            len(verdict.server_errors),
            verdict.server_errors,
        ),
        zero(NAME, "UUIDs not answered one 201 and otherwise 200", len(not_once), not_once),
        *latency_rows(NAME, [r.seconds for s in sends for r in s.replies], wall),
    ]
