"""Bad input: hundreds of hostile or malformed requests against every endpoint that takes input.

Each case says whether it must be refused (a 4xx), accepted (a 2xx) or may be either; the goals
are no server error at all, nothing stored from a refused request (checked in the database by
client UUID, and by the photos' rows and files), every accepted report stored once and as sent,
and the answers as expected. A GPS-tagged photo is accepted and its stored file has no EXIF.
"""

from __future__ import annotations

import base64
import datetime
import io
import json
import random
import uuid
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

from django.conf import settings
from django.db import connection
from PIL import Image

from reliability import checks, images
from reliability.client import Reply, multipart
from reliability.context import SUBMIT_PATH, Context, run_concurrently
from reliability.figures import Row, info, zero

NAME = "bad_input"
REFUSE, ACCEPT, EITHER = "refuse", "accept", "either"
INCIDENTS = "/api/v1/incidents/"
NUL = "a\x00b"
BIDI = "\u202eevil\u202c \u2066isolate\u2069 \u200fmark"

# Strings that break out of SQL, HTML, templates, paths or shells when a program is careless.
INJECTIONS = (
    "' OR '1'='1",
    "1; DROP TABLE incidents_incident; --",
    "1 UNION SELECT username, password FROM auth_user --",
    "' AND pg_sleep(5) --",
    "<script>alert(1)</script>",
    "{{7*7}}${7*7}<%= 7*7 %>",
    "../../../../etc/passwd",
    "${jndi:ldap://127.0.0.1/a}",
    "; cat /etc/passwd",
    '{"$where": "1"}',
)

MALFORMED_JSON = (
    ("open brace", b"{"),
    ("unterminated member", b'{"client_uuid":'),
    ("open array", b"[1,2"),
    ("bare word", b"nul"),
    ("single quotes", b"{'a': 1}"),
    ("trailing comma", b'{"a": 1,}'),
    ("missing colon", b'{"a" 1}'),
    ("not UTF-8", b"\xff\xfe\xfd{"),
    ("empty", b""),
    ("whitespace", b"   "),
    ("empty object", b"{}"),
    ("array", b"[]"),
    ("string", b'"report"'),
    ("number", b"123"),
    ("true", b"true"),
    ("null", b"null"),
    ("byte order mark", "\ufeff{}".encode()),
    ("comment", b'{"a": 1 /* c */}'),
    ("two documents", b"{}{}"),
)

# Coordinates of a Point that must be refused: not numbers, out of range, outside the area.
BAD_COORDINATES = (
    ("NaN as text", ["NaN", 35.8]),
    ("numbers as text", ["36.6", "35.8"]),
    ("booleans", [True, False]),
    ("nulls", [None, None]),
    ("one number", [36.6]),
    ("four numbers", [36.6, 35.8, 0, 0]),
    ("longitude 181", [181, 35.8]),
    ("latitude 91", [36.6, 91]),
    ("longitude -181", [-181, 35.8]),
    ("latitude -91", [36.6, -91]),
    ("1e300", [1e300, 1e300]),
    ("null island", [0, 0]),
    ("negative zero", [-0.0, -0.0]),
    ("Damascus", [36.2913, 33.5132]),
    ("Beirut", [35.5018, 33.8938]),
    ("Ankara", [32.8597, 39.9334]),
    ("Raqqa", [39.0094, 35.9594]),
    ("Mediterranean", [35.6, 35.2]),
    ("an object", {"lon": 36.6, "lat": 35.8}),
    ("a string", "36.6,35.8"),
)
# Raw JSON numbers that Python's parser turns into non-finite floats (or refuses).
NON_FINITE = (("NaN", "NaN"), ("Infinity", "Infinity"), ("-Infinity", "-Infinity"))
NON_FINITE += (("1e309 (overflows to infinity)", "1e309"),)

BAD_DATES = (
    ("year 9999", "9999-12-31T23:59:59Z"),
    ("30 February", "2021-02-30T10:00:00Z"),
    ("month 13", "2021-13-01T10:00:00Z"),
    ("hour 25", "2021-03-01T25:00:00Z"),
    ("offset +99:00", "2021-03-01T10:00:00+99:00"),
    ("a word", "yesterday"),
    ("empty", ""),
    ("null", None),
    ("unix seconds", 1614592800),
    ("a list", ["2021-03-01"]),
    ("10,000 characters", "2021-03-01T10:00:00Z" + "9" * 9980),
    ("slashes", "01/03/2021 10:00"),
)
# Dates the product has no rule against: refused or accepted, never a server error.
ODD_DATES = (
    ("year 1", "0001-01-01T00:00:00Z"),
    ("year 1 at +05:00", "0001-01-01T00:00:00+05:00"),
    ("1900", "1900-01-01T00:00:00Z"),
    ("1970", "1970-01-01T00:00:00Z"),
    ("2011", "2011-03-15T00:00:00Z"),
    ("date only", "2021-03-01"),
    ("nanoseconds", "2021-03-01T10:00:00.123456789Z"),
    ("ISO week date", "2021-W09-1T10:00"),
    ("offset +14:00", "2021-03-01T10:00:00+14:00"),
    ("offset -23:59", "2021-03-01T10:00:00-23:59"),
)

BAD_FIELDS = (
    ("killed -1", {"killed_civilians": -1}),
    ("killed 10,001", {"killed_civilians": 10_001}),
    ("killed 1.5", {"killed_civilians": 1.5}),
    ("killed as a word", {"killed_civilians": "two"}),
    ("killed null", {"killed_civilians": None}),
    ("killed true", {"killed_civilians": True}),
    ("killed 1e100", {"killed_civilians": 1e100}),
    ("killed 2^63", {"killed_civilians": 2**63}),
    ("killed a list", {"killed_civilians": [1]}),
    ("explosions -1", {"explosions_count": -1}),
    ("explosions 100,001", {"explosions_count": 100_001}),
    ("distance -1", {"distance_estimate_m": -1}),
    ("unknown sub-event type", {"sub_event_type": "tea-party"}),
    ("sub-event type empty", {"sub_event_type": ""}),
    ("sub-event type null", {"sub_event_type": None}),
    ("sub-event type a number", {"sub_event_type": 7}),
    ("sub-event type a list", {"sub_event_type": ["air-drone-strike"]}),
    ("sub-event type upper case", {"sub_event_type": "AIR-DRONE-STRIKE"}),
    ("time precision unknown", {"time_precision": "century"}),
    ("perpetrator unknown", {"perpetrator_side": "aliens"}),
    ("weapon unknown", {"weapon": "laser"}),
    ("direction unknown", {"direction": "XX"}),
    ("description a list", {"description": ["a"]}),
    ("description an object", {"description": {"a": 1}}),
    ("description true", {"description": True}),
    ("sources a string", {"sources": "one source"}),
    ("sources of objects", {"sources": [{"a": 1}]}),
    ("client_uuid not a UUID", {"client_uuid": "not-a-uuid"}),
    ("client_uuid null", {"client_uuid": None}),
    ("client_uuid empty", {"client_uuid": ""}),
    ("client_uuid too long", {"client_uuid": "0" * 10_000}),
    ("client_uuid a list", {"client_uuid": [1]}),
)
# Other spellings of a UUID (and DRF's reading of an integer as one): either answer is fine.
UUID_FORMS = (
    ("client_uuid without dashes", lambda u: u.hex),
    ("client_uuid in braces", lambda u: "{" + str(u) + "}"),
    ("client_uuid upper case", lambda u: str(u).upper()),
    ("client_uuid as a URN", lambda u: u.urn),
    ("client_uuid as an integer", lambda u: u.int),
)

BAD_BOXES = (
    "1,2,3",
    "1,2,3,4,5",
    "a,b,c,d",
    "NaN,NaN,NaN,NaN",
    "inf,0,1,1",
    "1e309,35,37,36",
    "-181,0,0,1",
    "0,-91,1,0",
    "0,0,181,1",
    "0,0,1,91",
    "37,36,36,35",
    "36,36,37,35",
    "0x1p3,35,37,36",
    "1_000,35,37,36",
    ",,,",
    "36 35 37 36",
    "36;35;37;36",
    "36.6,35.8,36.7," + "9" * 5000,
)
GOOD_BOXES = ("", "36.6,35.8,36.6,35.8", "-180,-90,180,90", " 36.6, 35.8, 36.7, 35.9")
BAD_NEAR = (
    {"near": "a,b"},
    {"near": "200,0"},
    {"near": "36.6"},
    {"near": "NaN,NaN"},
    {"near": "36.6,35.8", "radius_m": "0"},
    {"near": "36.6,35.8", "radius_m": "-1"},
    {"near": "36.6,35.8", "radius_m": "100001"},
    {"near": "36.6,35.8", "radius_m": "NaN"},
    {"near": "36.6,35.8", "radius_m": "inf"},
    {"near": "36.6,35.8", "radius_m": "1e309"},
    {"near": "36.6,35.8", "radius_m": "many"},
    {"radius_m": "x"},
)
BAD_WHEN = (
    "2021-02-30",
    "yesterday",
    "2021-03-01T10:00:00+99:00",
    "2021-03-01T10:00:00+24:00",
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-15:00",
    "1" * 1000,
)
GOOD_WHEN = ("0001-01-01", "9999-12-31", "2021-03-01T10:00:00+15:59", "2021-03-01T10:00:00")
BAD_ORDERINGS = ("id", "-id", "location", "reporter__username", "", "occurred_at,id", "?")
UNKNOWN_FILTERS = (
    {"foo": "1"},
    {"occured_after": "2021-01-01"},
    {"bbox[]": "1"},
    {"limit": "10"},
    {"offset": "10"},
    {"search": "x"},
    {"__class__": "x"},
    {"reporter": "admin"},
    {"review_status__in": "verified"},
)
CODE_FILTERS = ("type", "sub_type", "review_status", "zone", "in_corridor")
LIST_PARAMS = (
    "bbox",
    "near",
    "radius_m",
    "occurred_after",
    "occurred_before",
    "updated_since",
    "type",
    "sub_type",
    "review_status",
    "zone",
    "in_corridor",
    "ordering",
    "page_size",
    "cursor",
)


@dataclass
class Case:
    category: str
    name: str
    method: str
    path: str
    actor: str = "analyst"
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    expect: str = REFUSE
    client_uuid: str | None = None  # a submission: stored if and only if accepted
    sent: dict | None = None  # its body, to compare with what was stored
    upload_to: str | None = None  # the report a photo goes to
    verify: Callable[[Reply], list[str]] | None = None
    reply: Reply | None = None

    @property
    def ident(self) -> str:
        return f"{self.category}: {self.name}"

    def unexpected(self) -> bool:
        reply = self.reply
        if reply is None or reply.failed:
            return False  # counted as a server error
        if self.expect == REFUSE:
            return not 400 <= reply.status < 500
        if self.expect == ACCEPT:
            return not reply.ok
        return False


def canonical_uuid(value) -> str | None:
    try:
        if isinstance(value, int) and not isinstance(value, bool):
            return str(uuid.UUID(int=value))
        return str(uuid.UUID(value)) if isinstance(value, str) else None
    except ValueError:
        return None


def with_raw(body: dict, **tokens: str) -> bytes:
    """The body as JSON with "@name@" placeholders replaced by raw text (NaN, 1e309, ...)."""
    text = json.dumps(body)
    for name, raw in tokens.items():
        text = text.replace(f'"@{name}@"', raw)
    return text.encode()


def cursor_of(token) -> str:
    raw = token if isinstance(token, bytes) else json.dumps(token).encode()
    return base64.urlsafe_b64encode(raw).decode()


class Cases:
    """The list of cases; `submit`, `get` and `upload` each add one."""

    def __init__(self, ctx: Context, rng: random.Random):
        self.ctx = ctx
        self.rng = rng
        self.items: list[Case] = []

    def body(self, **overrides) -> dict:
        return self.ctx.world.report(self.rng, scenario=NAME, **overrides)

    def submit(
        self,
        category: str,
        name: str,
        body: dict | None = None,
        *,
        expect: str = REFUSE,
        raw: bytes | None = None,
        verify=None,
        content_type: str = "application/json",
        compare: bool = True,
        **overrides,
    ) -> Case:
        """A submission by the battery's own reporter: a body (a fresh report with overrides)
        or raw bytes that carry `body`'s client UUID. `compare`: an accepted body must be stored
        field for field."""
        body = body if body is not None else self.body(**overrides)
        if raw is None:
            raw = json.dumps(body).encode()  # \\u escapes: lone surrogates reach the server
        case = Case(
            category,
            name,
            "POST",
            SUBMIT_PATH,
            actor="bad_input_reporter",
            body=raw,
            headers={"Content-Type": content_type} if content_type else {},
            expect=expect,
            client_uuid=canonical_uuid(body.get("client_uuid")),
            sent=body if compare and body else None,
            verify=verify,
        )
        self.items.append(case)
        return case

    def get(
        self,
        category: str,
        name: str,
        path: str,
        params: dict | None = None,
        *,
        expect: str = REFUSE,
        actor: str = "analyst",
        verify=None,
        headers: dict | None = None,
    ) -> Case:
        query = "?" + urlencode(params, quote_via=quote) if params else ""
        case = Case(
            category,
            name,
            "GET",
            path + query,
            actor=actor,
            expect=expect,
            verify=verify,
            headers=headers or {},
        )
        self.items.append(case)
        return case

    def upload(
        self,
        name: str,
        to: str,
        content: bytes = b"",
        *,
        expect: str = REFUSE,
        file_name: str = "photo.jpg",
        content_type: str = "image/jpeg",
        verify=None,
        raw: bytes | None = None,
        header: str | None = None,
    ) -> Case:
        if raw is None:
            raw, header = multipart({"file": (file_name, content, content_type)})
        case = Case(
            "uploads",
            name,
            "POST",
            f"{INCIDENTS}{to}/attachments/",
            actor="upload_reporter",
            body=raw,
            headers={"Content-Type": header} if header else {},
            expect=expect,
            upload_to=to,
            verify=verify,
        )
        self.items.append(case)
        return case


# --- checks on accepted answers ---------------------------------------------------------------


def stored_text(field_name: str, expected: str) -> Callable[[Reply], list[str]]:
    """The accepted report's field holds exactly the text that was sent."""

    def verify(reply: Reply) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {field_name} FROM incidents_incident WHERE client_uuid = %s",  # noqa: S608
                [reply.json()["id"]],
            )
            row = cursor.fetchone()
        if row is None or row[0] != expected:
            return [f"{field_name} stored as {row and row[0][:60]!r}"]
        return []

    return verify


def stored_time(expected: datetime.datetime) -> Callable[[Reply], list[str]]:
    def verify(reply: Reply) -> list[str]:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT occurred_at FROM incidents_incident WHERE client_uuid = %s",
                [reply.json()["id"]],
            )
            (stored,) = cursor.fetchone()
        return [] if stored == expected else [f"occurred_at stored as {stored.isoformat()}"]

    return verify


def page_at_most(limit: int) -> Callable[[Reply], list[str]]:
    def verify(reply: Reply) -> list[str]:
        results = reply.json().get("results", [])
        return [] if len(results) <= limit else [f"{len(results)} results on one page"]

    return verify


def clean_photo(*, rotated_from: tuple[int, int] | None = None) -> Callable[[Reply], list[str]]:
    """The stored file (read from disk) has no EXIF and none of the metadata's secrets."""

    def verify(reply: Reply) -> list[str]:
        from incidents.models import Attachment

        attachment = Attachment.objects.get(pk=reply.json()["id"])
        path = Path(settings.MEDIA_ROOT) / attachment.file.name
        data = path.read_bytes()
        problems = [f"stored file contains {s!r}" for s in images.SECRETS if s in data]
        if b"Exif\x00\x00" in data:
            problems.append("stored file has an EXIF block")
        if images.ZIP_TAIL[:12] in data:
            problems.append("stored file kept the appended archive")
        with Image.open(io.BytesIO(data)) as image:
            if image.getexif():
                problems.append(f"stored EXIF tags: {sorted(image.getexif())}")
            if rotated_from and image.size != rotated_from[::-1]:
                problems.append(f"not turned upright: {image.size}")
        if not path.resolve().is_relative_to(Path(settings.MEDIA_ROOT).resolve()):
            problems.append(f"stored outside MEDIA_ROOT: {path}")
        return problems

    return verify


# --- the cases --------------------------------------------------------------------------------


def swapped_towns(count: int) -> list[tuple[str, float, float]]:
    """Towns whose (latitude, longitude) read as (longitude, latitude) falls outside the four
    governorates (found in the zones table, not by the code under test)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT l.name_en, ST_X(l.location), ST_Y(l.location) FROM zones_locality l
            WHERE NOT EXISTS (
                SELECT 1 FROM zones_zone z
                WHERE z.kind = 'governorate' AND ST_Covers(
                    z.geom, ST_SetSRID(ST_MakePoint(ST_Y(l.location), ST_X(l.location)), 4326))
            )
            ORDER BY l.wof_id LIMIT %s
            """,
            [count],
        )
        return cursor.fetchall()


BORDER_PLACES_SQL = """
WITH edges AS (SELECT ST_Boundary(geom) AS edge FROM zones_zone WHERE kind = 'governorate')
SELECT l.name_en, ST_X(l.location), ST_Y(l.location)
FROM zones_locality l CROSS JOIN edges e
WHERE EXISTS (
    SELECT 1 FROM zones_zone z WHERE z.kind = 'subdistrict' AND ST_Covers(z.geom, l.location)
)
GROUP BY l.id
ORDER BY min(ST_Distance(l.location, e.edge)), l.wof_id
LIMIT %s
"""


def border_places(count: int) -> list[tuple[str, float, float]]:
    """Gazetteer villages inside a sub-district that lie nearest a governorate's edge."""
    with connection.cursor() as cursor:
        cursor.execute(BORDER_PLACES_SQL, [count])
        return cursor.fetchall()


def json_cases(c: Cases) -> None:
    for name, raw in MALFORMED_JSON:
        c.submit("malformed JSON", name, body={}, raw=raw)
    valid = c.body()
    c.submit("malformed JSON", "truncated report", body=valid, raw=json.dumps(valid)[:-7].encode())
    dup = c.body()
    c.submit(
        "malformed JSON",
        "duplicate keys (the last wins)",
        body=dup,
        expect=EITHER,
        raw=('{"sub_event_type": "no-such-type", ' + json.dumps(dup)[1:]).encode(),
    )

    form = c.body()
    flat = urlencode({k: str(v) for k, v in form.items()}).encode()
    kind = "application/x-www-form-urlencoded"
    c.submit("content type", "form-encoded", body=form, raw=flat, content_type=kind)
    for content_type in ("text/plain", "application/xml", ""):
        c.submit("content type", content_type or "none", content_type=content_type)
    b = c.body()
    raw = json.dumps(b).encode("utf-16")
    kind = "application/json; charset=utf-16"
    c.submit("content type", "UTF-16", body=b, expect=EITHER, raw=raw, content_type=kind)

    for depth in (100, 1_000, 10_000, 100_000):
        for shape, opening, closing in (("arrays", b"[", b"]"), ("objects", b'{"a":', b"}")):
            b = c.body()
            inner = b"1" if shape == "objects" else b""
            raw = json.dumps(b)[:-1].encode() + b', "x": '
            raw += opening * depth + inner + closing * depth + b"}"
            name = f"{shape} {depth:,} deep in an extra member"
            c.submit("nested JSON", name, body=b, expect=EITHER, raw=raw)
    for depth in (5, 50, 5_000):
        b = c.body()
        pair = json.dumps(b["location"]["coordinates"])
        raw = json.dumps(b).replace(pair, "[" * depth + pair + "]" * depth).encode()
        c.submit("nested JSON", f"coordinates {depth:,} deep", body=b, raw=raw)

    t = "huge body"
    c.submit(t, "description of 3,000,000 characters", description="x" * 3_000_000)
    # A report is a few kB: a body past Django's DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is refused
    # whatever it holds.
    for mb in (3, 30):
        b = c.body()
        raw = json.dumps({**b, "padding": "x" * (mb * 2**20)}).encode()
        c.submit(t, f"{mb} MB in an unknown member", body=b, raw=raw)
    b = c.body()
    c.submit(t, "30 MB of spaces after a report", body=b, raw=json.dumps(b).encode() + b" " * 2**25)
    c.submit(t, "100,000 sources", sources=["s"] * 100_000)
    b = c.body()
    raw = json.dumps({**b, **{f"k{i}": i for i in range(200_000)}}).encode()
    c.submit(t, "200,000 unknown members", body=b, raw=raw)


def location_cases(c: Cases) -> None:
    t = "coordinates"
    for name, token in NON_FINITE:
        for axis in (0, 1):
            b = c.body()
            b["location"]["coordinates"][axis] = "@n@"
            label = ("longitude", "latitude")[axis]
            c.submit(t, f"{label} {name} literal", body=b, raw=with_raw(b, n=token))
    for name, coordinates in BAD_COORDINATES:
        b = c.body()
        b["location"]["coordinates"] = coordinates
        c.submit(t, name, body=b)
    # GeoJSON allows a third number (altitude): stored in 2D or refused, never a server error.
    b = c.body()
    b["location"]["coordinates"].append(250.0)
    c.submit(t, "with an altitude", body=b, expect=EITHER, compare=False)
    b = c.body()
    lon, lat = b["location"]["coordinates"]
    b["location"]["coordinates"] = [lon + 1e-13, lat - 1e-13]
    c.submit(t, "sub-nanodegree digits", body=b, expect=ACCEPT)
    for name, lon, lat in swapped_towns(20):
        b = c.body()
        b["location"]["coordinates"] = [lat, lon]
        c.submit(t, f"swapped: {name}", body=b)
    # Not bad at all: villages of the gazetteer, in a sub-district, close to an edge of the area.
    for name, lon, lat in border_places(12):
        b = c.body(place_name=name)
        b["location"]["coordinates"] = [lon, lat]
        c.submit("border places", f"village {name}", body=b, expect=ACCEPT)

    t = "geometry"
    x, y = c.body()["location"]["coordinates"]
    point = [x, y]
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
    bowtie = [[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]

    def crs(kind: str, properties: dict) -> dict:
        return {
            "type": "Point",
            "coordinates": point,
            "crs": {"type": kind, "properties": properties},
        }

    geometries = (
        ("null", None),
        ("empty string", ""),
        ("WKT", f"POINT({x} {y})"),
        ("a number", 36),
        ("a bare pair", point),
        ("empty object", {}),
        ("no coordinates", {"type": "Point"}),
        ("empty coordinates", {"type": "Point", "coordinates": []}),
        ("null coordinates", {"type": "Point", "coordinates": None}),
        ("coordinates an object", {"type": "Point", "coordinates": {"x": 1}}),
        ("no type", {"coordinates": point}),
        ("lower-case type", {"type": "point", "coordinates": point}),
        ("type a number", {"type": 1, "coordinates": point}),
        ("Feature", {"type": "Feature", "geometry": {"type": "Point", "coordinates": point}}),
        ("FeatureCollection", {"type": "FeatureCollection", "features": []}),
        ("GeometryCollection", {"type": "GeometryCollection", "geometries": []}),
        ("MultiPoint", {"type": "MultiPoint", "coordinates": [point, point]}),
        ("LineString", {"type": "LineString", "coordinates": [point, [x + 0.01, y]]}),
        ("Polygon", {"type": "Polygon", "coordinates": [ring]}),
        ("self-crossing Polygon", {"type": "Polygon", "coordinates": [bowtie]}),
        ("empty MultiPolygon", {"type": "MultiPolygon", "coordinates": []}),
        ("crs EPSG:4326", crs("name", {"name": "EPSG:4326"})),
        ("crs EPSG:3857", crs("name", {"name": "EPSG:3857"})),
        ("crs CRS84", crs("name", {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"})),
        ("crs linking a file", crs("link", {"href": "file:///etc/passwd", "type": "proj4"})),
        ("crs null", {"type": "Point", "coordinates": point, "crs": None}),
    )
    for name, location in geometries:
        c.submit(t, name, location=location)
    bbox = {"type": "Point", "coordinates": point, "bbox": point + point}
    c.submit(t, "a bbox member (RFC 7946 allows it)", expect=EITHER, location=bbox)


def date_and_text_cases(c: Cases) -> None:
    t = "dates"
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)

    def iso(moment: datetime.datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    for name, delta in (("an hour ahead", 1 / 24), ("a day ahead", 1), ("a year ahead", 366)):
        c.submit(t, name, occurred_at=iso(now + datetime.timedelta(days=delta)), compare=False)
    for name, value in BAD_DATES:
        c.submit(t, name, occurred_at=value, compare=False)
    ahead = iso(now + datetime.timedelta(minutes=2))
    c.submit(t, "two minutes ahead (a phone's clock)", expect=ACCEPT, occurred_at=ahead)
    for name, value in ODD_DATES:
        c.submit(t, f"far past or odd: {name}", expect=EITHER, occurred_at=value, compare=False)
    naive = datetime.datetime(2021, 3, 1, 10, 0)
    c.submit(
        t,
        "without a zone (read as Damascus time)",
        expect=ACCEPT,
        occurred_at=naive.isoformat(),
        compare=False,
        verify=stored_time(naive.replace(tzinfo=zoneinfo.ZoneInfo("Asia/Damascus"))),
    )

    t = "text"
    tag = c.ctx.world.tag(NAME)
    for field_name in ("description", "place_name", "target_description"):
        c.submit(t, f"NUL in {field_name}", **{field_name: NUL})
        c.submit(t, f"lone surrogate in {field_name}", **{field_name: "a\ud800b"})
        text = f"{tag} {BIDI}" if field_name == "description" else BIDI
        verify = stored_text(field_name, text)
        name = f"bidi controls in {field_name}"
        c.submit(t, name, expect=ACCEPT, verify=verify, **{field_name: text})
    c.submit(t, "NUL in a source", sources=["ok", NUL])
    accepted = (
        ("10,000 characters", tag + "x" * (10_000 - len(tag))),
        ("10,000 Arabic characters", tag + "ق" * (10_000 - len(tag))),
        ("script markup", f"{tag} <script>alert('x')</script>"),
        ("HTML attributes", f'{tag} <img src=x onerror="alert(1)"> <a href="javascript:1">'),
        ("template markup", f"{tag} {{{{ request.user }}}} {{% debug %}} ${{7*7}}"),
        ("emoji and joiners", f"{tag} 💥👨‍👩‍👧 \u200d\u200c"),
        ("control characters", f"{tag} \x01\x07\x1b[31m\x7f"),
        ("noncharacters", f"{tag} \ufffe\uffff"),
        ("Arabic with diacritics", f"{tag} قَصْفٌ عَلَى أَرِيحَا"),
    )
    for name, text in accepted:
        verify = stored_text("description", text)
        c.submit(t, f"description: {name}", expect=ACCEPT, description=text, verify=verify)
    c.submit(t, "description: 10,001 characters", description=tag + "x" * (10_001 - len(tag)))
    c.submit(t, "place name: 200 characters", expect=ACCEPT, place_name="p" * 200)
    c.submit(t, "place name: 201 characters", place_name="p" * 201)
    c.submit(t, "target description: 301 characters", target_description="t" * 301)
    c.submit(t, "20 sources", expect=ACCEPT, sources=[f"source {i}" for i in range(20)])
    c.submit(t, "21 sources", sources=[f"source {i}" for i in range(21)])
    c.submit(t, "a source of 501 characters", sources=["s" * 501])
    markup = "<b onmouseover=alert(1)>Ariha</b>"
    verify = stored_text("place_name", markup)
    c.submit(t, "place name with markup", expect=ACCEPT, place_name=markup, verify=verify)

    t = "types"
    for name, overrides in BAD_FIELDS:
        c.submit(t, name, **overrides)
    b = c.body()
    del b["client_uuid"]
    c.submit(t, "client_uuid missing", body=b)
    for name, spelling in UUID_FORMS:
        b = c.body()
        canonical = uuid.UUID(b["client_uuid"])
        b["client_uuid"] = spelling(canonical)
        case = c.submit(t, name, body=b, expect=EITHER, compare=False)
        case.client_uuid = str(canonical)
    c.submit(t, "killed as a numeric string", expect=ACCEPT, killed_civilians="2", compare=False)
    c.submit(t, "description a number", expect=EITHER, description=123, compare=False)

    t = "injection"
    for text in INJECTIONS:
        short = repr(text[:24])
        for field_name in ("place_name", "target_description"):
            verify = stored_text(field_name, text)
            name = f"{field_name} {short}"
            c.submit(t, name, expect=ACCEPT, verify=verify, **{field_name: text})
        verify = stored_text("description", f"{tag} {text}")
        name = f"description {short}"
        c.submit(t, name, expect=ACCEPT, verify=verify, description=f"{tag} {text}")
        for field_name in ("sub_event_type", "weapon", "time_precision", "client_uuid"):
            c.submit(t, f"{field_name} {short}", **{field_name: text})


def list_cases(c: Cases) -> None:
    for actor in ("analyst", "partner"):
        for box in BAD_BOXES:
            name = f"{actor}: bbox={box[:30]!r}"
            c.get("bounding boxes", name, INCIDENTS, {"bbox": box}, actor=actor)
        for box in GOOD_BOXES:
            name = f"{actor}: bbox={box!r}"
            c.get("bounding boxes", name, INCIDENTS, {"bbox": box}, expect=ACCEPT, actor=actor)

    for params in BAD_NEAR:
        c.get("near", urlencode(params), INCIDENTS, params)
    tiny = {"near": "36.6,35.8", "radius_m": "1e-300"}
    c.get("near", "the smallest radius", INCIDENTS, tiny, expect=ACCEPT)

    for name in ("occurred_after", "occurred_before", "updated_since"):
        for value in BAD_WHEN:
            # A long run of digits is a "basic format" date for Python's fromisoformat.
            expect = EITHER if value.isdigit() else REFUSE
            c.get("date filters", f"{name}={value[:30]}", INCIDENTS, {name: value}, expect=expect)
        for value in GOOD_WHEN:
            c.get("date filters", f"{name}={value}", INCIDENTS, {name: value}, expect=ACCEPT)

    for value in ("0", "-1", "abc", "1.5", "", "1e9"):
        c.get("page sizes", f"page_size={value!r}", INCIDENTS, {"page_size": value})
    for value in ("1001", "1000000", "9" * 30):
        params = {"page_size": value}
        verify = page_at_most(1000)
        name = f"page_size={value[:12]}"
        c.get("page sizes", name, INCIDENTS, params, expect=ACCEPT, verify=verify)

    t = "ordering and cursors"
    for value in BAD_ORDERINGS:
        c.get(t, f"ordering={value!r}", INCIDENTS, {"ordering": value})
    when = "2021-01-01T00:00:00+00:00"
    cursors = (
        ("not base64", "!!!"),
        ("base64 of text", cursor_of(b"hello")),
        ("a list", cursor_of([1, 2])),
        ("no id", cursor_of({"o": "-occurred_at", "v": when})),
        ("another ordering", cursor_of({"o": "updated_at", "v": when, "id": 1})),
        ("id not a number", cursor_of({"o": "-occurred_at", "v": when, "id": "x"})),
        ("value not a date", cursor_of({"o": "-occurred_at", "v": "x", "id": 1})),
    )
    for name, value in cursors:
        c.get(t, f"cursor: {name}", INCIDENTS, {"cursor": value})
    odd = (
        ("id 10^30", when, 10**30),
        ("offset +23:00", "2021-01-01T00:00:00+23:00", 1),
        ("offset -23:59", "2021-01-01T00:00:00-23:59", 1),
        ("year 1 at +14:00", "0001-01-01T00:00:00+14:00", 1),
    )
    for name, value, pk in odd:
        token = cursor_of({"o": "-occurred_at", "v": value, "id": pk})
        c.get(t, f"cursor: {name}", INCIDENTS, {"cursor": token}, expect=EITHER)

    for params in UNKNOWN_FILTERS:
        c.get("unknown filters", urlencode(params), INCIDENTS, params)
        name = f"export.csv {urlencode(params)}"
        c.get("unknown filters", name, INCIDENTS + "export.csv", params)
    c.get("unknown filters", "format=xml", INCIDENTS, {"format": "xml"})

    for name in CODE_FILTERS:
        for value in (",,,", "x" * 5000, NUL, "unknown-code"):
            c.get("codes", f"{name}={value[:20]!r}", INCIDENTS, {name: value})
    c.get("codes", "q of 201 characters", INCIDENTS, {"q": "q" * 201})
    c.get("codes", "q with NUL", INCIDENTS, {"q": NUL})
    c.get("codes", "q of bidi controls", INCIDENTS, {"q": BIDI}, expect=ACCEPT)


def injection_query_cases(c: Cases, pcode: str) -> None:
    t = "injection"
    stats = f"/api/v1/zones/{pcode}/stats/"
    for text in INJECTIONS:
        short = repr(text[:20])
        for name in LIST_PARAMS:
            params = {name: text, **({"near": "36.6,35.8"} if name == "radius_m" else {})}
            c.get(t, f"incidents {name}={short}", INCIDENTS, params)
        for actor in ("analyst", "partner"):
            name = f"{actor}: incidents q={short}"
            c.get(t, name, INCIDENTS, {"q": text}, expect=ACCEPT, actor=actor)
        tile = "/tiles/incidents/9/308/201.pbf"
        c.get(t, f"tile zone={short}", tile, {"zone": text})
        c.get(t, f"export ordering={short}", INCIDENTS + "export.csv", {"ordering": text})
        c.get(t, f"clusters zoom={short}", INCIDENTS + "clusters/", {"zoom": text})
        for name in ("from", "interval", "review_status"):
            c.get(t, f"stats {name}={short}", stats, {name: text})
        # An unknown sub-event type or zone in these filters matches nothing.
        c.get(t, f"stats sub_type={short}", stats, {"sub_type": text}, expect=EITHER)
        c.get(t, f"alerts zone={short}", "/api/v1/alerts/", {"zone": text}, expect=EITHER)
        for path, name in (
            ("/api/v1/trends/", "as_of"),
            ("/api/v1/trends/", "kind"),
            ("/api/v1/alerts/", "kind"),
            ("/api/v1/alerts/", "since"),
            (INCIDENTS + "changes/", "since"),
        ):
            c.get(t, f"{path} {name}={short}", path, {name: text})
        segment = quote(text, safe="")
        c.get(t, f"zone stats of P-code {short}", f"/api/v1/zones/{segment}/stats/")
        c.get(t, f"brief of day {short}", f"/api/v1/briefs/{segment}/")
        c.get(t, f"incident of id {short}", f"{INCIDENTS}{segment}/")


def endpoint_cases(c: Cases, pcode: str) -> None:
    tile = "/tiles/incidents/9/308/201.pbf"
    for z, x, y in ((23, 0, 0), (9, 512, 0), (9, 0, 512), (30, 1, 1), (99999999999, 0, 0)):
        c.get("tiles", f"tile {z}/{x}/{y}", f"/tiles/incidents/{z}/{x}/{y}.pbf")
    for path in ("/tiles/incidents/-1/0/0.pbf", "/tiles/incidents/a/b/c.pbf", tile[:-3] + "png"):
        c.get("tiles", path, path)
    for params in ({"occurred_after": "x"}, {"bbox": "NaN,1,2,3"}, {"q": NUL}, {"type": "x"}):
        c.get("tiles", f"tile {urlencode(params)}", tile, params)
    # A valid box, and the page size that every list allows, are fine on a tile.
    for params in ({"bbox": "1,2,3,4"}, {"page_size": "5"}):
        c.get("tiles", f"tile {urlencode(params)}", tile, params, expect=EITHER)
    etag = {"If-None-Match": '"' + "x" * 5000 + '"'}
    c.get("tiles", "a garbage If-None-Match", tile, expect=ACCEPT, headers=etag)

    for export in ("export.csv", "export.geojson", "export.acled.csv"):
        for params in (
            {"page_size": "10"},
            {"cursor": "x"},
            {"ordering": "id"},
            {"zone": NUL},
            {"occurred_after": "0001-01-01T00:00:00+01:00"},
            {"bbox": "NaN,0,1,1"},
        ):
            c.get("exports", f"{export} {urlencode(params)}", INCIDENTS + export, params)
        # The export is a file whatever the format parameter says.
        c.get(
            "exports", f"{export} format=xml", INCIDENTS + export, {"format": "xml"}, expect=EITHER
        )

    clusters = INCIDENTS + "clusters/"
    for params in (
        {},
        {"zoom": "-1"},
        {"zoom": "21"},
        {"zoom": "abc"},
        {"zoom": "9" * 40},
        {"zoom": "20", "bbox": "-180,-90,180,90"},
        {"zoom": "8", "bbox": "NaN,0,1,1"},
        {"zoom": "8", "bbox": "inf,0,1,1"},
        {"zoom": "8", "q": NUL},
    ):
        c.get("maps", f"clusters {urlencode(params)}", clusters, params)
    box = {"zoom": "20", "bbox": "36.6,35.8,36.6,35.8"}
    c.get("maps", "clusters at zoom 20 in a point-sized box", clusters, box, expect=ACCEPT)
    for params in ({"bbox": "x"}, {"zone": NUL}, {"foo": "1"}):
        path = INCIDENTS + "by-subdistrict/"
        c.get("maps", f"by-subdistrict {urlencode(params)}", path, params)

    stats = f"/api/v1/zones/{pcode}/stats/"
    for params in (
        {"from": "2021-02-30"},
        {"to": "x"},
        {"from": "2021-03-02", "to": "2021-03-01"},
        {"interval": "year"},
        {"from": "0001-01-01", "to": "9999-12-31"},
        {"review_status": "maybe"},
        {"sub_type": NUL},
        {"foo": "1"},
        {"from": "2021-01-01T00:00:00"},
    ):
        c.get("statistics", f"stats {urlencode(params)[:40]}", stats, params)
    for params in (
        {"from": "0001-01-01", "to": "0001-01-31"},
        {"from": "9999-12-01", "to": "9999-12-31", "interval": "month"},
        {"from": "2021-01-01", "to": "2021-12-31", "interval": "week"},
    ):
        for actor in ("analyst", "partner"):
            name = f"{actor}: stats {urlencode(params)}"
            c.get("statistics", name, stats, params, expect=ACCEPT, actor=actor)
    for path in (
        "/api/v1/zones/NOPE/stats/",
        f"/api/v1/zones/{quote(NUL)}/stats/",
        f"/api/v1/zones/{'X' * 3000}/stats/",
        f"/api/v1/zones/{quote(NUL)}/trend/",
    ):
        c.get("statistics", path[:50], path)

    for params in (
        {"as_of": "0001-01-01"},
        {"as_of": "0001-01-20"},
        {"as_of": "x"},
        {"as_of": "2021-02-30"},
        {"kind": "planet"},
        {"escalation": "maybe"},
        {"kind": NUL},
        {"foo": "1"},
    ):
        c.get("trends", f"trends {urlencode(params)}", "/api/v1/trends/", params)
        path = f"/api/v1/zones/{pcode}/trend/"
        c.get("trends", f"zone trend {urlencode(params)}", path, params)
    latest = {"as_of": "9999-12-31"}
    c.get("trends", "trends as_of=9999-12-31", "/api/v1/trends/", latest, expect=ACCEPT)

    alerts = "/api/v1/alerts/"
    for params in (
        {"kind": "x"},
        {"kind": NUL},
        {"since": "x"},
        {"zone": NUL},
        {"cursor": "!!"},
        {"page_size": "0"},
        {"foo": "1"},
    ):
        c.get("alerts", f"alerts {urlencode(params)}", alerts, params)
    c.get("alerts", "an alert id that is no UUID", alerts + "not-a-uuid/")
    # ISO 8601 allows offsets up to 23:59: read as UTC, or refused; never a server error.
    for since in ("0001-01-01T00:00:00", "0001-01-01T00:00:00+05:00", "2021-01-01T00:00:00+23:00"):
        c.get("alerts", f"alerts since={since}", alerts, {"since": since}, expect=EITHER)

    for day in ("2021-02-30", "0000-01-01", "9999-99-99", "x"):
        c.get("briefs", f"brief of {day}", f"/api/v1/briefs/{day}/")
    for params in ({"page": "x"}, {"page": "0"}, {"page": "99999"}, {"page_size": "-1"}):
        c.get("briefs", f"briefs {urlencode(params)}", "/api/v1/briefs/", params)
    huge = {"page_size": "9" * 30}
    c.get("briefs", "briefs page_size=10^30", "/api/v1/briefs/", huge, expect=ACCEPT)

    changes = INCIDENTS + "changes/"
    for params in (
        {"since": "x"},
        {"since": "2021-03-01T10:00:00+99:00"},
        {"since": "0001-01-01T00:00:00+14:00"},
        {"since": NUL},
        {"cursor": "x"},
        {"page_size": "x"},
        {"foo": "1"},
    ):
        c.get("changes feed", f"changes {urlencode(params)}", changes, params)


def upload_cases(c: Cases, first: str, second: str, full: str) -> None:
    """Photos for three reports of reporter A: the accepted ones spread so that neither of the
    first two reaches the limit of ten; `full` is filled to ten and then sent an eleventh."""
    png, svg = "image/png", "image/svg+xml"
    c.upload("0 bytes", first, b"")
    big = images.noise_png(1800)
    c.upload("9 MB of noise pixels (over 8 MB)", first, big, content_type=png)
    c.upload("text file named .jpg", first, b"just some text\n" * 20)
    c.upload("HTML", first, images.HTML, file_name="x.html", content_type="text/html")
    c.upload("PDF", first, images.PDF, file_name="x.pdf", content_type="application/pdf")
    c.upload("ELF executable", first, images.ELF)
    c.upload("SVG with a script", first, images.SVG, file_name="x.svg", content_type=svg)
    c.upload("SVG named .png", first, images.SVG, file_name="x.png", content_type=png)
    for w, h in ((30_000, 30_000), (100_000, 100_000), (65_535, 65_535), (1, 50_000_000)):
        flood = images.png_flood(w, h)
        c.upload(f"PNG pixel flood {w:,} x {h:,}", first, flood, content_type=png)
    c.upload("JPEG pixel flood 65,500 x 65,500", first, images.jpeg_flood(65_500, 65_500))
    c.upload("PNG of 0 x 0 pixels", first, images.png_flood(0, 0), content_type=png)
    for fmt, kind in (("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tiff"), ("ICO", "x-icon")):
        c.upload(fmt, first, images.encoded(fmt), content_type=f"image/{kind}")
    c.upload("truncated JPEG", first, images.gps_jpeg(size=(400, 300))[:600])
    c.upload("PNG with a bad checksum", first, images.bad_crc_png(), content_type=png)
    clean = clean_photo()
    c.upload(
        "GPS-tagged JPEG (EXIF removed)", first, images.gps_jpeg(), expect=ACCEPT, verify=clean
    )
    c.upload(
        "PNG with text and XMP metadata",
        first,
        images.png(),
        expect=ACCEPT,
        content_type=png,
        verify=clean,
    )
    rotated = images.gps_jpeg(orientation=6, size=(60, 40))
    upright = clean_photo(rotated_from=(60, 40))
    c.upload("JPEG turned by EXIF orientation 6", first, rotated, expect=ACCEPT, verify=upright)
    polyglot = images.jpeg((20, 20), (1, 2, 3)) + images.ZIP_TAIL
    c.upload("JPEG with a ZIP appended", first, polyglot, expect=ACCEPT, verify=clean)
    c.upload(
        "file name with ../ and NUL",
        first,
        images.jpeg((21, 21), (4, 5, 6)),
        file_name="../../etc/passwd\x00.jpg",
        expect=EITHER,
    )
    cmyk = images.encoded("JPEG", mode="CMYK", colour=(1, 2, 3, 4))
    c.upload("CMYK JPEG", second, cmyk, expect=ACCEPT, verify=clean)
    palette = images.encoded("PNG", mode="P", colour=3, transparency=3)
    c.upload("palette PNG with transparency", second, palette, expect=ACCEPT, content_type=png)
    grey16 = images.encoded("PNG", mode="I;16", colour=300)
    c.upload("16-bit grey PNG", second, grey16, expect=EITHER, content_type=png)
    animated = images.animated_webp()
    c.upload("animated WebP", second, animated, expect=EITHER, content_type="image/webp")
    mislabelled = images.jpeg((22, 22), (7, 8, 9))
    name = "content type says PNG, bytes are JPEG"
    c.upload(name, second, mislabelled, expect=ACCEPT, content_type=png)
    body, header = multipart({"photo": ("x.jpg", images.jpeg(), "image/jpeg")})
    c.upload("the file under another field name", first, raw=body, header=header)
    body, header = multipart({"file": "not a file"})
    c.upload("the file field as plain text", first, raw=body, header=header)
    body, _ = multipart({"file": ("x.jpg", images.jpeg(), "image/jpeg")})
    c.upload("multipart without a boundary", first, raw=body, header="multipart/form-data")
    wrong = "multipart/form-data; boundary=nope"
    c.upload("multipart with the wrong boundary", first, raw=body, header=wrong)
    c.upload("JSON instead of multipart", first, raw=b'{"file": "x"}', header="application/json")
    c.upload("to a report that does not exist", str(uuid.uuid4()), images.jpeg())
    for n in range(10):
        c.upload(f"photo {n + 1} of 10 on one report", full, images.distinct_jpeg(n), expect=ACCEPT)
    c.upload("an 11th photo", full, images.distinct_jpeg(10))


# --- running and judging ----------------------------------------------------------------------


@dataclass
class Outcome:
    """Every case with its answer, and what went wrong, by kind."""

    cases: list[Case]
    server_errors: list[str]
    stored_from_refused: list[str]
    badly_stored: list[str]
    unexpected: list[str]
    not_kept: list[str]
    gps_photo_clean: bool

    def problems_of(self, ident: str) -> list[str]:
        """What went wrong with one case (the tests name known bugs by case)."""
        lists = (
            self.server_errors,
            self.stored_from_refused,
            self.badly_stored,
            self.unexpected,
            self.not_kept,
        )
        return [line for lines in lists for line in lines if line.startswith(ident + ":")]


def _attachment_files(incident_uuid: str) -> set[str]:
    folder = Path(settings.MEDIA_ROOT) / "attachments" / incident_uuid
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def _attachment_rows(incident_uuid: str) -> set[int]:
    from incidents.models import Attachment

    rows = Attachment.objects.filter(incident__client_uuid=incident_uuid)
    return set(rows.values_list("pk", flat=True))


def cases_run(ctx: Context, *, concurrency: int = 4) -> Outcome:
    rng = random.Random(ctx.seed + 3)  # noqa: S311 (test data, not secrets)
    world = ctx.world
    reporter = world.reporters(10)[9]
    uploader = world.actors["reporter_a"]
    targets = []
    for _ in range(3):
        body = world.report(rng, scenario=f"{NAME}-photos")
        reply = uploader.api.post(SUBMIT_PATH, json=body)
        if reply.status != 201:
            raise RuntimeError(f"could not make a report for the photos: {reply.describe()}")
        targets.append(body["client_uuid"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT pcode FROM zones_zone WHERE kind = 'governorate' ORDER BY pcode")
        pcode = cursor.fetchone()[0]
    c = Cases(ctx, rng)
    json_cases(c)
    location_cases(c)
    date_and_text_cases(c)
    list_cases(c)
    injection_query_cases(c, pcode)
    endpoint_cases(c, pcode)
    upload_cases(c, *targets)
    actors = {**world.actors, "bad_input_reporter": reporter, "upload_reporter": uploader}
    rows_before = {t: _attachment_rows(t) for t in targets}
    files_before = {t: _attachment_files(t) for t in targets}

    def send(case: Case) -> None:
        case.reply = actors[case.actor].api.request(
            case.method, case.path, body=case.body, headers=case.headers, timeout=120
        )

    # Photos one at a time, in order (the eleventh must come after the first ten).
    uploads = [case for case in c.items if case.upload_to]
    run_concurrently([case for case in c.items if not case.upload_to], send, concurrency)
    for case in uploads:
        send(case)

    errors = [f"{case.ident}: {case.reply.describe()}" for case in c.items if case.reply.failed]
    unexpected = [
        f"{case.ident}: expected {case.expect}, got {case.reply.describe()}"
        for case in c.items
        if case.unexpected()
    ]
    # Submissions: a refused one left nothing; an accepted one is stored once, as sent.
    submitted = [case for case in c.items if case.client_uuid]
    stored = checks.stored(case.client_uuid for case in submitted)
    leaked, badly_stored = [], []
    for case in submitted:
        found = stored.get(case.client_uuid, [])
        if not case.reply.ok:
            if found:
                leaked.append(f"{case.ident}: refused ({case.reply.status}) but stored")
        elif len(found) != 1:
            badly_stored.append(f"{case.ident}: accepted, {len(found)} rows")
        elif case.sent is not None:
            diff = found[0].differences(case.sent, reporter.username)
            if diff:
                badly_stored.append(f"{case.ident}: stored {', '.join(diff)} otherwise")
    accepted = sum(1 for case in c.items if case.actor == "bad_input_reporter" and case.reply.ok)
    with connection.cursor() as cursor:
        sql = "SELECT count(*) FROM incidents_incident WHERE reporter_id = %s"
        cursor.execute(sql, [reporter.user.pk])
        reporter_rows = cursor.fetchone()[0]
    if reporter_rows != accepted:
        leaked.append(f"all submissions: {reporter_rows} reports stored, {accepted} accepted")
    # Photos: new rows and files come from accepted uploads only.
    for target in targets:
        new_rows = _attachment_rows(target) - rows_before[target]
        created = {
            case.reply.json()["id"]
            for case in uploads
            if case.upload_to == target and case.reply.status == 201
        }
        if new_rows != created:
            leaked.append(f"photos of {target}: {len(new_rows)} rows, {len(created)} accepted")
        new_files = _attachment_files(target) - files_before[target]
        if len(new_files) != len(created):
            leaked.append(f"photos of {target}: {len(new_files)} files, {len(created)} accepted")
    # What accepted answers kept: text as sent, photos without metadata, pages capped.
    not_kept = []
    for case in c.items:
        if case.verify and case.reply.ok:
            not_kept += [f"{case.ident}: {problem}" for problem in case.verify(case.reply)]
        elif case.verify and case.expect == ACCEPT:
            not_kept.append(f"{case.ident}: not accepted, so not checked")
    gps = next(case for case in uploads if case.name.startswith("GPS-tagged"))
    gps_clean = gps.reply.status == 201 and not gps.verify(gps.reply)
    return Outcome(c.items, errors, leaked, badly_stored, unexpected, not_kept, gps_clean)


def run(ctx: Context, *, concurrency: int = 4) -> list[Row]:
    outcome = cases_run(ctx, concurrency=concurrency)
    by_category = Counter(case.category for case in outcome.cases)
    answers = Counter(case.reply.status // 100 for case in outcome.cases)
    categories = ", ".join(f"{k} {v}" for k, v in sorted(by_category.items()))
    counts = (
        ("server errors (5xx or no answer)", outcome.server_errors),
        ("stored from refused requests (reports, photo rows, files)", outcome.stored_from_refused),
        ("accepted reports not stored once and as sent", outcome.badly_stored),
        ("answers other than expected (refused / accepted)", outcome.unexpected),
        ("accepted input not kept as sent (text, photos, page cap)", outcome.not_kept),
    )
    clean = outcome.gps_photo_clean
    return [
        info(NAME, "cases", f"{len(outcome.cases):,} in {len(by_category)} categories"),
        info(NAME, "cases by category", categories),
        info(NAME, "answers", ", ".join(f"{k}xx: {v:,}" for k, v in sorted(answers.items()))),
        *(zero(NAME, name, len(lines), lines) for name, lines in counts),
        Row(
            NAME,
            "GPS-tagged JPEG accepted, stored without EXIF",
            "yes" if clean else "no",
            "yes",
            clean,
        ),
    ]
