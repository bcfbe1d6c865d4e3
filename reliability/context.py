"""What every scenario is given, and the submission bookkeeping the load-like scenarios share."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from reliability import checks
from reliability.client import Reply
from reliability.processes import PrivateRedis
from reliability.stack import ReliabilityStack
from reliability.world import Actor, World

SUBMIT_PATH = "/api/v1/incidents/"


@dataclass
class Context:
    stack: ReliabilityStack
    redis: PrivateRedis
    world: World
    seed: int = 2020
    database_url: str = ""

    @property
    def base_url(self) -> str:
        return self.stack.base_url


@dataclass
class Send:
    """One submission: who sends which body (variant 0 is the report, 1 another body for the
    same client UUID), and what came back."""

    actor: Actor
    body: dict
    variant: int = 0
    replies: list[Reply] = field(default_factory=list)
    started: list[float] = field(default_factory=list)

    @property
    def uuid(self) -> str:
        return self.body["client_uuid"]

    @property
    def final(self) -> Reply | None:
        return self.replies[-1] if self.replies else None

    def post(self) -> Reply:
        self.started.append(time.monotonic())
        reply = self.actor.api.post(SUBMIT_PATH, json=self.body, timeout=60)
        self.replies.append(reply)
        return reply


def run_concurrently(items: Sequence, work: Callable, concurrency: int) -> float:
    """Run work(item) for every item on `concurrency` threads; returns the wall-clock seconds."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for _ in pool.map(work, items):
            pass
    return time.perf_counter() - started


@dataclass
class Verdict:
    """What the database and the answers say about a set of submissions."""

    sent_uuids: int
    lost: list[str]
    extra_rows: int
    duplicated: list[str]
    wrong_answers: list[str]
    content_differs: list[str]
    server_errors: list[str]


def judge(sends: Iterable[Send], *, tag: str) -> Verdict:
    """Check submissions against the database: every acknowledged UUID stored exactly once, with
    the content of the body that created it; answers as specified (one 201 per UUID, 200 for the
    same body again, 409 for another body); no row carrying the tag beyond one per UUID."""
    sends = list(sends)
    by_uuid: dict[str, list[Send]] = {}
    for send in sends:
        by_uuid.setdefault(send.uuid, []).append(send)
    rows = checks.stored(by_uuid)
    lost, duplicated, wrong, differs, errors = [], [], [], [], []
    for send in sends:
        for reply in send.replies:
            if reply.failed:
                errors.append(f"{send.uuid}: {reply.describe()}")
    for client_uuid, group in by_uuid.items():
        acknowledged = any(s.final and s.final.status in (200, 201) for s in group)
        stored_rows = rows.get(client_uuid, [])
        if acknowledged and not stored_rows:
            lost.append(client_uuid)
        if len(stored_rows) > 1:
            duplicated.append(client_uuid)
        creators = [s for s in group for r in s.replies if r.status == 201]
        finals = [s.final.status for s in group if s.final]
        if len(creators) > 1:
            wrong.append(f"{client_uuid}: {len(creators)} answers 201")
        # Which body won: the one answered 201, else (its answer lost in an outage) the stored.
        winner = creators[0].variant if creators else None
        if winner is None and stored_rows:
            matching = [
                s for s in group if not stored_rows[0].differences(s.body, s.actor.username)
            ]
            winner = matching[0].variant if matching else None
        for send in group:
            status = send.final.status if send.final else None
            if status in (0, None) or (status and status >= 500):
                continue  # counted as a server error
            same = send.variant == winner
            if (same and status not in (200, 201)) or (not same and status != 409):
                wrong.append(f"{client_uuid} variant {send.variant}: {status}")
        if stored_rows and winner is not None:
            body_sender = next(s for s in group if s.variant == winner)
            diff = stored_rows[0].differences(body_sender.body, body_sender.actor.username)
            if diff:
                differs.append(f"{client_uuid}: {', '.join(diff)}")
        elif stored_rows and finals:
            differs.append(f"{client_uuid}: stored content matches no body sent")
    # A second row for a report could carry another UUID: count every row with the tag.
    tagged = checks.rows_tagged(tag)
    stored_count = sum(1 for u in by_uuid if rows.get(u))
    extra = sum(len(r) - 1 for r in rows.values()) + max(0, tagged - stored_count)
    if tagged > stored_count:
        duplicated.append(f"{tagged - stored_count} rows with the tag beyond one per UUID")
    return Verdict(len(by_uuid), lost, extra, duplicated, wrong, differs, errors)
