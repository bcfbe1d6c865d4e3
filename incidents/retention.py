"""Data retention: precise locations and photos are kept only as long as they are needed.

After RETENTION_EXACT_LOCATION_DAYS an incident's location is replaced by its point on the
0.05 degree grid (the one partners see), the observer's bearing and distance (which hint where the
reporter stood) are cleared, and the locations in its edit history are snapped the same way.
Zones, statistics and counts are unchanged: they were computed from the precise point when it was
written. After RETENTION_PHOTO_DAYS photos are deleted, files and rows. Each run is audit-logged.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from incidents.models import COARSE_GRID_DEGREES, Attachment

COARSEN_LOCATIONS_SQL = """
WITH coarsened AS (
    UPDATE incidents_incident i
    SET location = i.location_coarse,
        location_precision = CASE WHEN i.location_precision IN ('exact', 'town')
                                  THEN 'near_town' ELSE i.location_precision END,
        direction = '',
        distance_estimate_m = NULL,
        updated_at = clock_timestamp()
    WHERE i.occurred_at < %(cutoff)s
      AND NOT ST_Equals(i.location, i.location_coarse)
    RETURNING i.id
)
SELECT array_agg(id) FROM coarsened
"""

# The history keeps [lon, lat] pairs under "location": snap them to the same grid.
SNAP_HISTORY_SQL = """
UPDATE incidents_incidentchange c
SET fields = c.fields || jsonb_build_object('location', jsonb_build_object(
    'old', CASE WHEN jsonb_typeof(c.fields->'location'->'old') = 'array' THEN jsonb_build_array(
        round((c.fields->'location'->'old'->>0)::numeric / %(step)s) * %(step)s,
        round((c.fields->'location'->'old'->>1)::numeric / %(step)s) * %(step)s) END,
    'new', CASE WHEN jsonb_typeof(c.fields->'location'->'new') = 'array' THEN jsonb_build_array(
        round((c.fields->'location'->'new'->>0)::numeric / %(step)s) * %(step)s,
        round((c.fields->'location'->'new'->>1)::numeric / %(step)s) * %(step)s) END))
WHERE c.incident_id = ANY(%(ids)s) AND c.fields ? 'location'
"""


@dataclass(frozen=True)
class RetentionResult:
    locations_coarsened: int
    history_entries_snapped: int
    photos_deleted: int


def retention_apply(
    *, location_days: int | None, photo_days: int | None, dry_run: bool = False
) -> RetentionResult:
    """Coarsen locations older than `location_days` and delete photos older than `photo_days`
    (None: leave them). With `dry_run`, count without changing anything."""
    from accounts.models import AuditEvent
    from accounts.services import audit_record

    now = timezone.now()
    coarsened = snapped = 0
    photos: list[Attachment] = []
    with transaction.atomic():
        if location_days is not None:
            cutoff = now - datetime.timedelta(days=location_days)
            with connection.cursor() as cursor:
                cursor.execute(COARSEN_LOCATIONS_SQL, {"cutoff": cutoff})
                ids = cursor.fetchone()[0] or []
                coarsened = len(ids)
                if ids:
                    cursor.execute(SNAP_HISTORY_SQL, {"ids": ids, "step": COARSE_GRID_DEGREES})
                    snapped = cursor.rowcount
        if photo_days is not None:
            photo_cutoff = now - datetime.timedelta(days=photo_days)
            photos = list(Attachment.objects.filter(created_at__lt=photo_cutoff))
            if not dry_run:
                Attachment.objects.filter(pk__in=[photo.pk for photo in photos]).delete()
        if dry_run:
            transaction.set_rollback(True)
        else:
            audit_record(
                action=AuditEvent.Action.RETENTION,
                object_type="incident",
                detail={
                    "location_days": location_days,
                    "photo_days": photo_days,
                    "locations_coarsened": coarsened,
                    "history_entries_snapped": snapped,
                    "photos_deleted": len(photos),
                },
            )
            # Files go once the rows are gone for good.
            files = [photo.file.name for photo in photos]
            transaction.on_commit(lambda: _delete_files(files))
    return RetentionResult(coarsened, snapped, len(photos))


def _delete_files(names: list[str]) -> None:
    from django.core.files.storage import default_storage

    for name in names:
        default_storage.delete(name)
