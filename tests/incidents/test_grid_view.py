"""The grid view (incidents.disclosure, PRODUCT.md "Do no harm" 6): nothing a partner reads or
filters on is finer than the 0.05 degree grid. Zones and corridor membership are those of the
grid point, the place name is the gazetteer's, the description is the summary an analyst approved.

The incident of these tests lies where the grid moves it across boundaries: its exact point
(36.586, 35.873) is in the Idleb sub-district (SY070000, Idlib district SY0700), outside the M4
corridor; its grid point (36.60, 35.85) is in the Ariha sub-district (SY070500, Ariha district
SY0705), inside the corridor, 361 m from Nahlayya, the nearest locality of the gazetteer.
"""

import csv
import io
import json
import math

import mapbox_vector_tile
import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents.models import IncidentChange, ReviewStatus
from incidents.services import incident_review, incident_zones_assign
from tests.incidents.test_api import submit

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

EDGE = (36.586, 35.873)
PLACE_TYPED = "near the Sarmin market"
DESCRIPTION = "Shelling hit the house of Abu Khaled near the Sarmin market at dawn."
TARGET_TYPED = "the bakery behind the mosque"
SUMMARY = "Shelling reported in the Ariha area; no casualties confirmed."


@pytest.fixture
def edge(users):
    """A verified report at EDGE, with free text in every field that takes it."""
    incident = submit(
        users["reporter_a"],
        EDGE,
        place_name=PLACE_TYPED,
        description=DESCRIPTION,
        target_description=TARGET_TYPED,
        direction="NE",
        distance_estimate_m=800,
    )
    incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.VERIFIED)
    incident.refresh_from_db()
    return incident


def api(user=None, key=None) -> APIClient:
    client = APIClient()
    if key:
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    elif user:
        client.force_authenticate(user)
    return client


def only_record(body: dict, incident) -> dict:
    (record,) = [row for row in body["results"] if row["id"] == str(incident.client_uuid)]
    return record


# --- What is stored ----------------------------------------------------------------------------


def test_the_grid_point_gets_its_own_zones_and_locality_when_written(edge):
    assert (edge.subdistrict.pcode, edge.district.pcode, edge.governorate.pcode) == (
        "SY070000",
        "SY0700",
        "SY07",
    )
    assert edge.in_corridor is False
    assert (
        edge.coarse_subdistrict.pcode,
        edge.coarse_district.pcode,
        edge.coarse_governorate.pcode,
    ) == ("SY070500", "SY0705", "SY07")
    assert edge.coarse_in_corridor is True
    assert edge.coarse_locality.name_en == "Nahlayya"
    assert edge.public_place_name == "Nahlayya"
    assert edge.public_place_name_in("ar") == "نحليا"
    assert edge.public_summary == ""


def test_reassigning_zones_changes_nothing_when_nothing_moved(edge):
    assert incident_zones_assign(ids=[edge.pk]) == 0


# --- Every partner path: list, GeoJSON, detail, changes, exports -------------------------------

GRID_VALUES = {
    "subdistrict": "SY070500",
    "district": "SY0705",
    "governorate": "SY07",
    "in_corridor": True,
    "place_name": "Nahlayya",
    "description": "",
}
EXACT_VALUES = {
    "subdistrict": "SY070000",
    "district": "SY0700",
    "governorate": "SY07",
    "in_corridor": False,
    "place_name": PLACE_TYPED,
    "description": DESCRIPTION,
}
NEVER_IN_THE_GRID_VIEW = {
    "target_description",
    "public_summary",
    "direction",
    "distance_estimate_m",
    "distance_to_m4_m",
}


def _fields(record: dict) -> dict:
    return {name: record[name] for name in GRID_VALUES}


def test_the_partner_list_gives_the_grid_points_zones_the_analyst_the_exact_ones(
    edge, users, partner_key
):
    partner = only_record(api(key=partner_key).get("/api/v1/incidents/").json(), edge)
    assert _fields(partner) == GRID_VALUES
    assert not NEVER_IN_THE_GRID_VIEW & set(partner)
    assert partner["location"]["coordinates"] == [36.6, 35.85]
    analyst = only_record(api(users["analyst"]).get("/api/v1/incidents/").json(), edge)
    assert _fields(analyst) == EXACT_VALUES
    assert analyst["target_description"] == TARGET_TYPED
    assert analyst["public_summary"] == ""


def test_the_partner_geojson_built_in_sql_gives_the_grid_view(edge, users, partner_key):
    body = api(key=partner_key).get("/api/v1/incidents/?format=geojson").json()
    (feature,) = [f for f in body["features"] if f["id"] == str(edge.client_uuid)]
    assert _fields(feature["properties"]) == GRID_VALUES
    assert not NEVER_IN_THE_GRID_VIEW & set(feature["properties"])
    analyst = api(users["analyst"]).get("/api/v1/incidents/?format=geojson").json()
    (feature,) = [f for f in analyst["features"] if f["id"] == str(edge.client_uuid)]
    assert _fields(feature["properties"]) == EXACT_VALUES


def test_the_partner_detail_and_changes_feed_give_the_grid_view(edge, partner_key):
    client = api(key=partner_key)
    detail = client.get(f"/api/v1/incidents/{edge.client_uuid}/").json()
    assert _fields(detail) == GRID_VALUES
    changes = client.get("/api/v1/incidents/changes/").json()
    (entry,) = [e for e in changes["results"] if e["id"] == str(edge.client_uuid)]
    assert _fields(entry["record"]) == GRID_VALUES
    assert not NEVER_IN_THE_GRID_VIEW & set(entry["record"])


def test_no_free_text_reaches_a_partner_in_any_response(edge, partner_key):
    client = api(key=partner_key)
    urls = [
        "/api/v1/incidents/",
        "/api/v1/incidents/?format=geojson",
        f"/api/v1/incidents/{edge.client_uuid}/",
        "/api/v1/incidents/changes/",
        "/api/v1/incidents/export.csv",
        "/api/v1/incidents/export.geojson",
        "/api/v1/incidents/export.acled.csv",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8-sig")
        assert str(edge.client_uuid) in text, url
        for typed in ("Sarmin", "Abu Khaled", "bakery"):
            assert typed not in text, (url, typed)


def _csv_rows(client, url) -> list[dict]:
    response = client.get(url)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    header = rows[0]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def test_partner_exports_give_the_grid_points_zones_and_the_gazetteer_name(
    edge, users, partner_key
):
    client = api(key=partner_key)
    hxl, row = _csv_rows(client, "/api/v1/incidents/export.csv")
    assert hxl["place_name"] == "#loc+name"
    assert (row["subdistrict"], row["subdistrict_name"], row["district"]) == (
        "SY070500",
        "Ariha",
        "SY0705",
    )
    assert (row["in_corridor"], row["place_name"], row["description"]) == ("true", "Nahlayya", "")
    assert not NEVER_IN_THE_GRID_VIEW & set(row)
    (acled,) = _csv_rows(client, "/api/v1/incidents/export.acled.csv")
    assert (acled["admin2"], acled["admin3"], acled["location"], acled["notes"]) == (
        "Ariha",
        "Ariha",
        "Nahlayya",
        "",
    )
    body = b"".join(client.get("/api/v1/incidents/export.geojson").streaming_content)
    (feature,) = json.loads(body)["features"]
    assert feature["properties"]["subdistrict"] == "SY070500"
    assert feature["properties"]["in_corridor"] is True
    analyst = api(users["analyst"])
    (_hxl, row) = _csv_rows(analyst, "/api/v1/incidents/export.csv")
    assert (row["subdistrict"], row["in_corridor"], row["place_name"]) == (
        "SY070000",
        "false",
        PLACE_TYPED,
    )


# --- Filters run on the grid view --------------------------------------------------------------


def _ids(client, query: str) -> set[str]:
    return {row["id"] for row in client.get(f"/api/v1/incidents/?{query}").json()["results"]}


@pytest.mark.parametrize(
    ("query", "partner_finds", "analyst_finds"),
    [
        ("zone=SY070500", True, False),
        ("zone=SY070000", False, True),
        ("zone=SY0705", True, False),
        ("zone=SY0700", False, True),
        ("zone=M4-SC", True, False),
        ("in_corridor=true", True, False),
        ("in_corridor=false", False, True),
        ("q=Sarmin", False, True),
        ("q=Abu Khaled", False, True),
        ("q=Nahlayya", True, False),
        ("q=نحليا", True, False),
    ],
)
def test_partner_filters_run_on_the_grid_view(
    edge, users, partner_key, query, partner_finds, analyst_finds
):
    uuid = str(edge.client_uuid)
    assert (uuid in _ids(api(key=partner_key), query)) is partner_finds
    assert (uuid in _ids(api(users["analyst"]), query)) is analyst_finds


def _tile_ids(client, query: str) -> set[str]:
    z = 10
    n = 2**z
    x = int((36.6 + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(35.85))) / math.pi) / 2 * n)
    body = client.get(f"/tiles/incidents/{z}/{x}/{y}.pbf?{query}").content
    layers = mapbox_vector_tile.decode(body) if body else {}
    features = layers["incidents"]["features"] if layers else []
    for feature in features:
        assert set(feature["properties"]) == {
            "uuid",
            "occurred_at",
            "event_type",
            "sub_event_type",
            "review_status",
            "killed",
            "injured",
        }
    return {feature["properties"]["uuid"] for feature in features}


def test_tile_filters_run_on_the_grid_points_zones_for_partners(edge, partner_key):
    client = api(key=partner_key)
    uuid = str(edge.client_uuid)
    assert uuid in _tile_ids(client, "zone=SY070500")
    assert uuid not in _tile_ids(client, "zone=SY070000")
    assert uuid in _tile_ids(client, "in_corridor=true")


def test_the_partner_choropleth_counts_the_report_in_its_grid_points_sub_district(
    edge, users, partner_key
):
    partner = api(key=partner_key).get("/api/v1/incidents/by-subdistrict/").json()["results"]
    assert [row["pcode"] for row in partner] == ["SY070500"]
    analyst = api(users["analyst"]).get("/api/v1/incidents/by-subdistrict/").json()["results"]
    assert [(row["pcode"], row["count"]) for row in analyst] == [("SY070000", 1)]


# --- Pages ---------------------------------------------------------------------------------------


def _page(user, url: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_the_incident_page_shows_a_partner_the_grid_view(edge, users):
    html = _page(users["partner"], f"/incidents/{edge.client_uuid}/")
    assert "Nahlayya" in html and "Sarmin" not in html and "Abu Khaled" not in html
    assert "bakery" not in html
    assert "<dd>Ariha, Ariha, Idleb</dd>" in html
    assert "No summary approved for sharing yet." in html
    staff = _page(users["analyst"], f"/incidents/{edge.client_uuid}/")
    assert PLACE_TYPED in staff and DESCRIPTION in staff
    assert "<dd>Idleb, Idlib, Idleb</dd>" in staff
    assert "None approved: partners read no description." in staff


def test_zone_pages_list_a_partners_report_under_the_grid_points_zone(edge, users):
    link = f"/incidents/{edge.client_uuid}/"
    assert link in _page(users["partner"], "/zones/SY070500/")
    assert link not in _page(users["partner"], "/zones/SY070000/")
    assert link in _page(users["analyst"], "/zones/SY070000/")
    assert link not in _page(users["analyst"], "/zones/SY070500/")


# --- The shareable summary -----------------------------------------------------------------------


def _partner_description(partner_key, incident) -> str:
    return only_record(api(key=partner_key).get("/api/v1/incidents/").json(), incident)[
        "description"
    ]


def test_a_partner_reads_only_the_summary_an_analyst_approved_when_verifying(users, partner_key):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    incident_review(incident=incident, reviewer=users["analyst"], status=ReviewStatus.UNDER_REVIEW)
    response = api(users["analyst"]).post(
        f"/api/v1/incidents/{incident.client_uuid}/review/",
        {"status": "verified", "public_summary": f"  {SUMMARY}  "},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["public_summary"] == SUMMARY
    assert response.json()["description"] == DESCRIPTION
    assert _partner_description(partner_key, incident) == SUMMARY
    assert incident.id in set(
        IncidentChange.objects.filter(
            action=IncidentChange.Action.REVIEWED, fields__public_summary__new=SUMMARY
        ).values_list("incident_id", flat=True)
    )
    # The partner's q searches the approved summary, never the description.
    assert str(incident.client_uuid) in _ids(api(key=partner_key), "q=no casualties")
    assert str(incident.client_uuid) not in _ids(api(key=partner_key), "q=Abu Khaled")


def test_verifying_without_a_summary_gives_partners_no_description(edge, partner_key):
    assert _partner_description(partner_key, edge) == ""


def test_a_summary_is_approved_only_by_verifying(users):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    response = api(users["analyst"]).post(
        f"/api/v1/incidents/{incident.client_uuid}/review/",
        {"status": "under_review", "public_summary": SUMMARY},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {
        "public_summary": [
            "A shareable summary is approved by verifying the report: choose Verify."
        ]
    }
    incident.refresh_from_db()
    assert incident.public_summary == "" and incident.review_status == ReviewStatus.SUBMITTED


@pytest.mark.parametrize("who", ["partner", "reporter_a"])
def test_only_analysts_and_admins_take_review_decisions_by_api(users, who):
    incident = submit(users["reporter_a"], EDGE)
    response = api(users[who]).post(
        f"/api/v1/incidents/{incident.client_uuid}/review/",
        {"status": "verified", "public_summary": SUMMARY},
        format="json",
    )
    assert response.status_code == 403


def test_the_review_page_approves_the_summary_with_the_decision(users, partner_key):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    client = Client()
    client.force_login(users["analyst"])
    page = client.get(f"/review/{incident.client_uuid}/").content.decode()
    assert "Shareable summary for partners" in page
    assert (
        "Partners read this instead of the description once you verify the report; empty, they "
        "read no description. Name no person, source, street or building."
    ) in page
    response = client.post(
        f"/review/{incident.client_uuid}/decide/",
        {"status": "verified", "note": "", "duplicate_of": "", "public_summary": SUMMARY},
    )
    assert response.status_code == 302
    assert _partner_description(partner_key, incident) == SUMMARY


def test_the_review_page_refuses_a_summary_with_another_decision(users):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    client = Client()
    client.force_login(users["analyst"])
    response = client.post(
        f"/review/{incident.client_uuid}/decide/",
        {"status": "under_review", "note": "", "duplicate_of": "", "public_summary": SUMMARY},
    )
    assert response.status_code == 400
    assert (
        "Shareable summary for partners: A shareable summary is approved by verifying the "
        "report: choose Verify."
    ) in response.content.decode()
    incident.refresh_from_db()
    assert incident.public_summary == ""


def test_a_decision_posted_without_the_summary_field_keeps_the_summary(users):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    incident_review(
        incident=incident,
        reviewer=users["analyst"],
        status=ReviewStatus.VERIFIED,
        public_summary=SUMMARY,
    )
    client = Client()
    client.force_login(users["analyst"])
    response = client.post(
        f"/review/{incident.client_uuid}/decide/", {"status": "under_review", "note": ""}
    )
    assert response.status_code == 302
    incident.refresh_from_db()
    assert incident.public_summary == SUMMARY


def test_the_summary_is_shown_in_arabic_pages_with_its_translation(users):
    incident = submit(users["reporter_a"], EDGE, description=DESCRIPTION)
    client = Client()
    client.force_login(users["analyst"])
    client.cookies["django_language"] = "ar"
    page = client.get(f"/review/{incident.client_uuid}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert "ملخص قابل للمشاركة مع الشركاء" in page.content.decode()


def test_a_reporter_reads_and_searches_their_own_report_as_written(users):
    incident = submit(users["reporter_a"], EDGE, place_name=PLACE_TYPED, description=DESCRIPTION)
    client = api(users["reporter_a"])
    record = only_record(client.get("/api/v1/incidents/?q=Abu Khaled").json(), incident)
    assert (record["place_name"], record["description"]) == (PLACE_TYPED, DESCRIPTION)
    assert record["subdistrict"] == "SY070000"
