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
from django.utils.translation import gettext_lazy

from incidents.dates import earliest_occurred_at, occurred_too_early_message
from incidents.disclosure import GRID_LOCALITY_MAX_M
from incidents.history import SUBMITTED_FIELDS, incident_change_record, incident_snapshot
from incidents.models import (
    COARSE_GRID_DEGREES,
    EventType,
    Incident,
    IncidentChange,
    ReviewStatus,
    SubEventType,
)
from patrols.models import M4_HIGHWAY
from zones.services import zone_area_validate

# How far ahead of the server clock a report may be dated (phones' clocks drift).
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


def _zones_of(point: str, alias: str) -> str:
    """The lateral joins that find a point's sub-district (point in polygon), its district and
    governorate (the sub-district's parents: the ADM2 layer is the merged ADM3, so the hierarchy
    is consistent), falling back to their own polygons in border gaps. Built from constants."""
    return f"""
    LEFT JOIN LATERAL (
        SELECT z.id, z.parent_id FROM zones_zone z
        WHERE z.kind = 'subdistrict' AND ST_Intersects(z.geom, {point})
        ORDER BY z.id LIMIT 1
    ) {alias}_sd ON TRUE
    CROSS JOIN LATERAL (
        SELECT COALESCE({alias}_sd.parent_id, (
            SELECT z.id FROM zones_zone z
            WHERE z.kind = 'district' AND ST_Intersects(z.geom, {point})
            ORDER BY z.id LIMIT 1
        )) AS district_id
    ) {alias}_dd
    CROSS JOIN LATERAL (
        SELECT COALESCE(
            (SELECT z.parent_id FROM zones_zone z WHERE z.id = {alias}_dd.district_id),
            (SELECT z.id FROM zones_zone z
             WHERE z.kind = 'governorate' AND ST_Intersects(z.geom, {point})
             ORDER BY z.id LIMIT 1)
        ) AS governorate_id
    ) {alias}_gg
    CROSS JOIN LATERAL (
        SELECT EXISTS (
            SELECT 1 FROM zones_zone c
            WHERE c.kind = 'security_corridor' AND ST_Intersects(c.geom, {point})
        ) AS in_corridor
    ) {alias}_co"""  # noqa: S608 (built from constants)  # nosec B608


# The zones of points, twice: for the exact point (with the true distance in metres to the M4, on
# the spheroid) and for its grid point, the one partners see (with the gazetteer's nearest
# locality within GRID_LOCALITY_MAX_M), so that nothing a partner reads is finer than the grid
# (incidents.disclosure). The grid points are few (one per 0.05 degree cell in use: under two
# thousand for the whole area), so they are looked up once each, not once per incident.
# `{points}` is any relation with `id` and `location` columns (the incidents table here; a bulk
# import's staged rows), so every writer gets the same zones. Parameters: ZONES_OF_POINTS_PARAMS.
ZONES_OF_POINTS_SQL = f"""
    WITH pts AS (
        SELECT p.id, p.location, ST_SnapToGrid(p.location, %(grid_degrees)s) AS cell
        FROM {{points}} p
    ),
    cells AS (
        SELECT DISTINCT ST_X(cell) AS x, ST_Y(cell) AS y FROM pts WHERE cell IS NOT NULL
    ),
    cell_zones AS (
        SELECT c.x, c.y, g_sd.id AS subdistrict_id, g_dd.district_id, g_gg.governorate_id,
               g_co.in_corridor, loc.id AS locality_id
        FROM cells c
        CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(c.x, c.y), 4326) AS geom) g
        {_zones_of("g.geom", "g")}
        LEFT JOIN LATERAL (
            SELECT l.id FROM zones_locality l
            WHERE l.location && ST_Expand(g.geom, %(locality_box_degrees)s)
              AND ST_DWithin(l.location::geography, g.geom::geography, %(locality_max_m)s)
            ORDER BY ST_Distance(l.location::geography, g.geom::geography), l.id
            LIMIT 1
        ) loc ON TRUE
    )
    SELECT inc.id,
           e_sd.id AS subdistrict_id,
           e_dd.district_id,
           e_gg.governorate_id,
           e_co.in_corridor,
           (
               SELECT ST_Distance(r.geom::geography, inc.location::geography)
               FROM patrols_route r WHERE r.slug = %(m4_slug)s
           ) AS distance_m,
           cz.subdistrict_id AS coarse_subdistrict_id,
           cz.district_id AS coarse_district_id,
           cz.governorate_id AS coarse_governorate_id,
           COALESCE(cz.in_corridor, false) AS coarse_in_corridor,
           cz.locality_id AS coarse_locality_id
    FROM pts inc
    {_zones_of("inc.location", "e")}
    LEFT JOIN cell_zones cz ON cz.x = ST_X(inc.cell) AND cz.y = ST_Y(inc.cell)
"""  # noqa: S608 (built from constants)  # nosec B608

ZONES_OF_POINTS_PARAMS = {
    "m4_slug": M4_HIGHWAY,
    "grid_degrees": COARSE_GRID_DEGREES,
    "locality_max_m": GRID_LOCALITY_MAX_M,
    # A box around the grid point that holds every place within GRID_LOCALITY_MAX_M up to 50 N:
    # the GiST index answers it before the distances are computed on the spheroid.
    "locality_box_degrees": GRID_LOCALITY_MAX_M / (111_320 * 0.64) + 0.001,
}

# The zone columns of the incidents table that ZONES_OF_POINTS_SQL gives, by its column names.
ZONE_COLUMNS = {
    "subdistrict_id": "subdistrict_id",
    "district_id": "district_id",
    "governorate_id": "governorate_id",
    "in_corridor": "in_corridor",
    "distance_to_m4_m": "distance_m",
    "coarse_subdistrict_id": "coarse_subdistrict_id",
    "coarse_district_id": "coarse_district_id",
    "coarse_governorate_id": "coarse_governorate_id",
    "coarse_in_corridor": "coarse_in_corridor",
    "coarse_locality_id": "coarse_locality_id",
}

_ASSIGNED_POINTS = (
    "(SELECT id, location FROM incidents_incident"
    " WHERE %(ids)s::bigint[] IS NULL OR id = ANY(%(ids)s::bigint[]))"
)

# One statement assigns the zones of every incident (or of the given ids). Only rows whose zones
# changed are written, so running it twice changes nothing.
ZONES_ASSIGN_SQL = f"""
WITH assigned AS ({ZONES_OF_POINTS_SQL.replace("{points}", _ASSIGNED_POINTS).rstrip()}
)
UPDATE incidents_incident i
SET {", ".join(f"{column} = a.{source}" for column, source in ZONE_COLUMNS.items())},
    updated_at = clock_timestamp()
FROM assigned a
WHERE i.id = a.id
  AND ({", ".join(f"i.{column}" for column in ZONE_COLUMNS)})
      IS DISTINCT FROM ({", ".join(f"a.{source}" for source in ZONE_COLUMNS.values())})
"""  # noqa: S608 (built from the constants above)  # nosec B608


def incident_zones_assign(*, ids: list[int] | None = None) -> int:
    """Assign zones to the given incidents, or to all of them, in one set-based UPDATE.

    Returns the number of rows whose zones changed.
    """
    with connection.cursor() as cursor:
        cursor.execute(ZONES_ASSIGN_SQL, {**ZONES_OF_POINTS_PARAMS, "ids": ids})
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
    """Checks beyond field types: not in the future nor before the conflict, inside the area,
    taxonomy consistent."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    if incident.occurred_at and incident.occurred_at > now + FUTURE_TOLERANCE:
        errors.setdefault("occurred_at", []).append(
            _("The time of an incident cannot be in the future.")
        )
    if incident.occurred_at and incident.occurred_at < earliest_occurred_at():
        errors.setdefault("occurred_at", []).append(occurred_too_early_message())
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


# A shareable summary is a few sentences, not a second description.
PUBLIC_SUMMARY_MAX_LENGTH = 2000
PUBLIC_SUMMARY_NEEDS_VERIFY = gettext_lazy(
    "A shareable summary is approved by verifying the report: choose Verify."
)

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
    public_summary: str | None = None,
) -> Incident:
    """Record a review decision: verify, reject (with a reason), or mark as a duplicate of another.

    Verifying is also when the analyst approves the shareable summary (`public_summary`), the
    only account of the report partners read (PRODUCT.md, "Do no harm" 6); None leaves it as it
    is. The decision is written to the audit log. A duplicate leaves the partner feeds as
    "merged".
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
    if public_summary is not None:
        public_summary = public_summary.strip()
        if "\x00" in public_summary:
            raise ValidationError({"public_summary": _("NUL characters are not allowed.")})
        if len(public_summary) > PUBLIC_SUMMARY_MAX_LENGTH:
            raise ValidationError(
                {
                    "public_summary": _("At most %(n)d characters.")
                    % {"n": PUBLIC_SUMMARY_MAX_LENGTH}
                }
            )
        if status != ReviewStatus.VERIFIED and public_summary != incident.public_summary:
            raise ValidationError({"public_summary": str(PUBLIC_SUMMARY_NEEDS_VERIFY)})
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
    if public_summary is not None:
        incident.public_summary = public_summary
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
            "public_summary": incident.public_summary,
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
