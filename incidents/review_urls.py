from django.urls import path

from incidents import review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review-queue"),
    path("review/<uuid:id>/", review_views.review_detail, name="review-detail"),
    path("review/<uuid:id>/decide/", review_views.review_decide, name="review-decide"),
    path("review/<uuid:id>/classify/", review_views.review_classify, name="review-classify"),
    path("incidents/<uuid:id>/", review_views.incident_detail, name="incident-page"),
]
