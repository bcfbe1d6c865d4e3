"""The app shell: what the service worker keeps on the phone, and its version.

One list, read by the worker view (what to cache) and by the version (a digest of the same files
and of the worker's own template), so the two cannot drift: change a cached file and phones get a
new worker at their next visit online.
"""

from __future__ import annotations

import functools
import hashlib

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import get_template
from django.urls import NoReverseMatch, reverse

LANGUAGE_CODES = settings.LANGUAGES

# Static files of the report form and My reports (the worker caches every other static file the
# first time a page asks for it).
STATIC_PATHS = (
    "css/site.css",
    "css/report.css",
    "leaflet/leaflet.css",
    "leaflet/leaflet.js",
    "leaflet/images/layers.png",
    "leaflet/images/layers-2x.png",
    "js/outbox.js",
    "js/app.js",
    "js/report.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
    "icons/icon-maskable-512.png",
    "icons/favicon.png",
)

# The map's own basemap (common.maps, static/js/basemap.js) and the library that draws it; its
# tiles are listed by the basemap's precache view and kept by the worker after install.
BASEMAP_STATIC_PATHS = ("vendor/protomaps-leaflet-5.1.0/protomaps-leaflet.js", "js/basemap.js")

PLACE_FIELDS = ["wof_id", "name_en", "name_ar", "lon", "lat", "key_en", "key_ar"]


def static_paths() -> tuple[str, ...]:
    return STATIC_PATHS + BASEMAP_STATIC_PATHS


def page_urls() -> dict[str, str]:
    """Pages the worker keeps: the cache key (what the reporter opens) and what it fetches.
    My reports is kept without the list of sent reports (that stays on the server): the phone
    holds no report in clear text."""
    return {
        reverse("report"): reverse("report"),
        reverse("my-reports"): reverse("my-reports") + "?shell=1",
        reverse("offline"): reverse("offline"),
        reverse("report-places"): reverse("report-places"),
    }


def outbox_urls() -> dict[str, str]:
    return {
        "submitUrl": reverse("incident-list"),
        "attachmentsUrl": reverse(
            "incident-attachments", kwargs={"id": "00000000-0000-0000-0000-000000000000"}
        ),
    }


def basemap_precache_url() -> str:
    try:
        return reverse("basemap-precache")
    except NoReverseMatch:
        return ""


@functools.cache
def version() -> str:
    """A digest of the worker's template and every file it precaches (found as the static files
    app finds them, so it holds in development and after collectstatic)."""
    digest = hashlib.sha256()
    template = get_template("fieldapp/sw.js")
    digest.update(template.template.source.encode())
    for path in static_paths():
        found = finders.find(path)
        digest.update(path.encode())
        if found:
            with open(found, "rb") as handle:
                digest.update(handle.read())
    digest.update(getattr(settings, "BASEMAP_VERSION", "").encode())
    digest.update(settings.FIELD_APP_RELEASE.encode())
    return digest.hexdigest()[:16]
