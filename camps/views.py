"""HTML pages of the camps app: the index of camps (a camp's own page counts incidents near it
and lives in monitoring.pages)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from accounts.audit import no_exact_locations
from accounts.permissions import ALL_ROLES
from accounts.roles import role_of
from camps.models import Camp

PAGE_SIZE = 50


@login_required
@no_exact_locations
def camp_index(request):
    """Camps by name with their latest population, paged."""
    if role_of(request.user) not in ALL_ROLES:
        raise PermissionDenied
    camps = Camp.objects.with_latest_population().defer("boundary").order_by("name_en", "site_id")
    page = Paginator(camps, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "camps/camp_index.html", {"page": page})
