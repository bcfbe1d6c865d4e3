from django.urls import path

from incidents import review_views

urlpatterns = [
    path("review/", review_views.review_queue, name="review-queue"),
]
