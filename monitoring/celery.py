"""The one Celery application; all CELERY_* settings live in monitoring.settings (cookiecutter-django)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "monitoring.settings.local")

app = Celery("monitoring")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
