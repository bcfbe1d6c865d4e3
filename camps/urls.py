"""HTML pages of this app (a camp's page is routed by monitoring.urls: it counts incidents)."""

from django.urls import path

from camps import views

urlpatterns = [
    path("camps/", views.camp_index, name="camp-index"),
]
