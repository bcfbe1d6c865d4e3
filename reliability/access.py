"""Access: every operation, as every role, on one's own and on others' reports, against the rules
of PRODUCT.md: analysts and admins see everything; reporters their own reports; partners verified
reports on the 0.05 degree grid with no reporter identity; anyone else nothing.

Figures: status codes against the rules; leaks (another user's name, an exact location or a
description of a report the reader may not see exactly, a report the reader may not see) found
by scanning every answer to a non-staff reader for the battery's own names, coordinates, words
and ids; writes that refused requests would have made, and server fields that a reporter tried
to set, checked in the database. Last, a partner probes a verified report with many tiny
bounding boxes and radii: the answers must depend on its grid point alone.
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
import random
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field

import mapbox_vector_tile

from reliability import checks, images
from reliability.client import Reply, multipart
from reliability.context import SUBMIT_PATH, Context, run_concurrently
from reliability.figures import Row, check, info, zero
from reliability.world import GRID, ROLES, Actor

NAME = "access"
STAFF = frozenset({"analyst", "admin"})
REPORTERS = frozenset({"reporter_a", "reporter_b"})
SIGNED_OUT = frozenset({"anonymous", "revoked_key"})
READERS = frozenset({"reporter_a", "reporter_b", "analyst", "partner", "admin"})
REPORTING = REPORTERS | STAFF
PARTNER_READERS = STAFF | {"partner"}
INCIDENTS = "/api/v1/incidents/"
TILE_ZOOM = 9
EXTENT = 4096
DAMASCUS = zoneinfo.ZoneInfo("Asia/Damascus")
MARKUP = '<script>alert("rel")</script><img src=x onerror="alert(2)">'
TYPED = "typed"  # starts a word only a report's description holds (typed_marker)
FORMULA = '=HYPERLINK("http://127.0.0.1/x","open")'


def unsafe_text(call: Call) -> list[str]:
    """A page shows users' text escaped; a CSV export starts no cell with a formula."""
    text = call.reply.text()
    if call.op.web and call.reply.ok and ("<script>alert" in text or "<img src=x" in text):
        return [f"{call.ident}: users' markup unescaped in the page"]
    if call.op.name.startswith("export") and call.op.name.endswith("csv") and call.reply.ok:
        cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
        if any(cell.startswith("=HYPERLINK") for cell in cells):
            return [f"{call.ident}: a cell starts with a formula"]
    return []


@dataclass
class Report:
    key: str
    owner: str
    verified: bool
    body: dict

    @property
    def uuid(self) -> str:
        return self.body["client_uuid"]

    @property
    def lon(self) -> float:
        return self.body["location"]["coordinates"][0]

    @property
    def lat(self) -> float:
        return self.body["location"]["coordinates"][1]

    @property
    def typed(self) -> str | None:
        """The word (typed_marker) only its description holds, if the battery put one in."""
        words = str(self.body.get("description", "")).split()
        return next((w for w in words if w.startswith(TYPED)), None)


def sees(role: str, report: Report) -> bool:
    """May this role read the report (PRODUCT.md)?"""
    if role in STAFF:
        return True
    if role in REPORTERS:
        return report.owner == role
    return role == "partner" and report.verified


def sees_exactly(role: str, report: Report) -> bool:
    return role in STAFF or report.owner == role


def searches_text(role: str) -> bool:
    """Whether the role's `q` searches the records' own text (description, typed place name):
    staff's, and reporters' (who read their own reports as written; incidents.disclosure
    `reads_exact`). A partner's `q` runs on the grid view's text: the approved summary and the
    gazetteer's name of the grid point, never the description or the typed place name."""
    return role in STAFF | REPORTERS


def found_by_q(role: str, report: Report) -> bool:
    """Does the scenario's `q` (its token) find this report for the role? The token is in every
    description and in the summary approved when verifying: partners find verified reports by
    their summary (and see no others anyway)."""
    return sees(role, report) and (searches_text(role) or report.verified)


def public(role: str, report: Report) -> bool:
    """What a non-staff reader may meet anywhere: its own reports, and verified reports as
    partners see them (on the grid, e.g. in the daily brief)."""
    return sees(role, report) or (report.verified and role in READERS)


def api_gate(role: str, allowed: frozenset[str]) -> set[int] | None:
    """The status of a caller the API refuses outright, else None."""
    if role in SIGNED_OUT:
        return {401}
    if role not in allowed:
        return {403}
    return None


def page_gate(role: str, allowed: frozenset[str]) -> set[int] | None:
    if role in SIGNED_OUT:
        return {302}  # to the sign-in page
    if role not in allowed:
        return {403}
    return None


# --- geometry ---------------------------------------------------------------------------------


def on_grid(value: float, tolerance: float = 1e-6) -> bool:
    return abs(value / GRID - round(value / GRID)) * GRID <= tolerance


def snapped(value: float) -> float:
    return round(value / GRID) * GRID


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine, mean Earth radius)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


def tile_of(lon: float, lat: float, z: int = TILE_ZOOM) -> tuple[int, int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return z, x, y


def tile_points(body: bytes, z: int, x: int, y: int) -> list[tuple[str, float, float]]:
    """(uuid, lon, lat) of each point in a tile (mapbox_vector_tile decodes with y up)."""
    layers = mapbox_vector_tile.decode(body) if body else {}
    n = 2**z
    points = []
    for feature in layers.get("incidents", {}).get("features", []):
        px, py = feature["geometry"]["coordinates"]
        tx, ty = x + px / EXTENT, y + 1 - py / EXTENT
        lon = tx / n * 360 - 180
        lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))
        points.append((feature["properties"]["uuid"], lon, lat))
    return points


def tile_bounds(z: int, x: int, y: int, *, buffer: float) -> tuple[float, float, float, float]:
    n = 2**z

    def lat(ty: float) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * ty / n))))

    lon0, lon1 = (x - buffer) / n * 360 - 180, (x + 1 + buffer) / n * 360 - 180
    return lon0, lat(y + 1 + buffer), lon1, lat(y - buffer)


def typed_marker(token: str, key: str) -> str:
    """A word only in a report's description: what the reporter typed, which only readers of
    the exact record may meet."""
    return f"{TYPED}{token}{key.replace('-', '')}"


def coordinate_texts(value: float) -> set[str]:
    """How a coordinate reads in text with four or more decimals (truncated or rounded)."""
    return {f"{math.trunc(value * 10_000) / 10_000:.4f}", f"{value:.4f}"}


# --- the setting ------------------------------------------------------------------------------


@dataclass
class Setting:
    ctx: Context
    token: str  # in every report's description: `q` finds this scenario's reports
    reports: dict[str, Report]  # two reporters' reports, submitted and verified
    deciding: dict[str, Report]  # the report each staff role decides on and edits
    # "verified" / "unverified" -> the id of the alert raised on the report's exact point (for
    # staff), and of the one raised on its grid point (for everyone else; alerts.rules)
    alerts: dict[str, str]
    grid_alerts: dict[str, str]
    brief_day: str
    pcode: str  # the verified report's sub-district
    tile: tuple[int, int, int]

    def all_reports(self) -> list[Report]:
        return [*self.reports.values(), *self.deciding.values()]

    @property
    def probed(self) -> Report:
        return self.reports["B-verified"]


def setting_make(ctx: Context) -> Setting:
    """Reports of two reporters, submitted and verified, dated 40-60 days back (no alert rule or
    weekly trend fires for them), an alert for a verified and for an unverified report, and the
    daily brief of the verified report's day."""
    from alerts.models import Alert, AlertBasis, AlertKind
    from briefs.models import DailyBrief
    from briefs.services import brief_build
    from incidents.models import Incident, ReviewStatus
    from incidents.services import incident_review

    world = ctx.world
    rng = random.Random(ctx.seed + 4)  # noqa: S311 (test data, not secrets)
    token = world.marker.replace("-", "") + "access"
    analyst = world.actors["analyst"].user
    places = iter(rng.sample(world.places, 6))

    def make(key: str, owner: str, verify: bool) -> Report:
        # Every report's text carries markup and a spreadsheet formula: pages must escape the
        # one, CSV exports defuse the other.
        description = f"{world.tag(NAME)} {token} {typed_marker(token, key)} {MARKUP}"
        body = world.report(
            rng, scenario=NAME, place=next(places), days_ago=(40, 60), description=description
        )
        body["place_name"] = FORMULA
        body["killed_civilians"] = 1
        reply = world.actors[owner].api.post(SUBMIT_PATH, json=body)
        if reply.status != 201:
            raise RuntimeError(f"could not make {key}: {reply.describe()}")
        if verify:
            incident = Incident.objects.get(client_uuid=body["client_uuid"])
            # Partners read the summary an analyst approves (never the description): it holds
            # the token, so their `q` finds the report, and markup, which pages must escape.
            incident_review(
                incident=incident,
                reviewer=analyst,
                status=ReviewStatus.VERIFIED,
                public_summary=f"{token} {key} summary {MARKUP}",
            )
        return Report(key, owner, verify, body)

    reports = {
        "A-submitted": make("A-submitted", "reporter_a", False),
        "A-verified": make("A-verified", "reporter_a", True),
        "B-submitted": make("B-submitted", "reporter_b", False),
        "B-verified": make("B-verified", "reporter_b", True),
    }
    deciding = {role: make(f"for-{role}", "reporter_b", False) for role in sorted(STAFF)}
    # A rule over incidents raises one alert on the exact point (staff's) and one on the grid
    # point (everyone else's), each a row of its own (alerts.rules).
    alerts, grid_alerts = {}, {}
    for state, key in (("verified", "B-verified"), ("unverified", "B-submitted")):
        incident = Incident.objects.get(client_uuid=reports[key].uuid)
        for basis, ids, prefix in (
            (AlertBasis.EXACT, alerts, ""),
            (AlertBasis.GRID, grid_alerts, "grid:"),
        ):
            alert = Alert.objects.create(
                kind=AlertKind.CORRIDOR,
                key=f"reliability:{prefix}{incident.client_uuid}",
                occurred_at=incident.occurred_at,
                incident=incident,
                basis=basis,
            )
            ids[state] = str(alert.uuid)
    probed = Incident.objects.select_related("subdistrict").get(
        client_uuid=reports["B-verified"].uuid
    )
    day = probed.occurred_at.astimezone(DAMASCUS).date()
    if not DailyBrief.objects.filter(day=day).exists():
        world.cleanups.append(lambda: DailyBrief.objects.filter(day=day).delete())
    brief_build(day)
    for actor in world.actors.values():
        if not actor.password and "csrftoken" not in actor.web.cookies:
            actor.web.get("/accounts/login/")  # a CSRF cookie, as a browser has before a POST
    world.sign_in()
    point = reports["B-verified"]
    return Setting(
        ctx=ctx,
        token=token,
        reports=reports,
        deciding=deciding,
        alerts=alerts,
        grid_alerts=grid_alerts,
        brief_day=day.isoformat(),
        pcode=probed.subdistrict.pcode,
        tile=tile_of(point.lon, point.lat),
    )


# --- operations -------------------------------------------------------------------------------

Expect = Callable[[str, "Report | None"], set[int]]
Content = Callable[[str, "Report | None", Reply], list[str]]


@dataclass
class Op:
    """One operation: its path (of a report, or none), the status the rules give each role, and
    for writes the body; `content` checks a successful answer."""

    name: str
    path: Callable[[Report | None], str]
    expect: Expect
    per_report: bool = False
    method: str = "GET"
    web: bool = False  # a page, with the signed-in session (else the API, with the API key)
    write: str = ""  # "report", "photo", "decision", "classification"
    content: Content | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Call:
    op: Op
    role: str
    report: Report | None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    form: dict[str, str] | None = None
    sent: dict | None = None
    reply: Reply | None = None

    @property
    def ident(self) -> str:
        target = f" of {self.report.key}" if self.report else ""
        return f"{self.op.name}{target} as {self.role}"


def readers(allowed: frozenset[str], ok: int = 200) -> Expect:
    return lambda role, _report: api_gate(role, allowed) or {ok}


def report_readers(allowed: frozenset[str], ok: int = 200) -> Expect:
    def expect(role: str, report: Report) -> set[int]:
        return api_gate(role, allowed) or ({ok} if sees(role, report) else {404})

    return expect


def pages(allowed: frozenset[str], ok: int = 200) -> Expect:
    return lambda role, _report: page_gate(role, allowed) or {ok}


def report_page(role: str, report: Report) -> set[int]:
    if role in SIGNED_OUT:
        return {302}
    if role not in READERS:
        return {403, 404}  # no role: nothing, whichever way it is said
    return {200} if sees(role, report) else {404}


def visible_set(s: Setting, role: str, ids: set[str]) -> list[str]:
    """The battery's reports in an answer (to a request filtered by `q`) are exactly those the
    role may see and its `q` finds."""
    want = {r.uuid for r in s.all_reports() if found_by_q(role, r)}
    got = ids & {r.uuid for r in s.all_reports()}
    keys = {r.uuid: r.key for r in s.all_reports()}
    wrong = sorted(keys[u] for u in want ^ got)
    return [f"reports {wrong} wrongly shown or missing for {role}"] if wrong else []


def operations(s: Setting) -> list[Op]:
    token = s.token

    def listed(role, _report, reply: Reply) -> list[str]:
        return visible_set(s, role, {row["id"] for row in reply.json()["results"]})

    def listed_geojson(role, _report, reply: Reply) -> list[str]:
        features = reply.json()["features"]
        problems = visible_set(s, role, {feature["id"] for feature in features})
        for feature in features:
            lon, lat = feature["geometry"]["coordinates"]
            if role == "partner" and not (on_grid(lon) and on_grid(lat)):
                problems.append(f"feature {feature['id']} off the grid for the partner")
        return problems

    def detail(role, report: Report, reply: Reply) -> list[str]:
        lon, lat = reply.json()["location"]["coordinates"]
        if sees_exactly(role, report):
            if abs(lon - report.lon) > 1e-6 or abs(lat - report.lat) > 1e-6:
                return [f"{role} does not get the exact location of {report.key}"]
            return []
        return [] if on_grid(lon) and on_grid(lat) else [f"{report.key} off the grid for {role}"]

    def tile(role, _report, reply: Reply) -> list[str]:
        """The tile holds the reports the role may see whose shown location falls in it (with
        the tile's buffer), each where the role may see it: staff exactly, partners and other
        readers on the grid, a reporter its own reports either way (map layers use the grid)."""
        minlon, minlat, maxlon, maxlat = tile_bounds(*s.tile, buffer=64 / EXTENT)

        def places(report: Report) -> list[tuple[float, float]]:
            grid = (snapped(report.lon), snapped(report.lat))
            if role in STAFF:
                return [(report.lon, report.lat)]
            return [(report.lon, report.lat), grid] if report.owner == role else [grid]

        def inside(lon: float, lat: float) -> bool:
            return minlon <= lon <= maxlon and minlat <= lat <= maxlat

        must, may, problems = set(), set(), []
        for report in s.all_reports():
            if found_by_q(role, report):
                if all(inside(*p) for p in places(report)):
                    must.add(report.key)
                if any(inside(*p) for p in places(report)):
                    may.add(report.key)
        by_uuid = {r.uuid: r for r in s.all_reports()}
        got = set()
        for uid, lon, lat in tile_points(reply.body, *s.tile):
            report = by_uuid.get(uid)
            if report is None:
                continue
            got.add(report.key)
            off = min(metres(lon, lat, *p) for p in places(report))
            if off > 100:
                problems.append(f"tile puts {report.key} {off:,.0f} m away for {role}")
        if not must <= got <= may:
            problems.append(f"tile for {role} shows {sorted(got)}, the rules say {sorted(must)}")
        return problems

    def clusters(role, _report, reply: Reply) -> list[str]:
        """The count of the reports the role's `q` finds; for partners a count of 1 or 2 is
        withheld (null, stats.privacy), a reporter's count of their own reports is not."""
        want = sum(1 for r in s.all_reports() if found_by_q(role, r))
        if role == "partner" and 0 < want < 3:
            want = None
        got = reply.json()["count"]
        return [] if got == want else [f"clusters count {got} for {role}, the rules say {want}"]

    def small_counts(role, _report, reply: Reply) -> list[str]:
        """Partner-facing counts below 3 are withheld (PRODUCT.md "Do no harm" 5); reporters
        count only their own reports, staff everything."""
        if role != "partner":
            return []
        data = reply.json()
        values = []
        for row in data.get("results", data.get("series", [])):
            values += [row.get(k) for k in ("count", "incidents", "recent", "baseline")]
        small = [v for v in values if isinstance(v, int) and 0 < v < 3]
        return [f"counts below 3 shown to {role}: {small}"] if small else []

    def exported(role, _report, reply: Reply) -> list[str]:
        text = reply.text()
        problems = visible_set(s, role, {r.uuid for r in s.all_reports() if r.uuid in text})
        if searches_text(role):
            if reply.headers.get("content-type", "").startswith("text/csv"):
                cells = {cell for row in csv.reader(io.StringIO(text)) for cell in row}
                if "'" + FORMULA not in cells:  # the control of unsafe_text's formula check
                    problems.append(f"export for {role}: the place name is not in it, defused")
        elif "HYPERLINK" in text:
            # Grid readers get the gazetteer's place name, never the typed one.
            problems.append(f"export for {role}: holds the place name the reporter typed")
        return problems

    def alert_list(role, _report, reply: Reply) -> list[str]:
        """Staff get the alerts raised on exact points, of verified and unverified reports;
        partners only the one raised on the grid point of the verified report."""
        ids = {row["id"] for row in reply.json()["results"]}
        want = set(s.alerts.values()) if role in STAFF else {s.grid_alerts["verified"]}
        got = ids & (set(s.alerts.values()) | set(s.grid_alerts.values()))
        return [] if got == want else [f"alerts {sorted(got)} for {role}, the rules say {want}"]

    def alert_of(state: str, *, grid: bool) -> Op:
        """Staff read the alerts raised on exact points; partners those raised on grid points,
        of verified reports. Any other alert answers 404."""
        if grid:
            allowed = frozenset({"partner"}) if state == "verified" else frozenset()
        else:
            allowed = STAFF

        def expect(role: str, _report) -> set[int]:
            gate = api_gate(role, PARTNER_READERS)
            return gate or ({200} if role in allowed else {404})

        alert = (s.grid_alerts if grid else s.alerts)[state]
        name = f"{'grid ' if grid else ''}alert of a {state} report"
        return Op(name, lambda _r: f"/api/v1/alerts/{alert}/", expect)

    z, x, y = s.tile
    day = s.brief_day
    ops = [
        Op("incident list", lambda _r: f"{INCIDENTS}?q={token}", readers(READERS), content=listed),
        Op(
            "incident list (GeoJSON)",
            lambda _r: f"{INCIDENTS}?q={token}&format=geojson",
            readers(READERS),
            content=listed_geojson,
            headers={"Accept": "application/geo+json"},
        ),
        Op(
            "incident",
            lambda r: f"{INCIDENTS}{r.uuid}/",
            report_readers(READERS),
            True,
            content=detail,
        ),
        Op("history", lambda r: f"{INCIDENTS}{r.uuid}/history/", report_readers(STAFF), True),
        Op(
            "likely duplicates",
            lambda r: f"{INCIDENTS}{r.uuid}/duplicate-candidates/",
            report_readers(STAFF),
            True,
        ),
        Op(
            "submit a report",
            lambda _r: SUBMIT_PATH,
            readers(REPORTING, 201),
            method="POST",
            write="report",
        ),
        Op(
            "changes feed",
            lambda _r: f"{INCIDENTS}changes/?page_size=1000",
            readers(PARTNER_READERS),
        ),
        Op(
            "photos", lambda r: f"{INCIDENTS}{r.uuid}/attachments/", report_readers(REPORTING), True
        ),
        Op(
            "add a photo",
            lambda r: f"{INCIDENTS}{r.uuid}/attachments/",
            report_readers(REPORTING, 201),
            True,
            method="POST",
            write="photo",
        ),
        Op(
            "tile",
            lambda _r: f"/tiles/incidents/{z}/{x}/{y}.pbf?q={token}",
            readers(READERS),
            content=tile,
        ),
        Op(
            "clusters",
            lambda _r: f"{INCIDENTS}clusters/?zoom=8&q={token}",
            readers(READERS),
            content=clusters,
        ),
        Op(
            "counts by sub-district",
            lambda _r: f"{INCIDENTS}by-subdistrict/?q={token}",
            readers(READERS),
            content=small_counts,
        ),
        Op(
            "zone statistics",
            lambda _r: f"/api/v1/zones/{s.pcode}/stats/?from={day}&to={day}",
            readers(READERS),
            content=small_counts,
        ),
        Op(
            "trends",
            lambda _r: f"/api/v1/trends/?as_of={day}",
            readers(READERS),
            content=small_counts,
        ),
        Op(
            "alerts",
            lambda _r: "/api/v1/alerts/?page_size=1000",
            readers(PARTNER_READERS),
            content=alert_list,
        ),
        alert_of("verified", grid=False),
        alert_of("unverified", grid=False),
        alert_of("verified", grid=True),
        alert_of("unverified", grid=True),
        Op("daily briefs", lambda _r: "/api/v1/briefs/", readers(READERS)),
        Op("daily brief", lambda _r: f"/api/v1/briefs/{day}/", readers(READERS)),
        Op("page: review queue", lambda _r: "/review/?page_size=100", pages(STAFF), web=True),
        Op("page: review", lambda r: f"/review/{r.uuid}/", pages(STAFF), True, web=True),
        Op("page: report", lambda r: f"/incidents/{r.uuid}/", report_page, True, web=True),
        Op("page: report form", lambda _r: "/report/", pages(REPORTING), web=True),
        Op("page: my reports", lambda _r: "/report/mine/", pages(REPORTING), web=True),
        Op("page: alerts", lambda _r: "/alerts/", pages(PARTNER_READERS), web=True),
        Op("page: daily briefs", lambda _r: "/briefs/", pages(READERS), web=True),
        Op("page: daily brief", lambda _r: f"/briefs/{day}/", pages(READERS), web=True),
        Op(
            "review decision",
            lambda r: f"/review/{r.uuid}/decide/",
            pages(STAFF, 302),
            True,
            method="POST",
            web=True,
            write="decision",
        ),
        Op(
            "classification edit",
            lambda r: f"/review/{r.uuid}/classify/",
            pages(STAFF, 302),
            True,
            method="POST",
            web=True,
            write="classification",
        ),
    ]
    for export in ("csv", "geojson", "acled.csv"):
        path = f"{INCIDENTS}export.{export}?q={token}"
        ops.append(
            Op(f"export {export}", lambda _r, p=path: p, readers(PARTNER_READERS), content=exported)
        )
    return ops


# --- requests ---------------------------------------------------------------------------------


def classification_form(report: Report, killed: int) -> dict[str, str]:
    """Every field of the classification form, as stored, with civilians killed changed."""
    from incidents.models import SubEventType

    sub_type = SubEventType.objects.get(slug=report.body["sub_event_type"])
    return {
        "time_precision": "day",
        "location_precision": "exact",
        "place_name": report.body["place_name"],
        "sub_event_type": str(sub_type.pk),
        "weapon": "",
        "observation_method": "",
        "perpetrator_side": "unknown",
        "target": "unknown",
        "target_description": "",
        "killed_civilians": str(killed),
        "killed_combatants": str(report.body["killed_combatants"]),
        "injured_civilians": str(report.body["injured_civilians"]),
        "injured_combatants": "0",
    }


def calls_make(s: Setting, ops: list[Op], rng: random.Random) -> list[Call]:
    """Every operation as every role; per report on the four shared reports, except that staff
    decide on and edit reports of their own (so the shared ones keep their state)."""
    calls = []
    photo = 0
    for op in ops:
        for role in ROLES:
            if not op.per_report:
                targets: list[Report | None] = [None]
            elif op.write in ("decision", "classification") and role in STAFF:
                targets = [s.deciding[role]]
            else:
                targets = list(s.reports.values())
            for report in targets:
                call = Call(op, role, report)
                if op.write == "report":
                    call.sent = s.ctx.world.report(rng, scenario=f"{NAME}-submit")
                    call.body = json.dumps(call.sent).encode()
                    call.headers = {"Content-Type": "application/json"}
                elif op.write == "photo":
                    photo += 1
                    call.body, header = multipart(
                        {"file": ("p.jpg", images.distinct_jpeg(100 + photo), "image/jpeg")}
                    )
                    call.headers = {"Content-Type": header}
                elif op.write == "decision":
                    status = (
                        "under_review"
                        if role in STAFF
                        else ("rejected" if report.verified else "verified")
                    )
                    call.form = {"status": status, "note": "reliability battery"}
                elif op.write == "classification":
                    call.form = classification_form(report, 7 if role in STAFF else 9)
                calls.append(call)
    return calls


def send(call: Call, actors: dict[str, Actor]) -> None:
    actor = actors[call.role]
    path = call.op.path(call.report)
    if call.op.web:
        client = actor.web
        if call.form is not None:
            call.reply = client.post_form(path, call.form)
            return
    else:
        client = actor.api
    headers = {**call.op.headers, **call.headers}
    call.reply = client.request(call.op.method, path, body=call.body, headers=headers)


# --- leaks ------------------------------------------------------------------------------------


def leaks(s: Setting, call: Call, usernames: list[str], own: str | None) -> list[str]:
    """What an answer to a non-staff reader must never hold: another user's name, a report the
    reader may not meet, the exact location or the description of a report the reader may not
    see exactly."""
    role, reply = call.role, call.reply
    if role in STAFF or not reply.ok or not reply.body:
        return []
    text = reply.body.decode("utf-8", errors="replace")
    found = []
    for name in usernames:
        if name != own and name in text:
            found.append(f"{call.ident}: names user {name}")
    for report in s.all_reports():
        if not public(role, report) and report.uuid in text:
            found.append(f"{call.ident}: shows {report.key}, which {role} may not see")
        if not sees_exactly(role, report):
            if report.typed and report.typed in text:
                found.append(f"{call.ident}: holds the description of {report.key}")
            lon, lat = coordinate_texts(report.lon), coordinate_texts(report.lat)
            if any(t in text for t in lon) and any(t in text for t in lat):
                found.append(f"{call.ident}: holds the exact location of {report.key}")
    return found


def exact_location_seen(s: Setting, call: Call) -> bool:
    """The control: the scan finds exact locations where they are allowed (staff answers)."""
    text = call.reply.text()
    return any(
        any(t in text for t in coordinate_texts(r.lon))
        and any(t in text for t in coordinate_texts(r.lat))
        for r in s.all_reports()
    )


# --- writes -----------------------------------------------------------------------------------


def writes_judge(s: Setting, calls: list[Call]) -> tuple[list[str], list[str]]:
    """(refused writes that took effect, accepted writes that did not), read from the database."""
    from incidents.models import Attachment, Incident

    took, missing = [], []
    submitted = [c for c in calls if c.op.write == "report"]
    stored = checks.stored(c.sent["client_uuid"] for c in submitted)
    for call in submitted:
        rows = stored.get(call.sent["client_uuid"], [])
        if call.reply.ok and len(rows) != 1:
            missing.append(f"{call.ident}: accepted, {len(rows)} rows")
        elif not call.reply.ok and rows:
            took.append(f"{call.ident}: refused, but stored")
    for report in s.all_reports():
        photos = [c for c in calls if c.op.write == "photo" and c.report is report]
        accepted = sum(1 for c in photos if c.reply.status == 201)
        have = Attachment.objects.filter(incident__client_uuid=report.uuid).count()
        if have != accepted:
            took.append(f"photos of {report.key}: {have} stored, {accepted} accepted")
    rows = {
        str(i.client_uuid): i
        for i in Incident.all_objects.filter(client_uuid__in=[r.uuid for r in s.all_reports()])
    }
    for report in s.reports.values():
        incident = rows[report.uuid]
        status = "verified" if report.verified else "submitted"
        if incident.review_status != status:
            took.append(f"{report.key}: status {incident.review_status} after refused decisions")
        if incident.killed_civilians != 1:
            took.append(f"{report.key}: killed {incident.killed_civilians} after refused edits")
    for role, report in s.deciding.items():
        incident = rows[report.uuid]
        if incident.review_status != "under_review":
            missing.append(f"{role}'s decision on {report.key} not applied")
        if incident.killed_civilians != 7:
            missing.append(f"{role}'s classification edit of {report.key} not applied")
    return took, missing


SERVER_FIELDS = {
    "review_status": "verified",
    "reporter": "admin",
    "reporter_id": 1,
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "verified_at": "2020-01-02T00:00:00Z",
    "reviewed_by": "admin",
    "reviewed_at": "2020-01-02T00:00:00Z",
    "deleted_at": "2020-01-03T00:00:00Z",
    "is_synthetic": True,
    "external_id": "SYR99999",
    "submission_digest": "0" * 64,
    "location_coarse": {"type": "Point", "coordinates": [36.65, 35.8]},
}


def server_fields_try(s: Setting, rng: random.Random) -> tuple[Reply, list[str]]:
    """Reporter A sends a report that also names server fields: refused, naming them, or
    accepted with none of them taking effect."""
    from incidents.models import Incident

    actor = s.ctx.world.actors["reporter_a"]
    body = s.ctx.world.report(rng, scenario=f"{NAME}-server-fields")
    extra = dict(SERVER_FIELDS, duplicate_of=s.reports["B-verified"].uuid)
    extra["id"] = s.reports["B-verified"].uuid
    started = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=1)
    reply = actor.api.post(SUBMIT_PATH, json={**body, **extra})
    incident = Incident.all_objects.filter(client_uuid=body["client_uuid"]).first()
    if incident is None:
        # Refused: then the answer must say why, naming the fields (the client must learn that
        # it did not set them).
        named = reply.json() if reply.status == 400 else {}
        unnamed = [
            f for f in ("review_status", "reporter", "created_at", "verified_at") if f not in named
        ]
        return reply, [f"refused ({reply.status}) without naming {unnamed}"] if unnamed else []
    took = []
    if incident.review_status != "submitted":
        took.append(f"review_status {incident.review_status}")
    if incident.reporter_id != actor.user.pk:
        took.append("reporter")
    if incident.created_at < started or incident.updated_at < started:
        took.append("created_at or updated_at")
    for name in ("verified_at", "reviewed_by_id", "reviewed_at", "deleted_at", "duplicate_of_id"):
        if getattr(incident, name) is not None:
            took.append(name)
    if incident.is_synthetic or incident.external_id:
        took.append("is_synthetic or external_id")
    if incident.submission_digest == "0" * 64:
        took.append("submission_digest")
    return reply, took


# --- probing a location -----------------------------------------------------------------------


@dataclass
class Probe:
    kind: str  # "bbox" or "near"
    lon: float
    lat: float
    params: dict[str, str]
    contains_grid_point: bool
    reply: Reply | None = None


def probes_make(s: Setting, span: int, box: float = 0.001, radius_m: float = 300) -> list[Probe]:
    """Tiny boxes and circles centred on a lattice that covers the grid cell around the probed
    report's grid point (so some hold the grid point), and on its exact point."""
    report = s.probed
    gx, gy = snapped(report.lon), snapped(report.lat)
    step = GRID / 2 / span
    centres = [
        (gx + i * step, gy + j * step)
        for i in range(-span, span + 1)
        for j in range(-span, span + 1)
    ]
    centres += [(report.lon, report.lat), (report.lon + box / 3, report.lat - box / 3)]
    probes = []
    for lon, lat in centres:
        half = box / 2
        bbox = f"{lon - half:.7f},{lat - half:.7f},{lon + half:.7f},{lat + half:.7f}"
        holds = lon - half <= gx <= lon + half and lat - half <= gy <= lat + half
        probes.append(Probe("bbox", lon, lat, {"bbox": bbox}, holds))
        distance = metres(lon, lat, gx, gy)
        if abs(distance - radius_m) > 5:  # skip circles whose edge grazes the grid point
            near = {"near": f"{lon:.7f},{lat:.7f}", "radius_m": str(radius_m)}
            probes.append(Probe("near", lon, lat, near, distance <= radius_m))
    for probe in probes:
        probe.params["q"] = s.token
    return probes


def probes_judge(s: Setting, probes: list[Probe]) -> tuple[list[str], float, float]:
    """(answers that depend on more than the grid point, the error of the best estimate of the
    exact point from the answers, the error of the grid point itself), in metres."""
    report = s.probed
    mismatches, hits = [], []
    for probe in probes:
        found = report.uuid in {row["id"] for row in probe.reply.json()["results"]}
        if found != probe.contains_grid_point:
            mismatches.append(
                f"{probe.kind} at {probe.lon:.4f},{probe.lat:.4f}: found={found}, "
                f"holds the grid point={probe.contains_grid_point}"
            )
        if found:
            hits.append((probe.lon, probe.lat))
    gx, gy = snapped(report.lon), snapped(report.lat)
    grid_error = metres(gx, gy, report.lon, report.lat)
    if not hits or len(hits) == len(probes):
        # All answers alike: they tell nothing beyond the grid point (which the partner reads in
        # the record), so that is the best estimate.
        return mismatches, grid_error, grid_error
    ex = sum(lon for lon, _ in hits) / len(hits)
    ey = sum(lat for _, lat in hits) / len(hits)
    return mismatches, metres(ex, ey, report.lon, report.lat), grid_error


# --- the scenario -----------------------------------------------------------------------------


def run(ctx: Context, *, probe_span: int = 5, concurrency: int = 4) -> list[Row]:
    rng = random.Random(ctx.seed + 5)  # noqa: S311 (test data, not secrets)
    s = setting_make(ctx)
    ops = operations(s)
    calls = calls_make(s, ops, rng)
    actors = ctx.world.actors
    reads = [c for c in calls if not c.op.write]
    writes = [c for c in calls if c.op.write]
    run_concurrently(reads, lambda call: send(call, actors), concurrency)
    for call in writes:  # writes in order: photos per report stay under the limit
        send(call, actors)

    wrong_status, content, server_errors = [], [], []
    for call in calls:
        want = call.op.expect(call.role, call.report)
        if call.reply.failed:
            server_errors.append(f"{call.ident}: {call.reply.describe()}")
        elif call.reply.status not in want:
            wrong_status.append(f"{call.ident}: {call.reply.status}, the rules say {sorted(want)}")
        elif call.reply.ok and call.op.content:
            content += call.op.content(call.role, call.report, call.reply)
        if not call.reply.failed:
            content += unsafe_text(call)
    usernames = [user.get_username() for user in ctx.world.users]
    found = [
        line for call in calls for line in leaks(s, call, usernames, actors[call.role].username)
    ]
    analyst_lists = [c for c in calls if c.role == "analyst" and c.op.name == "incident list"]
    control = any(exact_location_seen(s, c) for c in analyst_lists)
    took, missing = writes_judge(s, calls)
    reply, fields_took = server_fields_try(s, rng)

    probes = probes_make(s, probe_span)
    partner = actors["partner"].api
    run_concurrently(
        probes, lambda p: setattr(p, "reply", partner.get(INCIDENTS, params=p.params)), concurrency
    )
    probe_errors = [f"probe {p.params}: {p.reply.describe()}" for p in probes if not p.reply.ok]
    mismatches, estimate_error, grid_error = probes_judge(s, [p for p in probes if p.reply.ok])
    # The best estimate may beat the grid point by at most half a probe box's diagonal.
    slack = metres(0, 0, 0.0005, 0.0005)
    not_closer = estimate_error >= grid_error - slack
    roles = len(ROLES)
    return [
        info(
            NAME,
            "requests",
            f"{len(calls):,} ({len(ops)} operations x {roles} roles, "
            "per report on own and others' reports)",
        ),
        zero(
            NAME,
            "server errors (5xx or no answer)",
            len(server_errors + probe_errors),
            server_errors + probe_errors,
        ),
        zero(
            NAME, "answers with another status than the rules give", len(wrong_status), wrong_status
        ),
        zero(NAME, "answers with other content than the rules give", len(content), content),
        zero(
            NAME,
            "leaks to non-staff (user names, hidden reports, exact locations)",
            len(found),
            found,
        ),
        check(
            NAME,
            "the leak scan finds exact locations in an analyst's list (control)",
            control,
            "yes" if control else "no",
            "yes",
        ),
        zero(
            NAME,
            "refused writes that took effect (reports, photos, decisions, edits)",
            len(took),
            took,
        ),
        zero(NAME, "accepted writes that did not take effect", len(missing), missing),
        info(
            NAME,
            "a reporter's POST naming review_status, reporter, created_at, verified_at",
            f"{reply.status} ({'refused' if not reply.ok else 'accepted, fields ignored'})",
        ),
        zero(
            NAME,
            "server fields a reporter sent that took effect (or were refused unnamed)",
            len(fields_took),
            fields_took,
        ),
        info(
            NAME,
            "partner probes around a verified report (0.001 degree boxes, 300 m radii)",
            f"{len(probes):,}",
        ),
        zero(
            NAME,
            "probe answers depending on more than the 0.05 degree grid point",
            len(mismatches),
            mismatches,
        ),
        check(
            NAME,
            "best estimate of the exact point from the probes (m)",
            not_closer,
            f"{estimate_error:,.0f} m (grid point: {grid_error:,.0f} m)",
            "no closer than the grid point",
        ),
    ]
