"""The ACLED import service: idempotent upserts, rejections with reasons, zones as for reports
entered by hand, the export round trip, history, statistics."""

import datetime
import io
import uuid

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from accounts.models import AuditEvent
from imports.acled import ACLED_NAMESPACE, ImportFileError
from imports.models import ImportJob, ImportRejection
from imports.services import acled_import
from incidents import exports
from incidents.models import Incident, IncidentChange, ReviewStatus, SubEventType
from incidents.services import incident_submit
from stats.services import stats_recompute_pending
from tests.factories import ARIHA, ATMEH, IDLIB, KAFR_NUBL, SARAQIB
from tests.imports.helpers import acled_row, acled_rows, acled_text, write_acled
from tests.stats.helpers import actual, expected

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

# Fields an import writes, to compare the rows before and after.
COMPARED = (
    "external_id",
    "client_uuid",
    "occurred_at",
    "time_precision",
    "location",
    "location_precision",
    "place_name",
    "event_type_id",
    "sub_event_type_id",
    "perpetrator_side",
    "target",
    "weapon",
    "killed_civilians",
    "killed_combatants",
    "description",
    "sources",
    "review_status",
    "governorate_id",
    "district_id",
    "subdistrict_id",
    "in_corridor",
    "distance_to_m4_m",
    "updated_at",
)


def snapshot() -> list[tuple]:
    return list(
        Incident.all_objects.filter(external_id__isnull=False)
        .order_by("external_id")
        .values_list(*COMPARED)
    )


def run(tmp_path, rows, name="acled.csv", **kwargs):
    return acled_import(write_acled(tmp_path / name, rows), **kwargs)


def test_importing_the_same_file_twice_leaves_the_same_rows(tmp_path):
    rows = acled_rows(5)
    first = run(tmp_path, rows)
    before = snapshot()
    second = run(tmp_path, rows)

    assert (first.total, first.inserted, first.updated, first.unchanged) == (5, 5, 0, 0)
    assert (second.total, second.inserted, second.updated, second.unchanged) == (5, 0, 0, 5)
    assert snapshot() == before
    assert Incident.objects.count() == 5


def test_a_changed_row_is_updated_and_the_others_left_alone(tmp_path):
    rows = acled_rows(4)
    run(tmp_path, rows)
    before = {row[0]: row for row in snapshot()}
    rows[2]["fatalities"] = "7"

    report = run(tmp_path, rows)

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 3)
    changed = Incident.objects.get(external_id="SYR00003")
    assert changed.killed_combatants == 7
    after = {row[0]: row for row in snapshot()}
    assert [key for key in after if after[key] != before[key]] == ["SYR00003"]


def test_an_update_is_kept_in_the_incident_history(tmp_path, users):
    rows = [acled_row()]
    run(tmp_path, rows, user=users["admin"])
    rows[0].update(fatalities="5", notes="Revised: five killed.")
    run(tmp_path, rows, user=users["admin"])

    incident = Incident.objects.get(external_id="SYR0001")
    created, updated = incident.changes.order_by("at", "id")
    assert created.action == updated.action == IncidentChange.Action.IMPORTED
    assert created.fields == {}
    assert updated.user == users["admin"]
    assert updated.fields == {
        "killed_combatants": {"old": 2, "new": 5},
        "description": {
            "old": "Regime forces shelled the western edge of Ariha.",
            "new": "Revised: five killed.",
        },
    }


def test_imported_values_follow_the_acled_columns(tmp_path, users):
    run(
        tmp_path,
        [
            acled_row(
                event_date="06 March 2020",
                time_precision="2",
                geo_precision="3",
                civilian_targeting="Civilian targeting",
                fatalities="3",
                actor1="Military Forces of Russia (2000-)",
                source="SOHR;  Syria Call ; ",
            )
        ],
        user=users["admin"],
    )
    incident = Incident.objects.get(external_id="SYR0001")
    damascus = timezone.get_default_timezone()
    assert incident.occurred_at == datetime.datetime(2020, 3, 6, tzinfo=damascus)
    assert incident.time_precision == "week"
    assert incident.location_precision == "region"
    assert (incident.location.x, incident.location.y) == (36.6096, 35.8137)
    assert incident.sub_event_type.slug == "shelling-artillery-missile-attack"
    assert incident.perpetrator_side == "russia"
    assert incident.target == "civilians"
    assert (incident.killed_civilians, incident.killed_combatants) == (3, 0)
    assert incident.sources == ["SOHR", "Syria Call"]
    assert incident.place_name == "Ariha"
    assert incident.review_status == ReviewStatus.VERIFIED
    assert incident.verified_at is not None
    assert incident.reporter == users["admin"]
    assert incident.client_uuid == uuid.uuid3(ACLED_NAMESPACE, "SYR0001")


def test_columns_are_read_by_name_in_any_order_with_extra_ones(tmp_path):
    columns = ["notes", "my_extra", "longitude", "latitude", "sub_event_type", "event_type"]
    columns += ["event_date", "event_id_cnty", "fatalities"]
    report = acled_import(
        write_acled(tmp_path / "a.csv", [acled_row(my_extra="x")], columns=columns)
    )
    assert report.inserted == 1
    incident = Incident.objects.get(external_id="SYR0001")
    assert incident.description.startswith("Regime forces")
    # Missing optional columns take their defaults.
    assert (incident.time_precision, incident.location_precision) == ("day", "town")
    assert incident.sources == []


def test_the_status_of_new_incidents_can_be_chosen(tmp_path):
    run(tmp_path, [acled_row()], review_status=ReviewStatus.SUBMITTED)
    incident = Incident.objects.get(external_id="SYR0001")
    assert incident.review_status == ReviewStatus.SUBMITTED
    assert incident.verified_at is None


def test_a_missing_required_column_is_named(tmp_path):
    columns = ["event_id_cnty", "event_date", "event_type", "latitude"]
    with pytest.raises(ImportFileError, match="sub_event_type, longitude"):
        acled_import(write_acled(tmp_path / "a.csv", [acled_row()], columns=columns))


def test_a_file_that_is_not_utf8_csv_is_refused(tmp_path):
    path = tmp_path / "image.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00")
    with pytest.raises(ImportFileError):
        acled_import(path)


def test_a_malformed_row_stores_nothing_and_names_the_row(tmp_path):
    text = acled_text(acled_rows(3)) + ",".join(["x"] * 40) + "\n"
    path = tmp_path / "broken.csv"
    path.write_text(
        text + acled_text(acled_rows(2, prefix="L")).split("\n", 1)[1], encoding="utf-8"
    )
    with pytest.raises(ImportFileError, match="Row 5"):
        acled_import(path)
    assert not Incident.objects.exists()


REJECTED = [
    # (row values, reason code)
    ({"event_id_cnty": ""}, "missing_id"),
    ({"event_id_cnty": "X" * 65}, "id_too_long"),
    ({"event_id_cnty": "DUP1", "fatalities": "1"}, "duplicate_id"),
    ({"event_date": "2021-02-30"}, "bad_date"),
    ({"event_date": "10/03/2021"}, "bad_date"),
    ({"event_date": "2999-01-01"}, "future_date"),
    ({"latitude": "NaN"}, "bad_coordinates"),
    ({"latitude": "95.1"}, "bad_coordinates"),
    ({"longitude": ""}, "bad_coordinates"),
    ({"latitude": "33.5138", "longitude": "36.2765"}, "outside_area"),  # Damascus
    ({"latitude": f"{ARIHA[0]}", "longitude": f"{ARIHA[1]}"}, "outside_area"),  # swapped
    ({"event_type": "Skirmishes"}, "unknown_event_type"),
    ({"sub_event_type": "Air/drone strike", "event_type": "Battles"}, "unknown_sub_event_type"),
    ({"sub_event_type": "Drone swarm"}, "unknown_sub_event_type"),
    ({"fatalities": "-1"}, "bad_fatalities"),
    ({"fatalities": "two"}, "bad_fatalities"),
    ({"time_precision": "4"}, "bad_precision"),
]


def test_rejected_rows_are_listed_with_their_reasons(tmp_path):
    rows = [
        acled_row(**{"event_id_cnty": f"BAD{n}", **values})
        for n, (values, _) in enumerate(REJECTED)
    ]
    rows.append(acled_row(event_id_cnty="DUP1", fatalities="9"))  # the last DUP1 is kept
    rows.append(acled_row(event_id_cnty="GOOD1"))
    job = ImportJob.objects.create(status=ImportJob.Status.RUNNING, file_name="rejects.csv")

    report = run(tmp_path, rows, job=job)

    assert report.total == len(REJECTED) + 2
    assert report.inserted == 2
    listed = [(rejection.row, rejection.reason) for rejection in report.rejections]
    assert listed == [(n + 2, reason) for n, (_, reason) in enumerate(REJECTED)]
    assert sum(report.rejected_by_reason.values()) == report.rejected == len(REJECTED)
    assert report.rejected_by_reason["bad_date"] == 2
    assert Incident.objects.get(external_id="DUP1").killed_combatants == 9
    stored = list(job.rejections.order_by("row_number").values_list("row_number", "reason"))
    assert stored == listed
    bad_latitude = job.rejections.get(reason="bad_coordinates", value__startswith="95.1")
    assert bad_latitude.event_id == "BAD7"
    job.refresh_from_db()
    assert (job.status, job.progress, job.rejected) == ("done", 100, len(REJECTED))
    assert job.rejected_by_reason == report.rejected_by_reason


def test_every_rejected_row_can_be_written_to_a_csv(tmp_path):
    rows = [acled_row(event_id_cnty="A", latitude="x"), acled_row(event_id_cnty="B")]
    out = io.StringIO()
    run(tmp_path, rows, rejections_csv=out)
    assert out.getvalue().splitlines() == [
        "row,event_id_cnty,reason,value",
        '2,A,bad_coordinates,"x, 36.6096"',
    ]


def test_an_hxl_hashtag_row_is_skipped(tmp_path):
    hashtags = acled_row(event_id_cnty="#event+code", event_date="#date", latitude="#geo+lat")
    report = run(tmp_path, [hashtags, acled_row()])
    assert (report.total, report.inserted, report.rejected) == (1, 1, 0)


def test_a_deleted_incident_is_not_imported_again(tmp_path):
    run(tmp_path, [acled_row()])
    Incident.objects.filter(external_id="SYR0001").update(deleted_at=timezone.now())
    report = run(tmp_path, [acled_row(fatalities="4")])
    assert report.rejected_by_reason == {"deleted": 1}


PLACES = {
    "ariha": ARIHA,
    "atmeh": ATMEH,
    "idlib": IDLIB,
    "kafr-nubl": KAFR_NUBL,
    "saraqib": SARAQIB,
    "jisr-al-shughur": (36.3181, 35.8117),
    "salanfa": (36.1400, 35.6900),
    "suqaylabiyah": (36.3906, 35.3694),
    "daret-azza": (36.9500, 36.2000),
}


def test_imported_incidents_get_the_zones_of_reports_entered_by_hand(tmp_path, reporter):
    shelling = SubEventType.objects.select_related("event_type").get(
        slug="shelling-artillery-missile-attack"
    )
    rows, submitted = [], {}
    for name, (lon, lat) in PLACES.items():
        rows.append(acled_row(event_id_cnty=f"Z-{name}", latitude=str(lat), longitude=str(lon)))
        submitted[name] = incident_submit(
            reporter=reporter,
            client_uuid=uuid.uuid4(),
            data={
                "occurred_at": timezone.now() - datetime.timedelta(days=1),
                "location": Point(lon, lat, srid=4326),
                "event_type": shelling.event_type,
                "sub_event_type": shelling,
            },
        ).incident
    report = run(tmp_path, rows)
    assert report.inserted == len(PLACES)

    zone_fields = ("governorate_id", "district_id", "subdistrict_id", "in_corridor")
    for name, by_hand in submitted.items():
        imported = Incident.objects.get(external_id=f"Z-{name}")
        assert imported.location == by_hand.location
        assert [getattr(imported, field) for field in zone_fields] == [
            getattr(by_hand, field) for field in zone_fields
        ], name
        assert imported.distance_to_m4_m == by_hand.distance_to_m4_m
    assert Incident.objects.filter(external_id="Z-ariha", in_corridor=True).exists()


def test_statistics_stay_exact_after_imports(tmp_path):
    rows = acled_rows(6)
    for n, row in enumerate(rows):
        row["event_date"] = f"2021-03-{10 + n % 3:02d}"
        row["latitude"], row["longitude"] = (
            str([ARIHA, ATMEH, SARAQIB][n % 3][1]),
            str([ARIHA, ATMEH, SARAQIB][n % 3][0]),
        )
    run(tmp_path, rows)
    stats_recompute_pending()
    assert actual() == expected()
    assert actual()

    rows[0].update(event_date="2021-03-01", fatalities="9")  # another day, more killed
    rows[1].update(latitude=str(KAFR_NUBL[1]), longitude=str(KAFR_NUBL[0]))  # another zone
    run(tmp_path, rows)
    stats_recompute_pending()
    assert actual() == expected()


def _export(queryset) -> str:
    return "".join(exports.acled_csv(queryset.order_by("id"), exact=True))


def test_an_export_of_imported_events_imports_back_unchanged(tmp_path):
    rows = acled_rows(3)
    rows[1].update(civilian_targeting="Civilian targeting", notes="=cmd|' /C calc'!A0")
    rows[2].update(actor1="Hayat Tahrir al-Sham", time_precision="3", geo_precision="2")
    run(tmp_path, rows)
    before = snapshot()
    exported = tmp_path / "export.csv"
    exported.write_text(_export(Incident.objects.all()), encoding="utf-8")

    report = acled_import(exported)

    assert (report.inserted, report.updated, report.unchanged) == (0, 0, 3)
    assert snapshot() == before
    assert Incident.objects.get(external_id="SYR00002").description == "=cmd|' /C calc'!A0"


def test_own_reports_exported_and_imported_elsewhere_keep_their_identity(tmp_path, reporter):
    sub = SubEventType.objects.select_related("event_type").get(slug="air-drone-strike")
    own = incident_submit(
        reporter=reporter,
        client_uuid=uuid.uuid4(),
        data={
            "occurred_at": datetime.datetime(2021, 3, 10, 9, 30, tzinfo=datetime.UTC),
            "location": Point(*ATMEH, srid=4326),
            "place_name": "Atmeh",
            "event_type": sub.event_type,
            "sub_event_type": sub,
            "perpetrator_side": "russia",
            "target": "camp",
            "weapon": "aircraft",
            "killed_civilians": 2,
            "killed_combatants": 1,
            "description": "Strike near the camps.",
            "sources": ["Field monitor", "Camp manager"],
        },
    ).incident
    exported = tmp_path / "export.csv"
    exported.write_text(_export(Incident.objects.filter(pk=own.pk)), encoding="utf-8")

    # Here, where the report lives, the row is not imported a second time.
    report = acled_import(exported)
    assert report.rejected_by_reason == {"local_report": 1}

    # In another monitor (here: once the report is gone) it comes back as the same report.
    Incident.all_objects.filter(pk=own.pk).delete()
    report = acled_import(exported)
    assert report.inserted == 1
    copy = Incident.objects.get(client_uuid=own.client_uuid)
    assert copy.external_id == f"SYRCM-{own.client_uuid}"
    assert copy.occurred_at.astimezone(timezone.get_default_timezone()).date() == datetime.date(
        2021, 3, 10
    )
    assert (copy.location.x, copy.location.y) == ATMEH
    assert (copy.sub_event_type, copy.perpetrator_side, copy.target, copy.weapon) == (
        sub,
        "russia",
        "camp",
        "aircraft",
    )
    assert (copy.killed_civilians, copy.killed_combatants) == (3, 0)  # ACLED has one count
    assert (copy.place_name, copy.description) == ("Atmeh", "Strike near the camps.")
    assert copy.sources == ["Field monitor", "Camp manager"]
    assert (copy.subdistrict_id, copy.in_corridor) == (own.subdistrict_id, own.in_corridor)


def test_an_import_is_recorded_in_the_audit_log(tmp_path, users):
    rows = [*acled_rows(2), acled_row(event_id_cnty="X", latitude="")]
    run(tmp_path, rows, user=users["admin"])
    event = AuditEvent.objects.get(action=AuditEvent.Action.IMPORT)
    assert event.user == users["admin"]
    assert event.detail["inserted"] == 2
    assert event.detail["rejected_by_reason"] == {"bad_coordinates": 1}


def test_progress_goes_up_to_one_hundred(tmp_path):
    seen = []
    run(tmp_path, acled_rows(3), progress=lambda percent, phase: seen.append(percent))
    assert seen == sorted(seen)
    assert seen[-1] == 100


def test_a_job_keeps_at_most_the_first_rejections(tmp_path, monkeypatch):
    monkeypatch.setattr("imports.services.REJECTIONS_KEPT", 2)
    job = ImportJob.objects.create(status=ImportJob.Status.RUNNING)
    report = run(tmp_path, acled_rows(5, latitude="north"), job=job)
    assert report.rejected == 5
    assert len(report.rejections) == 2
    assert ImportRejection.objects.filter(job=job).count() == 2


def test_a_spreadsheet_csv_with_byte_order_mark_and_crlf_imports(tmp_path):
    text = acled_text(acled_rows(2)).replace("\n", "\r\n")
    path = tmp_path / "excel.csv"
    path.write_bytes("\ufeff".encode() + text.encode())
    report = acled_import(path)
    assert (report.inserted, report.rejected) == (2, 0)
    assert Incident.objects.get(external_id="SYR00001").description.endswith("Ariha.")


def test_an_open_text_file_imports_like_a_path():
    report = acled_import(io.StringIO(acled_text(acled_rows(2))))
    assert report.inserted == 2
