"""Test run: fast password hashing, a separate Redis database, media in a temporary folder."""

import os
import tempfile
from pathlib import Path

from monitoring.env import env_str

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
REDIS_URL = env_str("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CACHES["throttle"]["LOCATION"] = REDIS_URL
# One folder for every process of a test run (tests/stack.py passes it on to the app stack).
MEDIA_ROOT = env_str("MEDIA_ROOT", "") or tempfile.mkdtemp(prefix="ceasefire-test-media-")
os.environ["MEDIA_ROOT"] = MEDIA_ROOT
# Sealing keys: one folder for pytest and the app stack's processes; a key is made when none is
# active.
SEALING_KEYS_DIR = Path(
    env_str("TEST_SEALING_KEYS_DIR", "") or BASE_DIR / "var" / "test-sealing-keys"
)
os.environ["TEST_SEALING_KEYS_DIR"] = str(SEALING_KEYS_DIR)
SEALING_KEYS_CREATE_ON_DEMAND = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Several test runs can share one PostgreSQL server (developers, CI): each may name its database.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DB_NAME", "test_ceasefire_monitor")}

# The tests' webhook receivers listen on this machine; only this host may be internal.
WEBHOOK_ALLOWED_INTERNAL_HOSTS = ["127.0.0.1"]
