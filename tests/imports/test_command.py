"""manage.py import_acled and run_import_jobs."""

import io

import pytest
from django.core.management import CommandError, call_command

from imports.models import ImportJob
from incidents.models import Incident, ReviewStatus
from tests.imports.helpers import acled_row, acled_rows, write_acled

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]


def import_acled(*args) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("import_acled", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_prints_the_report_and_the_rejected_rows(tmp_path, users):
    rows = [*acled_rows(2), acled_row(event_id_cnty="SYR-X", event_date="yesterday")]
    path = write_acled(tmp_path / "acled.csv", rows)

    out, err = import_acled(str(path), "--user", users["admin"].username)

    assert "Rows read: 3" in out
    assert "Imported (new): 2" in out
    assert "Rejected: 1" in out
    assert "bad_date: event_date is not a date" in out
    assert "row 4  SYR-X  bad_date  [yesterday]" in out
    assert "100% Done" in err  # the progress, one line per step off a terminal
    job = ImportJob.objects.get()
    assert (job.source, job.status, job.inserted, job.created_by) == (
        "command",
        "done",
        2,
        users["admin"],
    )
    assert job.rejections.get().event_id == "SYR-X"


def test_a_second_run_reports_every_row_unchanged(tmp_path):
    path = write_acled(tmp_path / "acled.csv", acled_rows(3))
    import_acled(str(path))
    out, _ = import_acled(str(path))
    assert "Imported (new): 0" in out
    assert "Unchanged: 3" in out
    assert Incident.objects.count() == 3


def test_the_status_option_sets_the_review_status(tmp_path):
    path = write_acled(tmp_path / "acled.csv", acled_rows(1))
    import_acled(str(path), "--status", "under_review")
    assert Incident.objects.get().review_status == ReviewStatus.UNDER_REVIEW


def test_the_rejected_rows_can_be_written_to_a_file(tmp_path):
    path = write_acled(tmp_path / "acled.csv", [acled_row(fatalities="many")])
    rejected = tmp_path / "rejected.csv"
    import_acled(str(path), "--rejected-csv", str(rejected))
    assert rejected.read_text().splitlines()[1] == "2,SYR0001,bad_fatalities,many"


def test_a_file_without_the_acled_header_is_an_error_naming_the_columns(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("id,date,lat,lon\n1,2021-01-01,35.8,36.6\n")
    with pytest.raises(
        CommandError,
        match="columns: event_id_cnty, event_date, event_type, sub_event_type, latitude, longitude",
    ):
        import_acled(str(path))
    assert ImportJob.objects.get().status == ImportJob.Status.FAILED
    assert not Incident.objects.exists()


def test_an_unknown_user_is_an_error(tmp_path):
    path = write_acled(tmp_path / "acled.csv", acled_rows(1))
    with pytest.raises(CommandError, match="No user"):
        import_acled(str(path), "--user", "nobody-at-all")
