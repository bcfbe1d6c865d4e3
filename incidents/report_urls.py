from django.urls import path

from incidents import photo_views, report_views

urlpatterns = [
    path("report/", report_views.report_form, name="report"),
    path("report/mine/", report_views.my_reports, name="my-reports"),
    path("photos/<int:pk>/", photo_views.attachment_file, name="attachment-file"),
]
