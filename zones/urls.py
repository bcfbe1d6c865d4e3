"""HTML pages of this app (a zone's page is routed by monitoring.urls: it joins other apps)."""

from django.urls import path

from zones import views

urlpatterns = [
    path("zones/", views.zone_index, name="zone-index"),
]
