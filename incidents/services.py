"""Writes to incidents: every path that creates a report (API, web form, admin) comes here."""

from __future__ import annotations

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.history import SUBMITTED_FIELDS, incident_change_record, incident_snapshot
from incidents.models import EventType, Incident, IncidentChange, ReviewStatus, SubEventType
from patrols.models import M4_HIGHWAY
from zones.services import zone_area_validate

# How far ahead of the server clock a report may be dated (phones' clocks drift).
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)

# The zones of points: sub-district by point-in-polygon, district and governorate from the
# sub-district's parents (the ADM2 layer is the merged ADM3, so the hierarchy is consistent),
# falling back to their own polygons in border gaps; corridor membership; true distance in metres
# to the M4 on the spheroid. `{points}` is any relation with `id` and `location` columns (the
# incidents table here; a bulk import's staged rows), so every writer gets the same zones.
ZONES_OF_POINTS_SQL = """
    SELECT inc.id,
           sd.id AS subdistrict_id,
           dd.district_id,
           gg.governorate_id,
           EXISTS (
               SELECT 1 FROM zones_zone c
               WHERE c.kind = 'security_corridor' AND ST_Intersects(c.geom, inc.location)
           ) AS in_corridor,
           (
               SELECT ST_Distance(r.geom::geography, inc.location::geography)
               FROM patrols_route r WHERE r.slug = %(m4_slug)s
           ) AS distance_m
    FROM {points} inc
    LEFT JOIN LATERAL (
        SELECT z.id, z.parent_id FROM zones_zone z
        WHERE z.kind = 'subdistrict' AND ST_Intersects(z.geom, inc.location)
        ORDER BY z.id LIMIT 1
    ) sd ON TRUE
    CROSS JOIN LATERAL (
        SELECT COALESCE(sd.parent_id, (
            SELECT z.id FROM zones_zone z
            WHERE z.kind = 'district' AND ST_Intersects(z.geom, inc.location)
            ORDER BY z.id LIMIT 1
        )) AS district_id
    ) dd
    CROSS JOIN LATERAL (
        SELECT COALESCE(
            (SELECT z.parent_id FROM zones_zone z WHERE z.id = dd.district_id),
            (SELECT z.id FROM zones_zone z
             WHERE z.kind = 'governorate' AND ST_Intersects(z.geom, inc.location)
             ORDER BY z.id LIMIT 1)
        ) AS governorate_id
    ) gg
"""

# One statement assigns the zones of every incident (or of the given ids). Only rows whose zones
# changed are written, so running it twice changes nothing.
ZONES_ASSIGN_SQL = f"""
WITH assigned AS ({ZONES_OF_POINTS_SQL.replace("{points}", "incidents_incident").rstrip()}
    WHERE %(ids)s::bigint[] IS NULL OR inc.id = ANY(%(ids)s::bigint[])
)
UPDATE incidents_incident i
SET subdistrict_id = a.subdistrict_id,
    district_id = a.district_id,
    governorate_id = a.governorate_id,
    in_corridor = a.in_corridor,
    distance_to_m4_m = a.distance_m,
    updated_at = clock_timestamp()
FROM assigned a
WHERE i.id = a.id
  AND (i.subdistrict_id IS DISTINCT FROM a.subdistrict_id
       OR i.district_id IS DISTINCT FROM a.district_id
       OR i.governorate_id IS DISTINCT FROM a.governorate_id
       OR i.in_corridor IS DISTINCT FROM a.in_corridor
       OR i.distance_to_m4_m IS DISTINCT FROM a.distance_m)
"""  # noqa: S608 (built from the constant above)  # nosec B608


def incident_zones_assign(*, ids: list[int] | None = None) -> int:
    """Assign zones to the given incidents, or to all of them, in one set-based UPDATE.

    Returns the number of rows whose zones changed.
    """
    with connection.cursor() as cursor:
        cursor.execute(ZONES_ASSIGN_SQL, {"ids": ids, "m4_slug": M4_HIGHWAY})
        return cursor.rowcount


class SubmissionConflict(Exception):
    """The client UUID was used before for a report with different content."""

    def __init__(self, existing: Incident):
        super().__init__(_("This client UUID was already used for a different report."))
        self.existing = existing


@dataclass(frozen=True)
class SubmitResult:
    incident: Incident
    created: bool


def incident_validate(incident: Incident) -> None:
    """Checks beyond field types: not in the future, inside the area, taxonomy consistent."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if incident.occurred_at and incident.occurred_at > now + FUTURE_TOLERANCE:
        errors.setdefault("occurred_at", []).append(
            _("The time of an incident cannot be in the future.")
        )
    if (
        incident.sub_event_type_id
        and incident.event_type_id
        and incident.sub_event_type.event_type_id != incident.event_type_id
    ):
        errors.setdefault("sub_event_type", []).append(
            _("This sub-event type does not belong to the chosen event type.")
        )
    if incident.location is not None:
        try:
            zone_area_validate(incident.location, field="location")
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def submission_digest(data: dict[str, Any]) -> str:
    """A stable fingerprint of submitted content, to tell an exact repeat from a conflicting one."""

    def encode(value: Any) -> Any:
        if isinstance(value, Point):
            return [round(value.x, 7), round(value.y, 7)]
        if isinstance(value, datetime.datetime):
            return value.astimezone(datetime.UTC).isoformat()
        if isinstance(value, (EventType, SubEventType)) or hasattr(value, "pk"):
            return value.pk
        return value

    canonical = {key: encode(data.get(key)) for key in SUBMITTED_FIELDS if key in data}
    blob = json.dumps(canonical, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def incident_submit(
    *, reporter, client_uuid: uuid.UUID, data: dict[str, Any], is_synthetic: bool = False
) -> SubmitResult:
    """Store a report once per client UUID (ODK/OpenRosa style), safe to retry.

    The first submission creates the incident; an identical repeat returns it unchanged; a repeat
    with different content raises SubmissionConflict. Zones are assigned in the same transaction.
    """
    unknown = set(data) - set(SUBMITTED_FIELDS)
    if unknown:
        raise ValidationError({field: _("This field cannot be set.") for field in sorted(unknown)})
    digest = submission_digest(data)
    existing = Incident.all_objects.filter(client_uuid=client_uuid).first()
    if existing is not None:
        return _repeat_result(existing, digest)

    incident = Incident(
        client_uuid=client_uuid,
        reporter=reporter,
        submission_digest=digest,
        is_synthetic=is_synthetic,
        **data,
    )
    # Constraints are the database's last guard; incident_validate checks the same rules first.
    # Related rows arrive as objects the caller read (taxonomy by code, the signed-in reporter):
    # checking that they exist would cost a query each for nothing.
    incident.full_clean(
        exclude=["client_uuid", "submission_digest", "event_type", "sub_event_type", "reporter"],
        validate_unique=False,
        validate_constraints=False,
    )
    incident_validate(incident)
    try:
        with transaction.atomic():
            incident.save()
            incident_zones_assign(ids=[incident.pk])
            incident_change_record(
                incident=incident,
                user=reporter,
                action=IncidentChange.Action.CREATED,
                before=None,
                after={},
            )
    except IntegrityError:
        # Two copies of the same report raced: the other one won; answer as for a repeat.
        existing = Incident.all_objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _repeat_result(existing, digest)
    incident.refresh_from_db()
    return SubmitResult(incident=incident, created=True)


def _repeat_result(existing: Incident, digest: str) -> SubmitResult:
    if existing.submission_digest and existing.submission_digest != digest:
        raise SubmissionConflict(existing)
    return SubmitResult(incident=existing, created=False)


REVIEW_TRANSITIONS = {
    ReviewStatus.SUBMITTED: {
        ReviewStatus.UNDER_REVIEW,
        ReviewStatus.VERIFIED,
        ReviewStatus.REJECTED,
        ReviewStatus.DUPLICATE,
    },
    ReviewStatus.UNDER_REVIEW: {
        ReviewStatus.VERIFIED,
        ReviewStatus.REJECTED,
        ReviewStatus.DUPLICATE,
        ReviewStatus.SUBMITTED,
    },
    ReviewStatus.VERIFIED: {
        ReviewStatus.UNDER_REVIEW,
        ReviewStatus.REJECTED,
        ReviewStatus.DUPLICATE,
    },
    ReviewStatus.REJECTED: {ReviewStatus.UNDER_REVIEW, ReviewStatus.VERIFIED},
    ReviewStatus.DUPLICATE: {ReviewStatus.UNDER_REVIEW, ReviewStatus.VERIFIED},
}


@transaction.atomic
def incident_review(
    *,
    incident: Incident,
    reviewer,
    status: str,
    note: str = "",
    duplicate_of: Incident | None = None,
) -> Incident:
    """Record a review decision: verify, reject (with a reason), or mark as a duplicate of another.

    The decision is written to the audit log. A duplicate leaves the partner feeds as "merged".
    """
    from accounts.models import AuditEvent
    from accounts.services import audit_record

    incident = _locked_for_change(incident)
    before = incident_snapshot(incident)
    if status not in REVIEW_TRANSITIONS.get(incident.review_status, set()):
        raise ValidationError(
            {
                "status": _("A report cannot go from %(old)s to %(new)s.")
                % {"old": incident.review_status, "new": status}
            }
        )
    if status == ReviewStatus.REJECTED and not note.strip():
        raise ValidationError({"note": _("Give the reason for rejecting the report.")})
    if status == ReviewStatus.DUPLICATE:
        if duplicate_of is None:
            raise ValidationError({"duplicate_of": _("Name the report this one duplicates.")})
        if duplicate_of.pk == incident.pk or duplicate_of.duplicate_of_id == incident.pk:
            raise ValidationError({"duplicate_of": _("A report cannot duplicate itself.")})
        if duplicate_of.review_status == ReviewStatus.DUPLICATE:
            duplicate_of = duplicate_of.duplicate_of  # point at the original, never a chain
    else:
        duplicate_of = None
    now = timezone.now()
    previous = incident.review_status
    incident.review_status = status
    incident.duplicate_of = duplicate_of
    incident.review_note = note
    incident.reviewed_by = reviewer
    incident.reviewed_at = now
    if status == ReviewStatus.VERIFIED and incident.verified_at is None:
        incident.verified_at = now
    incident.save()
    incident_change_record(
        incident=incident,
        user=reviewer,
        action=IncidentChange.Action.REVIEWED,
        before=before,
        after=incident_snapshot(incident),
    )
    audit_record(
        action=AuditEvent.Action.REVIEW_DECISION,
        user=reviewer,
        object_type="incident",
        object_ids=[str(incident.client_uuid)],
        detail={
            "from": previous,
            "to": status,
            "note": note,
            "duplicate_of": str(duplicate_of.client_uuid) if duplicate_of else None,
        },
    )
    return incident


@transaction.atomic
def incident_delete(*, incident: Incident, user) -> None:
    """Delete softly: the row stays (nothing submitted is lost); sync feeds show a tombstone."""
    deleted = Incident.all_objects.filter(pk=incident.pk, deleted_at__isnull=True).update(
        deleted_at=timezone.now(), updated_at=timezone.now()
    )
    if deleted:
        incident_change_record(
            incident=incident,
            user=user,
            action=IncidentChange.Action.DELETED,
            before=None,
            after={},
        )


def _locked_for_change(incident: Incident) -> Incident:
    """The incident locked for this transaction, with what its history snapshot reads."""
    return (
        Incident.objects.select_for_update(of=("self",))
        .select_related("event_type", "sub_event_type", "duplicate_of", "reporter")
        .get(pk=incident.pk)
    )


# What an analyst may correct after submission (the classification); where and when stay as
# reported, and review fields change only through incident_review.
CLASSIFICATION_FIELDS = (
    "event_type",
    "sub_event_type",
    "weapon",
    "observation_method",
    "perpetrator_side",
    "target",
    "target_description",
    "killed_civilians",
    "killed_combatants",
    "injured_civilians",
    "injured_combatants",
    "time_precision",
    "location_precision",
    "place_name",
)


@transaction.atomic
def incident_update(*, incident: Incident, user, data: dict[str, Any]) -> Incident:
    """Correct an incident's classification; the change is kept in its history (who, when, each
    field's old and new value). A sub-event type alone brings its event type with it."""
    unknown = set(data) - set(CLASSIFICATION_FIELDS)
    if unknown:
        raise ValidationError(
            {field: _("This field cannot be changed.") for field in sorted(unknown)}
        )
    data = dict(data)
    if data.get("sub_event_type") is not None and "event_type" not in data:
        data["event_type"] = data["sub_event_type"].event_type
    incident = _locked_for_change(incident)
    before = incident_snapshot(incident)
    for name, value in data.items():
        setattr(incident, name, value)
    incident.full_clean(
        exclude=[f.name for f in Incident._meta.concrete_fields if f.name not in data],
        validate_unique=False,
        validate_constraints=False,
    )
    incident_validate(incident)
    after = incident_snapshot(incident)
    if after == before:
        return incident
    incident.save(update_fields=[*data, "updated_at"])
    incident_change_record(
        incident=incident,
        user=user,
        action=IncidentChange.Action.EDITED,
        before=before,
        after=after,
    )
    return incident
