from django.urls import path

from incidents import report_views

urlpatterns = [
    path("report/", report_views.report_form, name="report"),
    path("report/mine/", report_views.my_reports, name="my-reports"),
]
