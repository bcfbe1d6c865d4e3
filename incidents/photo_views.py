"""A report's photos, served by Django to those who may see the report, never as public files.

The media folder is not published at any URL: a photo can show faces, vehicles and places, so it is
for the reporter who sent it and for analysts and admins, as the report itself is. Partners see no
photos. Each read is written to the audit log (a photo can locate a report as well as its point).
"""

from __future__ import annotations

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_safe

from accounts.audit import exact_locations, exact_read
from accounts.roles import Role, role_of
from incidents.models import Attachment, Incident

PHOTO_ROLES = frozenset({Role.REPORTER, Role.ANALYST, Role.ADMIN})


def photos_shown(incident: Incident, user) -> list[Attachment]:
    """The photos of a report that a page may show `user` (the rule of attachment_file, so a page
    never links a photo its reader would get 404 for): analysts and admins, and the reporter who
    sent it. Uses the incident's prefetched attachments when there are."""
    role = role_of(user)
    if role not in PHOTO_ROLES:
        return []
    if role == Role.REPORTER and incident.reporter_id != user.pk:
        return []
    return sorted(incident.attachments.all(), key=lambda photo: photo.pk)


@require_safe
@exact_locations
def attachment_file(request, pk: int):
    # 404 rather than 403 or a sign-in redirect for anything the user may not see, signed out
    # included: any other answer would confirm that the photo exists.
    if role_of(request.user) not in PHOTO_ROLES:
        raise Http404
    attachment = get_object_or_404(
        Attachment.objects.select_related("incident").filter(
            incident__in=Incident.objects.visible_to(request.user)
        ),
        pk=pk,
    )
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:  # removed by the retention job
        raise Http404 from None
    # Audited for analysts and admins by the hook (accounts.audit).
    exact_read(
        request,
        object_type="attachment",
        object_ids=[attachment.pk],
        detail={"incident": str(attachment.incident.client_uuid)},
    )
    response = FileResponse(handle, content_type=attachment.content_type)
    response["Content-Disposition"] = (
        f'inline; filename="photo-{attachment.pk}.{attachment.extension}"'
    )
    patch_cache_control(response, private=True, no_store=True)
    return response
