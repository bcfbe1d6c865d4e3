from django.urls import path

from briefs import views

urlpatterns = [
    path("briefs/", views.brief_index, name="brief-index"),
    path("briefs/<str:day>/", views.brief_page, name="brief-page"),
]
