"""Incident exports: HXL CSV, GeoJSON, ACLED CSV; roles, filters, audit, streaming."""

import csv
import datetime
import io
import json
import math
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AuditEvent
from incidents.models import Incident, ReviewStatus, SubEventType
from incidents.services import incident_review, incident_submit
from tests.factories import ARIHA, ATMEH, KAFR_NUBL
from zones.models import Zone

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

CSV_URL = "/api/v1/incidents/export.csv"
GEOJSON_URL = "/api/v1/incidents/export.geojson"
ACLED_URL = "/api/v1/incidents/export.acled.csv"
URLS = [CSV_URL, GEOJSON_URL, ACLED_URL]

# PRODUCT.md, "Event taxonomy": ACLED's field names, in ACLED's order.
ACLED_COLUMNS = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
]
# PRODUCT.md, "Conventions": the HXL hashtags users expect.
PRODUCT_HXL = {
    "#event+code",
    "#event+type",
    "#date+occurred",
    "#adm1+name",
    "#adm1+code",
    "#adm3+code",
    "#loc+name",
    "#geo+lat",
    "#geo+lon",
    "#affected+killed",
    "#affected+injured",
    "#meta+source",
    "#description",
}


def submit(user, lonlat=ARIHA, sub="shelling-artillery-missile-attack", days_ago=1, **extra):
    sub_type = SubEventType.objects.select_related("event_type").get(slug=sub)
    data = {
        "occurred_at": timezone.now() - datetime.timedelta(days=days_ago),
        "location": Point(*lonlat, srid=4326),
        "place_name": extra.pop("place_name", "somewhere"),
        "event_type": sub_type.event_type,
        "sub_event_type": sub_type,
        **extra,
    }
    return incident_submit(reporter=user, client_uuid=uuid.uuid4(), data=data).incident


@pytest.fixture
def incidents(users):
    ariha = submit(
        users["reporter_a"],
        ARIHA,
        place_name="Ariha",
        days_ago=1,
        killed_civilians=2,
        killed_combatants=1,
        injured_civilians=4,
        target="civilians",
        perpetrator_side="government",
        time_precision="hour",
        location_precision="near_town",
        sources=["Field monitor", "Local council"],
    )
    atmeh = submit(
        users["reporter_b"],
        ATMEH,
        place_name="Atmeh",
        days_ago=3,
        description="قصف على أطمة",
        perpetrator_side="russia",
        sub="air-drone-strike",
    )
    incident_review(
        incident=atmeh,
        reviewer=users["analyst"],
        status=ReviewStatus.VERIFIED,
        note="confirmed by phone with the reporter",
    )
    kafr_nubl = submit(users["reporter_b"], KAFR_NUBL, sub="armed-clash", days_ago=10)
    return {"ariha": ariha, "atmeh": atmeh, "kafr_nubl": kafr_nubl}


def client_for(user=None, api_key=None):
    client = APIClient()
    if api_key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key}")
    elif user is not None:
        client.force_authenticate(user)
    return client


def body_of(response) -> str:
    return b"".join(response.streaming_content).decode("utf-8")


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body_of(response).removeprefix("\ufeff"))))


def ids_in(url, response) -> set[str]:
    """The incident ids in an export (ACLED rows are matched back through event_id_cnty)."""
    if url == GEOJSON_URL:
        return {feature["id"] for feature in json.loads(body_of(response))["features"]}
    rows = csv_rows(response)
    if url == CSV_URL:
        return {row[0] for row in rows[2:]}
    return {row[0].removeprefix("SYRCM-") for row in rows[1:]}


def test_csv_export_has_a_header_row_then_the_hxl_row(users, incidents):
    response = client_for(users["analyst"]).get(CSV_URL)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = csv_rows(response)
    header, hxl, data = rows[0], rows[1], rows[2:]
    assert header[:2] == ["id", "occurred_at"]
    assert all(tag.startswith("#") for tag in hxl)
    assert set(hxl) >= PRODUCT_HXL
    assert len(set(hxl)) == len(hxl) == len(header)
    assert len(data) == 3


def test_csv_export_starts_with_a_byte_order_mark_for_excel(users, incidents):
    response = client_for(users["analyst"]).get(CSV_URL)
    body = body_of(response)
    assert body.startswith("\ufeffid,")
    assert "قصف على أطمة" in body


def test_csv_export_values_for_an_analyst(users, incidents):
    rows = csv_rows(client_for(users["analyst"]).get(CSV_URL))
    record = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[2:]}
    ariha = record[str(incidents["ariha"].client_uuid)]
    assert (float(ariha["longitude"]), float(ariha["latitude"])) == ARIHA
    assert ariha["killed"] == "3"
    assert ariha["injured"] == "4"
    assert ariha["subdistrict"] == "SY070500"
    assert ariha["governorate"] == "SY07"
    assert ariha["sources"] == "Field monitor; Local council"
    assert ariha["in_corridor"] == "true"
    assert float(ariha["distance_to_m4_m"]) < 1000
    atmeh = record[str(incidents["atmeh"].client_uuid)]
    assert atmeh["review_note"] == "confirmed by phone with the reporter"
    assert atmeh["reviewed_by"] == "analyst"
    # No export names the reporter (PRODUCT.md "Do no harm" 2), for analysts neither.
    assert "reporter" not in rows[0]
    assert "rep-a" not in str(rows) and "rep-b" not in str(rows)


def test_exports_are_streamed_as_dated_attachments(users, incidents):
    today = timezone.localdate().isoformat()
    client = client_for(users["analyst"])
    for url, name in [
        (CSV_URL, f"incidents-{today}.csv"),
        (GEOJSON_URL, f"incidents-{today}.geojson"),
        (ACLED_URL, f"incidents-acled-{today}.csv"),
    ]:
        response = client.get(url)
        assert response.streaming
        assert response["Content-Disposition"] == f'attachment; filename="{name}"'
        body_of(response)


def test_geojson_export_is_an_rfc7946_feature_collection(users, incidents):
    response = client_for(users["analyst"]).get(GEOJSON_URL)
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body_of(response))
    assert collection["type"] == "FeatureCollection"
    assert "crs" not in collection
    assert len(collection["features"]) == 3
    by_id = {feature["id"]: feature for feature in collection["features"]}
    ariha = by_id[str(incidents["ariha"].client_uuid)]
    assert ariha["type"] == "Feature"
    assert ariha["geometry"] == {"type": "Point", "coordinates": list(ARIHA)}  # lon, lat
    assert ariha["properties"]["sources"] == ["Field monitor", "Local council"]
    assert ariha["properties"]["killed"] == 3
    assert "latitude" not in ariha["properties"]


def test_an_empty_geojson_export_still_parses(users):
    collection = json.loads(body_of(client_for(users["analyst"]).get(GEOJSON_URL)))
    assert collection == {"type": "FeatureCollection", "features": []}


def test_acled_export_has_exactly_the_acled_columns(users, incidents):
    response = client_for(users["analyst"]).get(ACLED_URL)
    body = body_of(response)
    assert body.startswith("event_id_cnty,")  # no byte order mark
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ACLED_COLUMNS
    assert len(rows) == 4
    assert all(len(row) == len(ACLED_COLUMNS) for row in rows)


def test_acled_export_maps_our_fields(users, incidents):
    rows = csv_rows(client_for(users["analyst"]).get(ACLED_URL))
    ariha_incident = incidents["ariha"]
    ariha = next(
        dict(zip(rows[0], row, strict=True))
        for row in rows[1:]
        if row[0] == f"SYRCM-{ariha_incident.client_uuid}"
    )
    occurred = timezone.localtime(ariha_incident.occurred_at)
    assert ariha["event_date"] == occurred.date().isoformat()
    assert ariha["year"] == str(occurred.year)
    assert ariha["time_precision"] == "1"  # hour
    assert ariha["geo_precision"] == "2"  # near_town
    assert ariha["disorder_type"] == "Political violence"
    assert ariha["event_type"] == "Explosions/Remote violence"
    assert ariha["sub_event_type"] == "Shelling/artillery/missile attack"
    assert ariha["actor1"] == "Syrian government and allied forces"
    assert (ariha["inter1"], ariha["actor2"], ariha["inter2"]) == ("1", "Civilians (Syria)", "7")
    assert ariha["interaction"] == "17"
    assert ariha["civilian_targeting"] == "Civilian targeting"
    assert (ariha["iso"], ariha["region"], ariha["country"]) == ("760", "Middle East", "Syria")
    assert ariha["admin1"] == Zone.objects.get(pcode="SY07").name_en
    assert ariha["admin3"] == Zone.objects.get(pcode="SY070500").name_en
    assert ariha["location"] == "Ariha"
    assert (float(ariha["longitude"]), float(ariha["latitude"])) == ARIHA
    assert ariha["source"] == "Field monitor; Local council"
    assert ariha["fatalities"] == "3"
    ariha_incident.refresh_from_db()
    assert ariha["timestamp"] == str(int(ariha_incident.updated_at.timestamp()))


def test_acled_export_keeps_the_id_of_an_imported_event(users, incidents):
    Incident.objects.filter(pk=incidents["kafr_nubl"].pk).update(external_id="SYR123456")
    rows = csv_rows(client_for(users["analyst"]).get(ACLED_URL))
    row = next(row for row in rows[1:] if row[0] == "SYR123456")
    assert row[ACLED_COLUMNS.index("source_scale")] == ""


@pytest.mark.parametrize("url", URLS)
def test_partner_export_has_verified_reports_and_snapped_locations_only(
    url, users, incidents, partner_key
):
    response = client_for(api_key=partner_key).get(url)
    assert response.status_code == 200
    assert ids_in(url, response) == {str(incidents["atmeh"].client_uuid)}
    body = body_of(client_for(api_key=partner_key).get(url))
    for secret in ("rep-a", "rep-b", "analyst", "confirmed by phone", "review_note"):
        assert secret not in body
    for name in ("reporter", "reviewed_by", "distance_to_m4_m"):
        assert name not in body
    if url == GEOJSON_URL:
        coordinates = json.loads(body)["features"][0]["geometry"]["coordinates"]
    else:
        rows = csv_rows(client_for(api_key=partner_key).get(url))
        row = dict(zip(rows[0], rows[-1], strict=True))
        coordinates = [float(row["longitude"]), float(row["latitude"])]
    assert coordinates != list(ATMEH)
    for value in coordinates:
        assert math.isclose(value / 0.05, round(value / 0.05), abs_tol=1e-6)
        assert round(value, 4) == value


def test_partner_acled_export_gives_snapped_locations_at_least_geo_precision_2(
    users, incidents, partner_key
):
    rows = csv_rows(client_for(api_key=partner_key).get(ACLED_URL))
    assert rows[1][ACLED_COLUMNS.index("geo_precision")] == "2"


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("who,status", [("reporter_a", 403), ("no_role", 403), (None, 401)])
def test_reporters_and_strangers_cannot_export(url, who, status, users, incidents):
    response = client_for(users[who] if who else None).get(url)
    assert response.status_code == status
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "query,expected",
    [
        ("type=battles", {"kafr_nubl"}),
        ("sub_type=air-drone-strike,armed-clash", {"atmeh", "kafr_nubl"}),
        ("bbox=36.5,35.7,36.7,35.9", {"ariha"}),
        ("zone=SY070500", {"ariha"}),
        ("review_status=verified", {"atmeh"}),
        ("in_corridor=false", {"atmeh", "kafr_nubl"}),
    ],
)
def test_export_filters_are_those_of_the_list(url, query, expected, users, incidents):
    response = client_for(users["analyst"]).get(f"{url}?{query}")
    assert response.status_code == 200
    assert ids_in(url, response) == {str(incidents[name].client_uuid) for name in expected}


def test_export_takes_occurred_after(users, incidents):
    after = (timezone.now() - datetime.timedelta(days=5)).date().isoformat()
    response = client_for(users["analyst"]).get(f"{CSV_URL}?occurred_after={after}")
    expected = {str(incidents[name].client_uuid) for name in ("ariha", "atmeh")}
    assert ids_in(CSV_URL, response) == expected


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    "query,field",
    [
        ("type=no-such-type", "type"),
        ("bbox=36,35,37", "bbox"),
        ("occurred_after=last-week", "occurred_after"),
        ("near=36.6,35.8&radius_m=-1", "radius_m"),
        ("in_corridor=maybe", "in_corridor"),
        ("ordering=place_name", "ordering"),
        ("occured_after=2024-01-01", "occured_after"),
        ("page_size=10", "page_size"),
    ],
)
def test_a_bad_query_is_a_400_naming_the_field(url, query, field, users, incidents):
    response = client_for(users["analyst"]).get(f"{url}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert field in response.json()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


@pytest.mark.parametrize(
    "url,export_format", [(CSV_URL, "csv"), (GEOJSON_URL, "geojson"), (ACLED_URL, "acled")]
)
def test_every_export_writes_one_audit_event(url, export_format, users, incidents, partner_key):
    body_of(client_for(users["analyst"]).get(f"{url}?type=battles&ordering=updated_at"))
    body_of(client_for(api_key=partner_key).get(url))
    events = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).order_by("id")
    analyst_event, partner_event = events
    assert analyst_event.user == users["analyst"]
    assert analyst_event.detail == {
        "format": export_format,
        "filters": {"type": "battles", "ordering": "updated_at"},
        "exact_locations": True,
    }
    assert partner_event.user == users["partner"]
    assert partner_event.api_key_prefix
    assert partner_event.detail["exact_locations"] is False


def test_the_audit_event_is_written_before_the_stream_is_read(users, incidents):
    response = client_for(users["analyst"]).get(CSV_URL)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1
    body_of(response)
    assert AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).count() == 1


@pytest.mark.parametrize("url", URLS)
def test_a_database_error_is_an_error_response_not_a_download_cut_short(
    url, users, incidents, monkeypatch
):
    audited = []
    monkeypatch.setattr("accounts.audit.audit_request", lambda *a, **kw: audited.append(kw))
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(users["analyst"])
    # A query that PostgreSQL refuses (an unknown function). The transaction is broken
    # afterwards, hence the spy rather than a look at the audit table.
    from django.db.models import FloatField, Func

    class Broken(Func):
        function = "no_such_function"
        output_field = FloatField()

    monkeypatch.setattr("incidents.exports._X", Broken)
    response = client.get(url)
    assert response.status_code >= 400
    assert not response.streaming
    assert audited == []


@pytest.mark.parametrize(
    "ordering,expected",
    [
        (None, ["ariha", "atmeh", "kafr_nubl"]),
        ("occurred_at", ["kafr_nubl", "atmeh", "ariha"]),
        ("-updated_at", ["kafr_nubl", "atmeh", "ariha"]),  # atmeh was reviewed before kafr_nubl
    ],
)
def test_exports_follow_the_ordering_of_the_list(ordering, expected, users, incidents):
    query = f"?ordering={ordering}" if ordering else ""
    rows = csv_rows(client_for(users["analyst"]).get(CSV_URL + query))
    assert [row[0] for row in rows[2:]] == [str(incidents[name].client_uuid) for name in expected]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("accept", ["*/*", "text/csv", "application/geo+json", "application/json"])
def test_any_accept_header_gets_the_file(url, accept, users, incidents):
    response = client_for(users["analyst"]).get(url, HTTP_ACCEPT=accept)
    assert response.status_code == 200
    assert response.streaming
    assert body_of(response)


def test_text_that_spreadsheets_would_run_is_defused_in_csv_not_in_geojson(users):
    formula = '=HYPERLINK("http://example.org","click")'
    submit(users["reporter_a"], description=formula, place_name="@Ariha")
    client = client_for(users["analyst"])
    rows = csv_rows(client.get(CSV_URL))
    row = dict(zip(rows[0], rows[2], strict=True))
    assert row["description"] == "'" + formula
    assert row["place_name"] == "'@Ariha"
    acled = csv_rows(client.get(ACLED_URL))
    assert acled[1][ACLED_COLUMNS.index("notes")] == "'" + formula
    feature = json.loads(body_of(client.get(GEOJSON_URL)))["features"][0]
    assert feature["properties"]["description"] == formula


def test_a_20000_row_export_is_streamed_in_a_bounded_number_of_queries(
    users, django_assert_max_num_queries
):
    shelling = SubEventType.objects.get(slug="shelling-artillery-missile-attack")
    start = timezone.now() - datetime.timedelta(days=400)
    Incident.objects.bulk_create(
        (
            Incident(
                occurred_at=start + datetime.timedelta(minutes=i),
                location=Point(36.5 + (i % 100) / 500, 35.8 + (i // 100) / 2000, srid=4326),
                place_name=f"place {i}",
                event_type_id=shelling.event_type_id,
                sub_event_type=shelling,
                review_status=ReviewStatus.VERIFIED,
                sources=["Field monitor"],
            )
            for i in range(20_000)
        ),
        batch_size=5000,
    )
    client = client_for(users["analyst"])
    for url, header_rows in [(CSV_URL, 2), (ACLED_URL, 1)]:
        with django_assert_max_num_queries(8):
            response = client.get(url)
            chunks = list(response.streaming_content)
        assert len(chunks) > 10  # handed out piece by piece, not as one body
        assert b"".join(chunks).decode().count("\r\n") == 20_000 + header_rows
    with django_assert_max_num_queries(8):
        response = client.get(GEOJSON_URL)
        body = b"".join(response.streaming_content)
    assert len(json.loads(body)["features"]) == 20_000
