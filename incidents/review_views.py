"""Review pages (analysts and admins): the queue, one report's review page, decisions and
classification edits; and the incident page, which every role sees as far as it may."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from accounts.audit import exact_locations, exact_read, no_exact_locations
from accounts.roles import Role, role_of
from common.maps import map_config
from incidents.disclosure import reads_exact
from incidents.history import history_rows
from incidents.models import (
    COARSE_GRID_DEGREES,
    OPEN_REVIEW_STATUSES,
    Incident,
    ReviewStatus,
)
from incidents.photo_views import photos_shown
from incidents.review_forms import ClassificationForm, ReviewDecisionForm
from incidents.services import incident_review, incident_update

QUEUE_PAGE_SIZE = 25
QUEUE_MAX_PAGE_SIZE = 100
# Shown on one report's review page; the API pages through more.
CANDIDATES_ON_PAGE = 20
REVIEW_ROLES = frozenset({Role.ANALYST, Role.ADMIN})


def reviewer_required(view):
    """Anonymous visitors go to the sign-in page; signed-in users without the role get 403."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if role_of(request.user) not in REVIEW_ROLES:
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return wrapped


def _queue_statuses(request) -> list[str]:
    valid = set(ReviewStatus.values)
    chosen = [status for status in request.GET.getlist("status") if status in valid]
    return chosen or list(OPEN_REVIEW_STATUSES)


def _page_size(request) -> int:
    try:
        size = int(request.GET.get("page_size", QUEUE_PAGE_SIZE))
    except ValueError:
        size = QUEUE_PAGE_SIZE
    return max(1, min(size, QUEUE_MAX_PAGE_SIZE))


def _review_config() -> dict:
    placeholder = "00000000-0000-0000-0000-000000000000"
    return {
        "candidatesUrl": reverse("incident-duplicate-candidates", kwargs={"id": placeholder}),
        "placeholder": placeholder,
        "statuses": {value: str(label) for value, label in ReviewStatus.choices},
        "strings": {
            "loading": _("Loading…"),
            "failed": _("Could not load the likely duplicates. Try again."),
            "none": _("No likely duplicates."),
            "use": _("Use as original"),
            "chosen": _("Chosen as the original: press “Mark as duplicate” to confirm."),
            "metres": _("%(n)s m away"),
            "hours": _("%(n)s h apart"),
        },
    }


@reviewer_required
@require_GET
@no_exact_locations  # place names and zones, no point
def review_queue(request):
    """Newest reports first, by status (submitted and under review unless chosen), a capped page
    at a time; each with the count of its likely duplicates, from the same query."""
    statuses = _queue_statuses(request)
    queryset = (
        Incident.objects.filter(review_status__in=statuses)
        .for_api()
        .with_duplicate_candidate_count()
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset.prefetch_related("attachments"), _page_size(request)).get_page(
        request.GET.get("page")
    )
    items = [
        (incident, ReviewDecisionForm(incident=incident), photos_shown(incident, request.user))
        for incident in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "incidents/review_queue.html",
        {
            "page": page,
            "items": items,
            "statuses": ReviewStatus.choices,
            "chosen_statuses": statuses,
            "query": query.urlencode(),
            "this_url": request.get_full_path(),
            "review_config": _review_config(),
        },
    )


def _review_page(
    request, incident: Incident, *, decision_form=None, classification_form=None, status: int = 200
):
    candidates = list(
        Incident.objects.duplicate_candidates(incident).select_related(
            "sub_event_type", "subdistrict"
        )[:CANDIDATES_ON_PAGE]
    )
    return render(
        request,
        "incidents/review_detail.html",
        {
            "incident": incident,
            "decision_form": decision_form or ReviewDecisionForm(incident=incident),
            "classification_form": classification_form or ClassificationForm(incident=incident),
            "candidates": candidates,
            "photos": photos_shown(incident, request.user),
            "review_config": _review_config(),
            "next_url": _next_url(request),
        },
        status=status,
    )


def _next_url(request) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return reverse("review-queue")


def _incident_for_review(id) -> Incident:
    return get_object_or_404(Incident.objects.for_api(), client_uuid=id)


@reviewer_required
@require_GET
@no_exact_locations  # the report's place and zones, its candidates' distances: no point
def review_detail(request, id):
    return _review_page(request, _incident_for_review(id))


@reviewer_required
@require_POST
@no_exact_locations
def review_decide(request, id):
    """Apply a decision; on bad input show the report's review page with the field's error and
    change nothing (status 400)."""
    incident = _incident_for_review(id)
    form = ReviewDecisionForm(request.POST, incident=incident)
    if form.is_valid():
        try:
            incident_review(
                incident=incident,
                reviewer=request.user,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                duplicate_of=form.cleaned_data["duplicate_of"],
                public_summary=form.cleaned_data["public_summary"],
            )
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _review_page(request, incident, decision_form=form, status=400)
    label = dict(ReviewStatus.choices)[form.cleaned_data["status"]]
    messages.success(
        request,
        _("Report of %(date)s at %(place)s: %(status)s.")
        % {
            "date": incident.occurred_at.date().isoformat(),
            "place": incident.place_name or "—",
            "status": label,
        },
    )
    return redirect(_next_url(request))


@reviewer_required
@require_POST
@no_exact_locations
def review_classify(request, id):
    incident = _incident_for_review(id)
    form = ClassificationForm(request.POST, incident=incident)
    if form.is_valid():
        try:
            incident_update(incident=incident, user=request.user, data=form.changes())
        except ValidationError as exc:
            form.add_error(None, exc)
    if form.errors:
        return _review_page(request, incident, classification_form=form, status=400)
    if form.changed_data:
        messages.success(request, _("The classification was saved."))
    else:
        messages.info(request, _("Nothing was changed."))
    return redirect("review-detail", id=incident.client_uuid)


@login_required
@require_GET
@exact_locations
def incident_detail(request, id):
    """One report, as the API shows it to the reader's role: analysts and admins everything with
    the history; reporters their own, with its status and reason; partners verified reports at
    the coarse location, without reporter or review details."""
    role = role_of(request.user)
    grid = not reads_exact(request.user)
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).for_api(grid=grid), client_uuid=id
    )
    staff = role in REVIEW_ROLES
    own = role == Role.REPORTER and incident.reporter_id == request.user.pk
    exact = staff or own
    point = incident.location if exact else incident.location_coarse
    # What the page shows of the record: as recorded, or its grid view (incidents.disclosure).
    if exact:
        shown = {
            "place_name": incident.place_name,
            "description": incident.description,
            "zones": [incident.subdistrict, incident.district, incident.governorate],
            "in_corridor": incident.in_corridor,
        }
    else:
        shown = {
            "place_name": incident.public_place_name_in(get_language()),
            "description": incident.public_summary,
            "zones": [
                incident.coarse_subdistrict,
                incident.coarse_district,
                incident.coarse_governorate,
            ],
            "in_corridor": incident.coarse_in_corridor,
        }
    shown["zones"] = [zone for zone in shown["zones"] if zone is not None]
    exact_read(request, object_ids=[incident.client_uuid])
    page_map = {
        "lon": round(point.x, 6 if exact else 4),
        "lat": round(point.y, 6 if exact else 4),
        "coarse": not exact,
        "gridDegrees": COARSE_GRID_DEGREES,
        # View, raster tiles and the reference basemap beneath them (static/js/basemap.js).
        "map": map_config(),
        "markerLabel": shown["place_name"] or str(incident.sub_event_type),
    }
    return render(
        request,
        "incidents/incident_detail.html",
        {
            "incident": incident,
            "shown": shown,
            "staff": staff,
            "exact": exact,
            "shows_review": staff or own,
            "point": point,
            "map_config": page_map,
            "history": history_rows(incident) if staff else None,
            "photos": photos_shown(incident, request.user),
            "duplicates": list(incident.duplicates.only("client_uuid", "occurred_at", "place_name"))
            if staff
            else None,
        },
    )
