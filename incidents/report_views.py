"""The field report form and "My reports".

The form is a page script (static/js/report.js) that sends JSON to the incident API, so a report
written offline goes through the same idempotent submission when it is sent later. Settings and
the page's words reach the script through `json_script`, never inline code (a strict CSP).
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.audit import no_exact_locations
from accounts.roles import Role, role_of
from common.maps import map_config
from incidents.attachments import FORMATS, MAX_UPLOAD_BYTES
from incidents.dates import EARLIEST_OCCURRED_DATE, earliest_occurred_at, occurred_too_early_message
from incidents.history import SUBMITTED_FIELDS
from incidents.models import (
    Direction,
    EventType,
    Incident,
    LocationPrecision,
    ObservationMethod,
    Side,
    Target,
    TimePrecision,
    Weapon,
)
from sealing.keys import SealingUnavailable, sealing_config

logger = logging.getLogger(__name__)

REPORTING_ROLES = (Role.REPORTER, Role.ANALYST, Role.ADMIN)
MY_REPORTS_PAGE_SIZE = 20
# The list is for following one's recent reports, not an archive: older ones stay in the API.
MY_REPORTS_CAP = 500


def _require_reporting_role(request) -> None:
    if role_of(request.user) not in REPORTING_ROLES:
        raise PermissionDenied


def _messages() -> dict[str, str]:
    """The script's words, translated here so the script holds no user-facing text."""
    return {
        "saving": _("Sending…"),
        "sent": _("Report sent. Thank you."),
        "already": _("This report had already arrived; it is stored once."),
        "queued": _("Saved on this device; it will be sent when you are online."),
        "fix": _("Please correct the fields marked below."),
        "conflict": _("This report conflicts with one sent earlier and was not stored."),
        "signin": _("Your session has ended: sign in again to send the saved reports."),
        "noPoint": _("Choose the place: tap the map, search a village or use GPS."),
        "noType": _("Choose the type of event."),
        "noTime": _("Give the date and time."),
        "tooEarly": occurred_too_early_message(),
        "gpsWait": _("Finding your position…"),
        "gpsDone": _("Position set from GPS (accuracy about %(m)s m)."),
        "gpsFail": _("The position could not be found: %(reason)s"),
        "gpsNone": _("This device cannot give its position."),
        "searching": _("Searching…"),
        "noMatch": _("No place with that name."),
        "searchFail": _("Search needs a connection; tap the map or use GPS instead."),
        "pointSet": _("Point set at %(lat)s, %(lon)s."),
        "outboxCount": _("Waiting on this device: %(n)s"),
        "outboxEmpty": _("Nothing is waiting on this device."),
        "photoTooBig": _("%(name)s is larger than %(mb)s MB and was not added."),
        "photoType": _("%(name)s is not a JPEG, PNG or WebP photo and was not added."),
        "photoRefused": _("A photo was refused: %(reason)s"),
        "photosPending": _("%(n)s photo(s) still to send"),
        "stateWaiting": _("waiting to be sent"),
        "stateFailed": _("refused by the server"),
        "sendNow": _("Send now"),
        "discard": _("Discard"),
        "confirmDiscard": _("Discard this report from this device? It was never stored."),
        "noDescription": _("(no description)"),
        "chooseSubtype": _("Choose…"),
        "queuedServer": _(
            "Saved on this device, encrypted; the server cannot be reached now, so it will be "
            "sent automatically."
        ),
        "sentAt": _("Sent at %(time)s."),
        "queuedAt": _("Written %(time)s"),
        "refusedQueued": _(
            "The report saved on this device was refused by the server: see My reports."
        ),
        "cannotQueue": _(
            "This browser cannot keep reports encrypted on the device, so the report was not "
            "saved: it stays in the form; send it when you are online."
        ),
        "notSaved": _("The report could not be saved on this device; it stays in the form."),
        "stateConflict": _("conflicts with a stored report"),
        "stateSent": _("sent"),
        "stateAlready": _("had already arrived"),
        "conflictQueued": _(
            "A different report was already stored under this report's number. Send this one "
            "as a new report, or delete it."
        ),
        "sendAsNew": _("Send as a new report"),
        "sealedNote": _("Encrypted on this device: only the server can read it."),
        "confirmWipe": _(
            "Wipe this device? Every report still waiting here is deleted and can never be sent, "
            "and the app's pages and keys are removed. You will be signed out."
        ),
        "wiped": _("This device has been wiped: no report, page or key of this app is left on it."),
    }


def _field_labels() -> dict[str, str]:
    """The name of each field the server may refuse, for its message on a queued report."""
    names = (*SUBMITTED_FIELDS, "client_uuid")
    labels = {name: str(Incident._meta.get_field(name).verbose_name) for name in names}
    labels.update(file=_("Photo"), sealed=_("Encryption"), non_field_errors="", detail="")
    return {name: label[:1].upper() + label[1:] for name, label in labels.items()}


def _sealing_config() -> dict | None:
    """The server's public key: reports are sealed with it before they wait on the device."""
    try:
        return sealing_config()
    except SealingUnavailable:
        # No key yet (`manage.py sealing_keys ensure` was not run): the form then sends at once
        # and keeps nothing on the device, rather than keep reports in clear text.
        logger.error("No active sealing key: reports cannot wait encrypted on phones.")
        return None


def _outbox_config(request) -> dict:
    """What the form and My reports share: where reports go, who queues them, the words."""
    return {
        "submitUrl": reverse("incident-list"),
        "attachmentsUrl": reverse(
            "incident-attachments", kwargs={"id": "00000000-0000-0000-0000-000000000000"}
        ),
        "myReportsUrl": reverse("my-reports"),
        "placesUrl": reverse("report-places"),
        "sealing": _sealing_config(),
        "fieldLabels": _field_labels(),
        "lang": request.LANGUAGE_CODE,
        # The outbox is per user: a shared phone must not send one reporter's reports as another's.
        "user": request.user.get_username(),
        "messages": _messages(),
    }


@login_required
@no_exact_locations
def report_form(request):
    _require_reporting_role(request)
    event_types = EventType.objects.prefetch_related("sub_types").order_by("position", "name")
    taxonomy = [
        {
            "slug": event_type.slug,
            "name": event_type.label,
            "sub_types": [
                {"slug": sub.slug, "name": sub.label} for sub in event_type.sub_types.all()
            ],
        }
        for event_type in event_types
    ]
    config = {
        **_outbox_config(request),
        "localitiesUrl": reverse("locality-list"),
        # The shared map settings: MAP_TILES_URL where it answers, our reference basemap
        # where it does not (and on closed networks); the service worker keeps its tiles.
        "map": map_config(),
        "taxonomy": taxonomy,
        # The first instant a report may be dated (the server refuses earlier ones too).
        "occurredMin": earliest_occurred_at().isoformat(),
        "photo": {"maxBytes": MAX_UPLOAD_BYTES, "types": sorted(FORMATS.values())},
    }
    context = {
        "config": config,
        "event_types": event_types,
        "choices": {
            "time_precision": TimePrecision.choices,
            "location_precision": LocationPrecision.choices,
            "weapon": Weapon.choices,
            "observation_method": ObservationMethod.choices,
            "direction": Direction.choices,
            "perpetrator_side": Side.choices,
            "target": Target.choices,
        },
        "photo_max_mb": MAX_UPLOAD_BYTES // 2**20,
        "occurred_min": f"{EARLIEST_OCCURRED_DATE.isoformat()}T00:00",
        "photo_accept": ",".join(sorted(FORMATS.values())),
    }
    return render(request, "incidents/report_form.html", context)


@login_required
@no_exact_locations
def my_reports(request):
    _require_reporting_role(request)
    reports = (
        Incident.objects.filter(reporter=request.user)
        .select_related("sub_event_type")
        .annotate(photo_count=Count("attachments"))
        .order_by("-created_at", "-id")[:MY_REPORTS_CAP]
    )
    # ?shell=1: the page the service worker keeps for offline use, without the sent reports
    # (they stay on the server; nothing in clear text on the phone).
    shell = request.GET.get("shell") == "1"
    page = (
        None
        if shell
        else Paginator(reports, MY_REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    )
    config = {**_outbox_config(request), "shell": shell}
    return render(
        request,
        "incidents/report_mine.html",
        {"page": page, "config": config, "cap": MY_REPORTS_CAP, "shell": shell},
    )
