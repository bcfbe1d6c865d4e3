"""HTML pages of the incidents app: the report form and my reports, the review queue, details."""

from django.urls import include, path

urlpatterns = [
    path("", include("incidents.report_urls")),
    path("", include("incidents.review_urls")),
]
