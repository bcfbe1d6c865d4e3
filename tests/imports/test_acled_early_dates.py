"""ACLED rows dated before 15 March 2011 (the start of the conflict) are rejected, with the reason
and the date in the rejection report; a row of that very day is imported."""

import pytest
from django.utils import translation

from imports.models import ImportJob, RejectionReason
from imports.services import acled_import
from incidents.models import Incident
from tests.imports.helpers import acled_row, write_acled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

LABEL = "event_date is before 2011-03-15, the start of the conflict"


def test_rows_dated_before_the_conflict_are_rejected_with_their_date(tmp_path):
    rows = [
        acled_row(event_id_cnty="OLD1", event_date="2011-03-14"),
        acled_row(event_id_cnty="OLD2", event_date="01 January 1999"),
        acled_row(event_id_cnty="OLD3", event_date="1900-01-01"),
        acled_row(event_id_cnty="FIRST", event_date="2011-03-15"),
        acled_row(event_id_cnty="TYPO", event_date="0001-01-01"),  # not a year at all
    ]
    job = ImportJob.objects.create(status=ImportJob.Status.RUNNING, file_name="old.csv")

    report = acled_import(write_acled(tmp_path / "old.csv", rows), job=job)

    assert report.inserted == 1
    assert Incident.objects.get().external_id == "FIRST"
    listed = [(r.row, r.event_id, r.reason, r.value) for r in report.rejections]
    assert listed == [
        (2, "OLD1", "early_date", "2011-03-14"),
        (3, "OLD2", "early_date", "01 January 1999"),
        (4, "OLD3", "early_date", "1900-01-01"),
        (6, "TYPO", "bad_date", "0001-01-01"),
    ]
    assert report.rejected_by_reason == {"early_date": 3, "bad_date": 1}
    stored = job.rejections.order_by("row_number").values_list("event_id", "reason", "value")
    assert list(stored) == [(event_id, reason, value) for _, event_id, reason, value in listed]


def test_the_rejection_report_says_why(tmp_path):
    path = write_acled(tmp_path / "old.csv", [acled_row(event_date="2010-12-31")])
    report = acled_import(path)
    with translation.override("en"):
        assert report.rejections[0].message == LABEL
        assert f"1  early_date: {LABEL}" in [line.strip() for line in report.lines()]
    with translation.override("ar"):
        assert (
            str(RejectionReason.EARLY_DATE.label) == "event_date قبل 2011-03-15، تاريخ بداية النزاع"
        )
