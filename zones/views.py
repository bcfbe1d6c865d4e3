"""HTML pages of the zones app: the index of zones (a zone's own page joins other apps and lives
in monitoring.pages)."""

from __future__ import annotations

from collections import defaultdict

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render
from django.utils.translation import get_language_bidi

from accounts.audit import no_exact_locations
from accounts.permissions import ALL_ROLES
from accounts.roles import role_of
from zones.models import ADMIN_KINDS, Zone, ZoneKind


@login_required
@no_exact_locations
def zone_index(request):
    """Governorates, their districts and sub-districts, and the agreement zones: one query, the
    tree built here."""
    if role_of(request.user) not in ALL_ROLES:
        raise PermissionDenied
    arabic = get_language_bidi()
    zones = list(
        Zone.objects.only("id", "pcode", "name_en", "name_ar", "kind", "parent_id").order_by(
            "pcode"
        )
    )
    for zone in zones:
        zone.display_name = (zone.name_ar or zone.name_en) if arabic else zone.name_en
    children = defaultdict(list)
    for zone in zones:
        if zone.kind in ADMIN_KINDS and zone.parent_id:
            children[zone.parent_id].append(zone)
    for zone in zones:
        zone.subzones = sorted(children[zone.pk], key=lambda child: child.display_name)
    governorates = sorted(
        (zone for zone in zones if zone.kind == ZoneKind.GOVERNORATE),
        key=lambda zone: zone.display_name,
    )
    agreement_zones = [zone for zone in zones if zone.kind not in ADMIN_KINDS]
    return render(
        request,
        "zones/zone_index.html",
        {"governorates": governorates, "agreement_zones": agreement_zones},
    )
