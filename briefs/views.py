"""Daily brief pages: the list of days and one day's brief, in the reader's language."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import get_language

from accounts.audit import exact_locations, exact_read, no_exact_locations
from accounts.permissions import ALL_ROLES
from accounts.roles import EXACT_LOCATION_ROLES, role_of
from briefs.models import DailyBrief
from briefs.selectors import brief_for_reader, brief_headline_for_reader
from patrols.models import Forces, Patrol

PAGE_SIZE = 60


def _check_reader(request) -> None:
    if role_of(request.user) not in ALL_ROLES:
        raise PermissionDenied


@login_required
@no_exact_locations
def brief_index(request):
    _check_reader(request)
    briefs = DailyBrief.objects.order_by("-day")
    page = Paginator(briefs, PAGE_SIZE).get_page(request.GET.get("page"))
    language = "ar" if get_language() == "ar" else "en"
    role = role_of(request.user)
    rows = [
        (brief, brief_headline_for_reader(brief.data, role=role).get(language, ""))
        for brief in page.object_list
    ]
    return render(request, "briefs/brief_index.html", {"page": page, "rows": rows})


@login_required
@exact_locations
def brief_page(request, day: str):
    _check_reader(request)
    try:
        date = datetime.date.fromisoformat(day)
    except ValueError:
        raise Http404 from None
    brief = DailyBrief.objects.filter(day=date).first()
    if brief is None:
        raise Http404
    role = role_of(request.user)
    staff = role in EXACT_LOCATION_ROLES
    data = brief_for_reader(brief.data, role=role)
    # The notable incidents, with the reporters' place names, for staff.
    exact_read(request, object_ids=[row["id"] for row in data["notable"]])
    language = "ar" if get_language() == "ar" else "en"
    kinds = {"governorate": 0, "district": 1, "security_corridor": 2, "subdistrict": 3}
    zones = sorted(data["zones"], key=lambda zone: (kinds.get(zone["kind"], 9), zone["pcode"]))
    statuses, forces = dict(Patrol.Status.choices), dict(Forces.choices)
    patrols = [
        {
            **patrol,
            "status": statuses.get(patrol["status"], patrol["status"]),
            "forces": forces.get(patrol["forces"], patrol["forces"]),
        }
        for patrol in data["patrols"]
    ]
    return render(
        request,
        "briefs/brief_detail.html",
        {
            "brief": brief,
            "data": data,
            "zones": zones,
            "patrols": patrols,
            "headline": data["headline"].get(language, ""),
            "staff": staff,
            "previous": DailyBrief.objects.filter(day__lt=date).order_by("-day").first(),
            "next": DailyBrief.objects.filter(day__gt=date).order_by("day").first(),
        },
    )
