"""Retention: old precise locations become grid points (history too), old photos are deleted;
counts and zones do not change; each run is audit-logged."""

import datetime

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from accounts.models import AuditEvent
from incidents.models import Attachment, Incident, IncidentChange
from incidents.retention import retention_apply
from stats.services import stats_rebuild
from tests.alerts.helpers import verified_incident
from tests.factories import IDLIB, NAYRAB
from tests.stats.helpers import actual

pytestmark = pytest.mark.django_db


@pytest.fixture
def old_and_new(reference_data, users):
    reporter, analyst = users["reporter_a"], users["analyst"]
    old = verified_incident(
        reporter=reporter,
        analyst=analyst,
        point=(IDLIB[0] + 0.0123, IDLIB[1] + 0.0077),
        occurred_at=timezone.now() - datetime.timedelta(days=800),
    )
    Incident.objects.filter(pk=old.pk).update(direction="N", distance_estimate_m=900)
    old.refresh_from_db()
    # An admin moved it once: the history holds both precise points.
    IncidentChange.objects.create(
        incident=old,
        user=analyst,
        action=IncidentChange.Action.ADMIN_EDITED,
        fields={
            "location": {
                "old": [IDLIB[0] + 0.0311, IDLIB[1] - 0.0123],
                "new": [round(old.location.x, 7), round(old.location.y, 7)],
            }
        },
    )
    new = verified_incident(reporter=reporter, analyst=analyst, point=NAYRAB)
    return old, new


def _photo(incident, days_old: int) -> Attachment:
    photo = Attachment(
        incident=incident, content_type="image/jpeg", width=1, height=1, size_bytes=3
    )
    photo.file.save("x.jpg", ContentFile(b"abc"), save=False)
    photo.save()
    Attachment.objects.filter(pk=photo.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=days_old)
    )
    return photo


def test_old_locations_are_coarsened_and_new_ones_kept(old_and_new):
    old, new = old_and_new
    stats_rebuild()
    before_stats = actual()
    zones_before = (old.governorate_id, old.district_id, old.subdistrict_id, old.in_corridor)

    result = retention_apply(location_days=730, photo_days=None)
    assert result.locations_coarsened == 1

    old.refresh_from_db()
    new.refresh_from_db()
    assert old.location.equals_exact(old.location_coarse, 1e-9)
    assert abs(old.location.x / 0.05 - round(old.location.x / 0.05)) < 1e-6
    assert old.direction == "" and old.distance_estimate_m is None
    assert old.location_precision == "near_town"
    assert (
        old.governorate_id,
        old.district_id,
        old.subdistrict_id,
        old.in_corridor,
    ) == zones_before
    assert not new.location.equals_exact(new.location_coarse, 1e-9)
    # History: no location value finer than the grid.
    for change in IncidentChange.objects.filter(incident=old):
        for side in ("old", "new"):
            value = change.fields.get("location", {}).get(side)
            if value:
                assert all(abs(c / 0.05 - round(c / 0.05)) < 1e-6 for c in value), value
    # Counts and zones untouched: the statistics are the same after a rebuild.
    stats_rebuild()
    assert actual() == before_stats
    # A second run changes nothing.
    assert retention_apply(location_days=730, photo_days=None).locations_coarsened == 0
    assert AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION).count() == 2


def test_old_photos_are_deleted_with_their_files(old_and_new, django_capture_on_commit_callbacks):
    old, new = old_and_new
    stale = _photo(old, days_old=400)
    fresh = _photo(new, days_old=10)
    assert default_storage.exists(stale.file.name)
    with django_capture_on_commit_callbacks(execute=True):
        result = retention_apply(location_days=None, photo_days=365)
    assert result.photos_deleted == 1
    assert not Attachment.objects.filter(pk=stale.pk).exists()
    assert not default_storage.exists(stale.file.name)
    assert Attachment.objects.filter(pk=fresh.pk).exists()
    assert default_storage.exists(fresh.file.name)


def test_a_dry_run_changes_nothing(old_and_new, capsys):
    old, _new = old_and_new
    photo = _photo(old, days_old=400)
    call_command("apply_retention", "--dry-run")
    out = capsys.readouterr().out
    assert "1 locations would be coarsened" in out and "1 photos would be deleted" in out
    old_location = Incident.objects.get(pk=old.pk).location
    assert old_location.equals_exact(old.location, 1e-12)
    assert Attachment.objects.filter(pk=photo.pk).exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.RETENTION).exists()
