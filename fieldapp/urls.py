from django.urls import path

from fieldapp import views

urlpatterns = [
    # At the site's root, so the worker's scope covers every page (where the outbox drains).
    path("sw.js", views.service_worker, name="service-worker"),
    path("manifest.webmanifest", views.manifest, name="web-manifest"),
    path("offline/", views.offline, name="offline"),
    path("report/places.json", views.places, name="report-places"),
]
