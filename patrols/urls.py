"""HTML pages of this app."""

from django.urls import path

from patrols import views

urlpatterns = [
    path("patrols/", views.patrol_index, name="patrol-index"),
    path("patrols/<int:id>/", views.patrol_page, name="patrol-page"),
]
