"""The reporters' installable offline app: the service worker, the web app manifest, the offline
page and the gazetteer file that village search uses without a connection.

What the worker caches (the app shell) is listed in fieldapp.shell; its version is a digest of
those files, so a deployment that changes any of them installs a new worker, which purges the old
caches. The outbox (static/js/outbox.js, in IndexedDB) does not depend on the worker's version:
reports queued under one version are sent by the next.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from accounts.audit import no_exact_locations
from fieldapp import shell
from zones.models import Locality
from zones.text import normalize_name

THEME_COLOUR = "#0b5f8a"
BACKGROUND_COLOUR = "#ffffff"


@require_GET
@no_exact_locations
def service_worker(request):
    config = {
        "version": shell.version(),
        "pages": shell.page_urls(),
        "static": [static(path) for path in shell.static_paths()],
        "outboxScript": static("js/outbox.js"),
        "offlineUrl": reverse("offline"),
        "placesUrl": reverse("report-places"),
        "basemapPrecacheUrl": shell.basemap_precache_url(),
        "staticPrefix": static(""),
        "outbox": shell.outbox_urls(),
    }
    body = render(
        request, "fieldapp/sw.js", {"config_json": json.dumps(config, separators=(",", ":"))}
    ).content
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # Browsers check the worker script at least daily; no-cache makes each check a revalidation.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
@no_exact_locations
def manifest(request):
    """The manifest in the language the page asked for (?lang=): browsers fetch it without the
    language cookie."""
    language = request.GET.get("lang")
    if language not in dict(shell.LANGUAGE_CODES):
        language = translation.get_language()
    with translation.override(language):
        data = {
            "id": reverse("report"),
            "name": _("Ceasefire Monitor: field reports"),
            "short_name": _("Field reports"),
            "description": _(
                "Report incidents in northwest Syria, online or offline; reports wait on the "
                "phone, encrypted, until they can be sent."
            ),
            "lang": language,
            "dir": "rtl" if translation.get_language_bidi() else "ltr",
            "start_url": reverse("report"),
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "theme_color": THEME_COLOUR,
            "background_color": BACKGROUND_COLOUR,
            "icons": [
                {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
                {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
                {
                    "src": static("icons/icon-maskable-512.png"),
                    "sizes": "512x512",
                    "type": "image/png",
                    "purpose": "maskable",
                },
            ],
            "shortcuts": [
                {"name": _("My reports"), "url": reverse("my-reports")},
            ],
        }
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False), content_type="application/manifest+json"
    )
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
@no_exact_locations
def offline(request):
    """What the worker shows for a page it does not keep when there is no connection."""
    return render(request, "fieldapp/offline.html")


@login_required
@require_GET
@gzip_page
@no_exact_locations
def places(request):
    """Every locality of the gazetteer for search on the phone: id, Latin and Arabic names, the
    point, and both names folded as zones.text.normalize_name folds them (the script folds the
    query the same way). Public reference data."""
    rows = Locality.objects.order_by("name_en", "wof_id").values_list(
        "wof_id", "name_en", "name_ar", "location"
    )
    places = [
        [
            wof_id,
            name_en,
            name_ar,
            round(point.x, 5),
            round(point.y, 5),
            normalize_name(name_en),
            normalize_name(name_ar),
        ]
        for wof_id, name_en, name_ar, point in rows
    ]
    body = json.dumps(
        {"fields": shell.PLACE_FIELDS, "places": places},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return HttpResponse(body, content_type="application/json")
