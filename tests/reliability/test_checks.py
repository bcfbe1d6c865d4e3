"""The battery's own judges catch what they are there to catch: each is fed a failure here."""

import json
import uuid
from types import SimpleNamespace

import pytest
from rest_framework.test import APIClient

from reliability.access import Call, Op, Probe, Report, leaks, probes_judge, snapped
from reliability.bad_input import ACCEPT, EITHER, REFUSE, Case
from reliability.client import Reply
from reliability.context import Send, judge
from reliability.figures import percentile
from reliability.world import Actor
from tests.factories import ARIHA


def reply(status: int, data=None) -> Reply:
    return Reply(status=status, body=json.dumps(data or {}).encode())


def body(tag: str, **overrides) -> dict:
    return {
        "client_uuid": str(uuid.uuid4()),
        "occurred_at": "2021-03-01T10:00:00Z",
        "location": {"type": "Point", "coordinates": list(ARIHA)},
        "sub_event_type": "air-drone-strike",
        "explosions_count": 1,
        "killed_civilians": 0,
        "injured_civilians": 0,
        "killed_combatants": 0,
        "description": f"{tag} report",
        **overrides,
    }


@pytest.mark.django_db
def test_judge_finds_lost_reports_wrong_answers_server_errors_and_changed_content(
    reference_data, users
):
    reporter = Actor(role="reporter_a", api=None, web=None, user=users["reporter_a"])
    client = APIClient()
    client.force_authenticate(users["reporter_a"])
    tag = "[rel-test:judge]"
    stored = body(tag)
    assert client.post("/api/v1/incidents/", stored, format="json").status_code == 201
    never_stored = body(tag)
    changed = body(tag)
    client.post("/api/v1/incidents/", changed, format="json")
    sends = [
        Send(reporter, stored, replies=[reply(201)]),
        Send(reporter, dict(stored), replies=[reply(409)]),  # the same body: 200 was due
        Send(reporter, never_stored, replies=[reply(201)]),
        Send(reporter, body(tag), replies=[reply(502)]),
        Send(reporter, {**changed, "explosions_count": 9}, replies=[reply(201)]),
    ]
    verdict = judge(sends, tag=tag)
    assert verdict.lost == [never_stored["client_uuid"]]
    assert verdict.wrong_answers == [f"{stored['client_uuid']} variant 0: 409"]
    assert len(verdict.server_errors) == 1
    assert verdict.content_differs == [f"{changed['client_uuid']}: explosions_count"]
    assert verdict.extra_rows == 0


def probe(report: Report, found: bool, holds: bool) -> Probe:
    results = [{"id": report.uuid}] if found else []
    return Probe("bbox", report.lon, report.lat, {}, holds, reply(200, {"results": results}))


def test_probes_that_find_a_report_by_its_exact_point_are_counted_and_locate_it():
    report = Report(
        "probed",
        "reporter_b",
        True,
        body("", location={"type": "Point", "coordinates": [36.6112, 35.8137]}),
    )
    grid = Report("grid", "reporter_b", True, dict(report.body))
    grid.body["location"] = {"type": "Point", "coordinates": [snapped(36.6112), snapped(35.8137)]}
    setting = SimpleNamespace(probed=report)
    honest = [probe(grid, True, True), probe(report, False, False)]
    mismatches, estimate, grid_error = probes_judge(setting, honest)
    assert mismatches == [] and estimate == pytest.approx(grid_error)
    leaking = [probe(grid, False, True), probe(report, True, False)]
    mismatches, estimate, grid_error = probes_judge(setting, leaking)
    assert len(mismatches) == 2 and estimate < 1 < grid_error


def test_the_leak_scan_finds_names_hidden_reports_and_exact_locations():
    hidden = Report(
        "hidden",
        "reporter_b",
        False,
        body("", location={"type": "Point", "coordinates": [36.61123, 35.81374]}),
    )
    setting = SimpleNamespace(all_reports=lambda: [hidden])
    op = Op("list", lambda _r: "/", lambda _role, _r: {200})
    text = f"rel-x-reporter_b {hidden.uuid} [36.611230, 35.813740]"
    call = Call(op, "partner", None, reply=Reply(200, text.encode()))
    found = leaks(setting, call, ["rel-x-reporter_b", "rel-x-partner"], "rel-x-partner")
    assert len(found) == 3
    call.reply = Reply(200, b"[36.6, 35.8] rel-x-partner")
    assert leaks(setting, call, ["rel-x-reporter_b", "rel-x-partner"], "rel-x-partner") == []


@pytest.mark.parametrize(
    ("expect", "status", "unexpected"),
    [
        (REFUSE, 201, True),
        (REFUSE, 400, False),
        (ACCEPT, 400, True),
        (ACCEPT, 200, False),
        (EITHER, 404, False),
        (REFUSE, 500, False),  # counted as a server error instead
    ],
)
def test_a_bad_input_case_knows_an_unexpected_answer(expect, status, unexpected):
    case = Case("c", "n", "GET", "/", expect=expect, reply=Reply(status))
    assert case.unexpected() is unexpected


def test_percentiles_are_nearest_rank():
    values = list(range(1, 101))
    assert (percentile(values, 0.5), percentile(values, 0.95), percentile(values, 0.99)) == (
        50,
        95,
        99,
    )
    assert percentile([4, 1, 3, 2], 0.5) == 2
