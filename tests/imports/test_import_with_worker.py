"""An upload with the real stack: the Celery worker takes the job after commit and runs it."""

import time
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from imports.models import ImportJob
from imports.services import import_job_create
from incidents.models import Incident
from stats.services import stats_rebuild
from tests.imports.helpers import acled_row, acled_rows, acled_text

# No django_db mark: the job must be committed for the worker to see it.
pytestmark = pytest.mark.celery


@pytest.fixture
def admin_user(django_db_blocker, reference_data):
    with django_db_blocker.unblock():
        user = get_user_model().objects.create_user(username=f"admin-{uuid.uuid4().hex[:8]}")
        user.groups.add(Group.objects.get(name="admin"))
        yield user
        ImportJob.objects.filter(created_by=user).delete()
        Incident.all_objects.filter(reporter=user).delete()
        stats_rebuild()
        # The user stays (the append-only audit log points at it), disabled.
        get_user_model().objects.filter(pk=user.pk).update(is_active=False)
        connection.close()


def test_the_worker_runs_an_uploaded_import(app_stack, admin_user):
    prefix = f"W{uuid.uuid4().hex[:6]}-"
    rows = [*acled_rows(4, prefix=prefix), acled_row(event_id_cnty=f"{prefix}X", latitude="x")]
    upload = SimpleUploadedFile("acled.csv", acled_text(rows).encode(), content_type="text/csv")

    job = import_job_create(file=upload, user=admin_user)  # autocommit: sent at once

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            break
        time.sleep(0.5)
    assert job.status == ImportJob.Status.DONE, (job.error, app_stack.log()[-3000:])
    assert (job.inserted, job.rejected, job.progress) == (4, 1, 100)
    imported = Incident.objects.filter(external_id__startswith=prefix)
    assert imported.count() == 4
    assert not imported.filter(subdistrict__isnull=True).exists()
