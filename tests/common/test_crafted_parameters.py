"""Crafted query parameters and cursors: every value gives an answer below 500, and a bad cursor a
400 naming `cursor`.

The parameters come from the OpenAPI schema, so a new endpoint or filter is covered without a new
test. Values are the kinds that broke decoders elsewhere: numbers beyond float range, NaN,
thousands of digits, NUL, lone surrogates, deep JSON, other types where a cursor expects a number.
"""

from __future__ import annotations

import base64
import json
import re
from urllib.parse import quote

import pytest
from django.test import Client
from drf_spectacular.generators import SchemaGenerator

pytestmark = pytest.mark.django_db

CRAFTED_VALUES = [
    "1e400",
    "-1e400",
    "nan",
    "inf",
    "-0",
    "9" * 5000,
    "-" + "9" * 30,
    "0x10",
    "\x00",
    "%00",
    "[]",
    "{}",
    ",,,",
    "1,2,3,4,5,6,7,8,9",
    "  ",
    "0001-01-01",
    "9999-12-31T23:59:59+23:59",
    "2020-02-30",
    "a" * 3000,
]
# Already percent-encoded: bytes that are not UTF-8 (a lone surrogate, 0xFF).
RAW_QUERY_VALUES = ["%ED%A0%80", "%FF", "%C0%AF"]


def _cursor(token) -> str:
    return base64.urlsafe_b64encode(json.dumps(token).encode()).decode()


CRAFTED_CURSORS = [
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": 1e400}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": -1e400}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": NaN}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": 1.5}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": true}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": 100000000000000000000000}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": -5}',
    '{"o": "-occurred_at", "v": "2021-01-01T00:00:00+00:00", "id": "7"}',
    '{"o": "-occurred_at", "v": "99999-01-01T00:00:00+00:00", "id": 1}',
    '{"o": "-occurred_at", "v": "0001-01-01T00:00:00+14:00", "id": 1}',
    '{"o": "-occurred_at", "v": 12, "id": 1}',
    '{"o": ["-occurred_at"], "v": "2021-01-01T00:00:00+00:00", "id": 1}',
    "[1, 2, 3]",
    '"a string"',
    "[" * 100000 + "]" * 100000,
]
ENCODED_CURSORS = [base64.urlsafe_b64encode(raw.encode()).decode() for raw in CRAFTED_CURSORS] + [
    "!!!",
    "AAAA",
    "\x00",
    "=" * 40,
    "A" * 20000,
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
]

KEYSET_LISTS = ["/api/v1/incidents/", "/api/v1/incidents/changes/", "/api/v1/alerts/"]


def _get_operations() -> list[tuple[str, list[str]]]:
    """(path template, query parameter names) of every GET operation in the schema."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, methods in schema["paths"].items():
        get = methods.get("get")
        if not get:
            continue
        names = [p["name"] for p in get.get("parameters", []) if p["in"] == "query"]
        operations.append((path, names))
    return operations


def _concrete(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


@pytest.fixture
def clients(users, partner_key):
    analyst = Client()
    analyst.force_login(users["analyst"])
    reporter = Client()
    reporter.force_login(users["reporter_a"])
    return {
        "analyst": analyst,
        "reporter": reporter,
        "partner": Client(HTTP_AUTHORIZATION=f"Api-Key {partner_key}"),
    }


@pytest.mark.parametrize("path", KEYSET_LISTS)
@pytest.mark.parametrize("role", ["analyst", "partner", "reporter"])
def test_a_crafted_cursor_is_a_400_naming_the_cursor(clients, path, role):
    if clients[role].get(path).status_code == 403:
        pytest.skip(f"{role} may not read {path}")
    for cursor in ENCODED_CURSORS:
        response = clients[role].get(path, {"cursor": cursor})
        assert response.status_code == 400, (cursor[:80], response.status_code)
        assert "cursor" in response.json(), (cursor[:80], response.json())


def test_a_cursor_the_api_gave_still_pages(clients, users, reference_data):
    from tests.factories import IncidentFactory

    for _ in range(3):
        IncidentFactory(reporter=users["reporter_a"])
    first = clients["analyst"].get("/api/v1/incidents/", {"page_size": 2}).json()
    assert first["next"]
    second = clients["analyst"].get(first["next"])
    assert second.status_code == 200
    assert len(second.json()["results"]) == 1


@pytest.mark.parametrize("role", ["analyst", "partner"])
def test_no_crafted_query_parameter_gives_a_server_error(clients, role, reference_data):
    failures = []
    for template, names in _get_operations():
        path = _concrete(template, {"pcode": "SY07", "site_id": "1", "z": "8", "x": "155"})
        for name in names:
            encoded = [quote(value, safe="") for value in CRAFTED_VALUES] + RAW_QUERY_VALUES
            for value in encoded:
                response = clients[role].get(f"{path}?{name}={value}")
                if response.status_code >= 500:
                    failures.append((path, name, value[:40], response.status_code))
    assert failures == []
