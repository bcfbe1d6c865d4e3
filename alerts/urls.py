from django.urls import path

from alerts import views

urlpatterns = [
    path("alerts/", views.alert_index, name="alert-index"),
    path("alerts/<uuid:uuid>/", views.alert_page, name="alert-page"),
]
