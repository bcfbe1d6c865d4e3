"""Change history of incidents: snapshots of the tracked fields, their differences, and how a
recorded change reads on the incident page.

Values are stored as JSON (codes, ids, ISO times, [lon, lat]) so a row stays readable after the
taxonomy or users change; labels are looked up only when the history is shown.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.contrib.gis.geos import Point
from django.db import models
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from incidents.models import Incident, IncidentChange

# Fields a reporter may set. Review fields, reporter and times are the server's.
SUBMITTED_FIELDS = (
    "occurred_at",
    "time_precision",
    "location",
    "location_precision",
    "place_name",
    "locality",
    "event_type",
    "sub_event_type",
    "weapon",
    "observation_method",
    "explosions_count",
    "direction",
    "distance_estimate_m",
    "perpetrator_side",
    "target",
    "target_description",
    "killed_civilians",
    "killed_combatants",
    "injured_civilians",
    "injured_combatants",
    "description",
    "sources",
)

# Every field a person decides: what a reporter submits, what an analyst or admin edits or
# decides. Derived columns (zones, search text, coarse location) and timestamps are not history.
TRACKED_FIELDS = (
    *SUBMITTED_FIELDS,
    "review_status",
    "duplicate_of",
    "review_note",
    "public_summary",
    "reporter",
    "external_id",
    "is_synthetic",
)

# Foreign keys are recorded by a stable code rather than a row id where there is one.
_FOREIGN_KEY_CODES = {
    "event_type": "slug",
    "sub_event_type": "slug",
    "duplicate_of": "client_uuid",
    "reporter": "username",
}


def _json_value(value: Any) -> Any:
    if isinstance(value, Point):
        return [round(value.x, 7), round(value.y, 7)]
    if isinstance(value, datetime.datetime):
        return value.astimezone(datetime.UTC).isoformat()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)


def incident_snapshot(incident: Incident) -> dict[str, Any]:
    """The tracked fields of an incident as JSON values (related rows are read if not cached)."""
    snapshot: dict[str, Any] = {}
    for name in TRACKED_FIELDS:
        if name in _FOREIGN_KEY_CODES:
            related = getattr(incident, name)
            value = getattr(related, _FOREIGN_KEY_CODES[name]) if related is not None else None
        elif name == "locality":
            value = incident.locality_id
        else:
            value = getattr(incident, name)
        snapshot[name] = _json_value(value)
    return snapshot


def snapshot_difference(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"old": before.get(name), "new": after.get(name)}
        for name in after
        if before.get(name) != after.get(name)
    }


def incident_change_record(
    *,
    incident: Incident,
    user,
    action: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
) -> IncidentChange | None:
    """Append one history row; nothing when an edit changed nothing (a created or deleted
    incident is always recorded)."""
    if before is None:
        fields: dict[str, dict[str, Any]] = {}
    else:
        fields = snapshot_difference(before, after)
        if not fields and action not in (IncidentChange.Action.DELETED,):
            return None
    return IncidentChange.objects.create(
        incident=incident,
        user=user if user is not None and user.is_authenticated else None,
        action=action,
        fields=fields,
    )


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


def _display(name: str, value: Any, taxonomy_names: dict[str, str]) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if name in ("event_type", "sub_event_type"):
        return taxonomy_names.get(value, str(value))
    field = Incident._meta.get_field(name)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.BooleanField):
        return _("yes") if value else _("no")
    if name == "location" and isinstance(value, list):
        return f"{value[1]:.5f}, {value[0]:.5f}"
    if isinstance(value, list):
        return "; ".join(str(item) for item in value)
    if name == "occurred_at":
        moment = parse_datetime(value)
        if moment is not None:
            return moment.strftime("%Y-%m-%d %H:%M UTC")
    return str(value)


def _order(name: str) -> int:
    return TRACKED_FIELDS.index(name)


def field_changes(
    change: IncidentChange, taxonomy_names: dict[str, str] | None = None
) -> list[FieldChange]:
    """A recorded change as the incident page lists it: field label, old and new value."""
    names = taxonomy_names or {}
    return [
        FieldChange(
            label=str(Incident._meta.get_field(name).verbose_name),
            old=_display(name, values.get("old"), names),
            new=_display(name, values.get("new"), names),
        )
        for name, values in sorted(change.fields.items(), key=lambda item: _order(item[0]))
        if name in TRACKED_FIELDS
    ]


def history_rows(incident: Incident) -> list[tuple[IncidentChange, list[FieldChange]]]:
    """The incident's history, newest first, each change with its readable field changes.

    At most two queries whatever the length: the changes with their users, and the taxonomy
    names when a change touched the classification.
    """
    from incidents.models import EventType, SubEventType

    changes = list(incident.changes.select_related("user"))
    names: dict[str, str] = {}
    if any({"event_type", "sub_event_type"} & set(change.fields) for change in changes):
        names = dict(EventType.objects.values_list("slug", "name")) | dict(
            SubEventType.objects.values_list("slug", "name")
        )
    return [(change, field_changes(change, names)) for change in changes]
