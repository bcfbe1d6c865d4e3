"""The field report form and "My reports".

The form is a page script (static/js/report.js) that sends JSON to the incident API, so a report
written offline goes through the same idempotent submission when it is sent later. Settings and
the page's words reach the script through `json_script`, never inline code (a strict CSP).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from accounts.audit import no_exact_locations
from accounts.roles import Role, role_of
from incidents.attachments import FORMATS, MAX_UPLOAD_BYTES
from incidents.dates import EARLIEST_OCCURRED_DATE, earliest_occurred_at, occurred_too_early_message
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
    }


@login_required
@no_exact_locations
def report_form(request):
    _require_reporting_role(request)
    event_types = EventType.objects.prefetch_related("sub_types").order_by("position", "name")
    taxonomy = [
        {
            "slug": event_type.slug,
            "name": event_type.name,
            "sub_types": [
                {"slug": sub.slug, "name": sub.name} for sub in event_type.sub_types.all()
            ],
        }
        for event_type in event_types
    ]
    leaflet = settings.LEAFLET_CONFIG
    tiles = leaflet.get("TILES") or []
    config = {
        "submitUrl": reverse("incident-list"),
        "localitiesUrl": reverse("locality-list"),
        "attachmentsUrl": reverse(
            "incident-attachments", kwargs={"id": "00000000-0000-0000-0000-000000000000"}
        ),
        "myReportsUrl": reverse("my-reports"),
        "map": {
            "center": list(leaflet["DEFAULT_CENTER"]),
            "zoom": leaflet["DEFAULT_ZOOM"],
            "minZoom": leaflet.get("MIN_ZOOM", 6),
            "maxZoom": leaflet.get("MAX_ZOOM", 18),
            "extent": list(leaflet["SPATIAL_EXTENT"]),
            "tiles": tiles[0][1] if tiles else "",
            "attribution": tiles[0][2].get("attribution", "") if tiles else "",
        },
        "taxonomy": taxonomy,
        # The first instant a report may be dated (the server refuses earlier ones too).
        "occurredMin": earliest_occurred_at().isoformat(),
        "photo": {"maxBytes": MAX_UPLOAD_BYTES, "types": sorted(FORMATS.values())},
        "lang": request.LANGUAGE_CODE,
        # The outbox is per user: a shared phone must not send one reporter's reports as another's.
        "user": request.user.get_username(),
        "messages": _messages(),
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
    page = Paginator(reports, MY_REPORTS_PAGE_SIZE).get_page(request.GET.get("page"))
    config = {
        "submitUrl": reverse("incident-list"),
        "attachmentsUrl": reverse(
            "incident-attachments", kwargs={"id": "00000000-0000-0000-0000-000000000000"}
        ),
        "myReportsUrl": reverse("my-reports"),
        "lang": request.LANGUAGE_CODE,
        # The outbox is per user: a shared phone must not send one reporter's reports as another's.
        "user": request.user.get_username(),
        "messages": _messages(),
    }
    return render(
        request,
        "incidents/report_mine.html",
        {"page": page, "config": config, "cap": MY_REPORTS_CAP},
    )
