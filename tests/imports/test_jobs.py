"""Uploads in the admin: the form, the job a worker runs, the progress and rejection pages, and
the fallback for jobs no worker took."""

import datetime
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from imports.models import ImportJob
from imports.services import import_job_create, import_job_run
from imports.tasks import run_import_job
from incidents.models import Incident
from tests.imports.helpers import acled_row, acled_rows, acled_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("reference_data")]

ADD_URL = "/admin/imports/importjob/add/"


@pytest.fixture
def sent(monkeypatch):
    """Tasks the code asks to send after commit (no broker in these tests)."""
    calls = []
    monkeypatch.setattr(
        "common.scheduling.send_after_commit", lambda task, *args: calls.append((task, args))
    )
    return calls


@pytest.fixture
def admin_user(users):
    """A user in the admin role, with access to the admin site."""
    user = users["admin"]
    user.is_staff = True
    user.save()
    return user


def upload(name: str, text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_an_upload_queues_a_job_that_the_task_runs(client, admin_user, users, sent):
    client.force_login(admin_user)
    rows = [*acled_rows(3), acled_row(event_id_cnty="OUT", latitude="33.51", longitude="36.29")]
    response = client.post(
        ADD_URL, {"file": upload("acled.csv", acled_text(rows)), "review_status": "verified"}
    )
    assert response.status_code == 302
    job = ImportJob.objects.get()
    assert (job.status, job.file_name, job.created_by) == ("queued", "acled.csv", users["admin"])
    assert sent == [(run_import_job, (job.pk,))]

    run_import_job(job.pk)  # what the worker does

    job.refresh_from_db()
    assert (job.status, job.progress, job.inserted, job.rejected) == ("done", 100, 3, 1)
    assert Incident.objects.filter(reporter=users["admin"]).count() == 3
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk]))
    assert page.status_code == 200
    html = page.content.decode()
    assert '<progress value="100" max="100"' in html
    assert "outside_area" in html and "OUT" in html
    assert 'http-equiv="refresh"' not in html  # finished: the page stops reloading


def test_a_running_job_page_reloads_itself(client, admin_user, users):
    client.force_login(admin_user)
    job = ImportJob.objects.create(status=ImportJob.Status.RUNNING, progress=40)
    html = client.get(reverse("admin:imports_importjob_change", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' in html
    assert '<progress value="40" max="100"' in html


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", "\x89PNG", "Upload a .csv file"),
        ("other.csv", "id,date,lat,lon\n1,2021-01-01,35.8,36.6\n", "event_id_cnty"),
        ("empty.csv", "", "The submitted file is empty"),
    ],
)
def test_an_upload_that_is_not_an_acled_csv_is_refused(
    client, admin_user, users, sent, name, content, message
):
    client.force_login(admin_user)
    response = client.post(ADD_URL, {"file": upload(name, content), "review_status": "verified"})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()
    assert sent == []


def test_an_upload_over_the_size_limit_is_refused(client, admin_user, users, sent, monkeypatch):
    monkeypatch.setattr("imports.forms.MAX_UPLOAD_BYTES", 100)
    client.force_login(admin_user)
    text = acled_text(acled_rows(3))
    response = client.post(ADD_URL, {"file": upload("a.csv", text), "review_status": "verified"})
    assert "larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


@pytest.mark.parametrize("role", ["analyst", "partner", "reporter_a"])
def test_only_administrators_import(client, admin_user, users, role):
    users[role].is_staff = True
    users[role].save()
    client.force_login(users[role])
    assert client.get(ADD_URL).status_code in (302, 403)


def _queued_job(user, rows, *, minutes_ago=0) -> ImportJob:
    job = import_job_create(file=upload("acled.csv", acled_text(rows)), user=user)
    ImportJob.objects.filter(pk=job.pk).update(
        created_at=timezone.now() - datetime.timedelta(minutes=minutes_ago)
    )
    return job


def test_run_import_jobs_runs_the_jobs_no_worker_took(users, sent):
    job = _queued_job(users["admin"], acled_rows(2))
    out = io.StringIO()
    call_command("run_import_jobs", stdout=out)
    job.refresh_from_db()
    assert (job.status, job.inserted) == ("done", 2)
    assert "1 import(s) run." in out.getvalue()
    # A second run finds nothing to do, and running the task again changes nothing.
    call_command("run_import_jobs", stdout=io.StringIO())
    assert import_job_run(job_id=job.pk) is None
    assert Incident.objects.count() == 2


def test_a_job_waiting_too_long_offers_to_run_it_now(client, admin_user, users, sent):
    job = _queued_job(users["admin"], acled_rows(1), minutes_ago=30)
    client.force_login(admin_user)
    page = client.get(reverse("admin:imports_importjob_change", args=[job.pk])).content.decode()
    assert "No worker has started this import" in page
    response = client.post(reverse("admin:imports_importjob_run_now", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == "done"


def test_a_job_whose_file_is_bad_fails_with_the_reason(users, sent):
    job = import_job_create(
        file=upload("acled.csv", acled_text(acled_rows(1)) + ",".join(["x"] * 40) + "\n"),
        user=users["admin"],
    )
    run_import_job(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert "Row 3" in job.error
    assert not Incident.objects.exists()


def test_a_job_interrupted_too_often_is_given_up(users, sent):
    job = _queued_job(users["admin"], acled_rows(1))
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING, attempts=3)
    run_import_job(job.pk)
    job.refresh_from_db()
    assert job.status == ImportJob.Status.FAILED
    assert not Incident.objects.exists()
