"""The one Celery application; every CELERY_* setting lives in monitoring.settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring.settings.local")

app = Celery("monitoring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
