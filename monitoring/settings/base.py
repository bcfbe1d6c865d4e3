"""Settings shared by every environment; what differs by deployment comes from the environment.

Local defaults work on a developer machine with PostgreSQL and Redis on 127.0.0.1 (see README).
"""

import datetime
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

from monitoring.env import env_bool, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent

SECRET_KEY = env_str("SECRET_KEY", "dev-only-insecure-key-change-me")
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.gis",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework_gis",
    "rest_framework_api_key",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "leaflet",
    "csp",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "monitoring",
    "accounts",
    "zones",
    "patrols",
    "incidents",
    "camps",
    "stats",
    "alerts",
    "briefs",
    "imports",
    "fieldapp",
    "sealing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # After WhiteNoise (static files are public), before whatever may answer for the view.
    "common.middleware.PrivateResponseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes requires: it answers a locked-out sign-in.
    "axes.middleware.AxesMiddleware",
]

# Sign-in lockout (django-axes): after AXES_FAILURE_LIMIT failed attempts for a username, or from
# an address, sign-in is refused for AXES_COOLOFF_MINUTES (both the site and the admin). Behind a
# reverse proxy, REMOTE_ADDR must be the client's (gunicorn --forwarded-allow-ips).
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env_str("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = datetime.timedelta(minutes=int(env_str("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
# A success clears only the signed-in username's own failures (accounts/lockout.py says why).
AXES_HANDLER = "accounts.lockout.OwnFailuresResetHandler"
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Optional two-factor sign-in (django-otp TOTP) for analysts and admins: /accounts/two-factor/.
OTP_TOTP_ISSUER = "Ceasefire Monitor"

ROOT_URLCONF = "monitoring.urls"
WSGI_APPLICATION = "monitoring.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "monitoring.context_processors.synthetic_data",
                "monitoring.context_processors.navigation",
                "fieldapp.context_processors.field_app",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/ceasefire_monitor"),
        conn_max_age=60,
        conn_health_checks=True,
    )
}
# No request may hold the database: web processes cancel any statement after this many ms.
# manage.py and the Celery worker set their own, longer default (bulk imports, full rebuilds).
DB_STATEMENT_TIMEOUT_MS = int(env_str("DB_STATEMENT_TIMEOUT_MS", "30000"))
DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
    f"-c statement_timeout={DB_STATEMENT_TIMEOUT_MS}"
)
# dj-database-url maps postgis:// to this engine already; set it explicitly so that a plain
# postgres:// URL (as many hosting platforms hand out) still gets the spatial backend.
DATABASES["default"]["ENGINE"] = "django.contrib.gis.db.backends.postgis"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ar", _("Arabic"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Damascus"
USE_I18N = True
USE_TZ = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REDIS_URL = env_str("REDIS_URL", "redis://127.0.0.1:6379/0")

# Celery: every setting lives here (read by monitoring/celery.py with the CELERY_ namespace).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_TIME_LIMIT = 15 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 14 * 60
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(BASE_DIR / "var" / "celerybeat-schedule")
# Publishing must fail fast when Redis is down: reports are stored first, tasks are a bonus.
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 0.5, "socket_timeout": 2}
# No task's caller waits for a result; storing none also keeps apply_async from subscribing to
# the result backend (Redis), which would block a report submission while Redis is down.
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = False  # per task: only those safe to repeat say acks_late=True
CELERY_BEAT_SCHEDULE = {
    "reconcile-zone-stats": {
        "task": "stats.tasks.recompute_pending_stats",
        "schedule": float(env_str("STATS_RECONCILE_SECONDS", "60")),
    },
    "heartbeat": {
        "task": "monitoring.tasks.heartbeat",
        "schedule": float(env_str("HEARTBEAT_SECONDS", "60")),
    },
    # Alert rules over recently verified incidents, patrols and trends (idempotent: each alert
    # has a unique key), then due deliveries: the sweep is what makes alerts outlive an outage.
    "evaluate-alerts": {
        "task": "alerts.tasks.evaluate_alerts",
        "schedule": float(env_str("ALERT_SWEEP_SECONDS", "60")),
    },
    "dispatch-alert-deliveries": {
        "task": "alerts.tasks.dispatch_deliveries",
        "schedule": float(env_str("ALERT_DISPATCH_SECONDS", "30")),
    },
    # Import jobs whose task was lost (a broker outage when the file was uploaded).
    "run-waiting-imports": {
        "task": "imports.tasks.run_waiting_import_jobs",
        "schedule": float(env_str("IMPORT_SWEEP_SECONDS", "300")),
    },
    # The day before, in Damascus time, shortly after the night's late reports are in.
    "daily-brief": {
        "task": "briefs.tasks.build_daily_brief",
        "schedule": crontab(hour=int(env_str("BRIEF_HOUR", "6")), minute=0),
    },
}

# Retention (incidents.retention, manage.py apply_retention): precise locations are coarsened to
# the partners' grid and photos deleted after these many days; beat runs it nightly when
# RETENTION_SCHEDULE=1 (off by default: deleting data is the operator's decision).
RETENTION_EXACT_LOCATION_DAYS = int(env_str("RETENTION_EXACT_LOCATION_DAYS", "730"))
RETENTION_PHOTO_DAYS = int(env_str("RETENTION_PHOTO_DAYS", "365"))
if env_bool("RETENTION_SCHEDULE", False):
    CELERY_BEAT_SCHEDULE["retention"] = {
        "task": "incidents.tasks.apply_retention",
        "schedule": crontab(hour=3, minute=30),
    }

# Trends (stats.trends): a zone is escalating when its last 7 days are improbably many for the
# 28 days before (Poisson tail below ESCALATION_P_VALUE) and at least ESCALATION_MIN_COUNT.
ESCALATION_P_VALUE = float(env_str("ESCALATION_P_VALUE", "0.01"))
ESCALATION_MIN_COUNT = int(env_str("ESCALATION_MIN_COUNT", "5"))
# Escalation alerts for the finest zones and the corridor (their districts would repeat them).
ESCALATION_ALERT_ZONE_KINDS = env_list(
    "ESCALATION_ALERT_ZONE_KINDS", ["subdistrict", "security_corridor"]
)

# Alerts (alerts.rules): shelling or an air strike within ALERT_CAMP_DISTANCE_M metres of a camp
# of at least ALERT_CAMP_MIN_POPULATION people; only events of the last ALERT_MAX_AGE_HOURS
# (an import of old events must not page anyone).
ALERT_CAMP_DISTANCE_M = float(env_str("ALERT_CAMP_DISTANCE_M", "5000"))
ALERT_CAMP_MIN_POPULATION = int(env_str("ALERT_CAMP_MIN_POPULATION", "1000"))
ALERT_MAX_AGE_HOURS = int(env_str("ALERT_MAX_AGE_HOURS", "72"))
# Extra e-mail recipients of every alert, besides active analysts and admins with an address.
ALERT_EMAIL_RECIPIENTS = env_list("ALERT_EMAIL_RECIPIENTS", [])
# Webhooks: attempt n waits RETRY_BASE * 2**(n-1) seconds (capped), at most MAX_ATTEMPTS times;
# an endpoint is switched off after DISABLE_AFTER failed attempts in a row.
WEBHOOK_TIMEOUT_SECONDS = float(env_str("WEBHOOK_TIMEOUT_SECONDS", "5"))
# Webhooks never reach loopback, private, link-local, multicast or reserved addresses
# (alerts/destinations.py) except these host names, written exactly as in the webhook's URL.
WEBHOOK_ALLOWED_INTERNAL_HOSTS = env_list("WEBHOOK_ALLOWED_INTERNAL_HOSTS", [])
# Photos one user may send in an hour (incidents/attachments.py).
ATTACHMENT_UPLOADS_PER_HOUR = int(env_str("ATTACHMENT_UPLOADS_PER_HOUR", "60"))
# Sealed reports (sealing.keys): private keys are files here, never in the database (back the
# folder up on its own); a superseded key's file is kept this many days for phones still holding
# reports sealed with it; at most this many undecryptable submissions are kept per sender.
SEALING_KEYS_DIR = Path(env_str("SEALING_KEYS_DIR", str(BASE_DIR / "var" / "sealing-keys")))
SEALING_KEY_KEEP_DAYS = int(env_str("SEALING_KEY_KEEP_DAYS", "180"))
SEALING_KEYS_CREATE_ON_DEMAND = env_bool("SEALING_KEYS_CREATE_ON_DEMAND", False)
SEALING_QUARANTINE_MAX_PER_USER = int(env_str("SEALING_QUARANTINE_MAX_PER_USER", "100"))
WEBHOOK_RETRY_BASE_SECONDS = float(env_str("WEBHOOK_RETRY_BASE_SECONDS", "30"))
WEBHOOK_RETRY_MAX_SECONDS = float(env_str("WEBHOOK_RETRY_MAX_SECONDS", "3600"))
WEBHOOK_MAX_ATTEMPTS = int(env_str("WEBHOOK_MAX_ATTEMPTS", "8"))
WEBHOOK_DISABLE_AFTER = int(env_str("WEBHOOK_DISABLE_AFTER", "20"))

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "ceasefire-monitor@localhost")
# Links in e-mails and webhooks point here.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

# The reporters' offline app: its service worker's version is a digest of the files it keeps;
# a release name here forces a new version (and fresh caches on every phone) without a file change.
FIELD_APP_RELEASE = env_str("FIELD_APP_RELEASE", "")

# Leaflet: centred on Idlib. Tiles are configurable: offices on closed networks run their own.
LEAFLET_CONFIG = {
    "DEFAULT_CENTER": (35.9, 36.7),
    "DEFAULT_ZOOM": 8,
    "MIN_ZOOM": 6,
    "MAX_ZOOM": 18,
    "SPATIAL_EXTENT": (35.5, 34.5, 38.9, 37.0),
    "TILES": [
        (
            "OpenStreetMap",
            env_str("MAP_TILES_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
            {"attribution": "&copy; OpenStreetMap contributors", "maxZoom": 19},
        )
    ],
    "RESET_VIEW": False,
}
# The reference basemap (monitoring/basemap.py) that maps draw beneath MAP_TILES_URL, and alone
# when it is empty or cannot be reached. Phones keep its tiles up to this zoom for offline use.
BASEMAP_PRECACHE_MAX_ZOOM = int(env_str("BASEMAP_PRECACHE_MAX_ZOOM", "12"))
# An OpenStreetMap extract as a PMTiles file (Protomaps basemap layers), served with HTTP range
# requests by the office's web server or ours; maps draw it beneath the reference layers.
BASEMAP_PMTILES_URL = env_str("BASEMAP_PMTILES_URL", "")
BASEMAP_PMTILES_ATTRIBUTION = env_str(
    "BASEMAP_PMTILES_ATTRIBUTION", "© OpenStreetMap contributors (ODbL), Protomaps"
)
# An office's PMTiles file may be served by us: put it in var/basemap/ (collected as
# /static/basemap/<file>). WhiteNoise answers range requests; a compressed copy would be served
# to a client that takes gzip and break them, so none is made.
BASEMAP_FILES_DIR = BASE_DIR / "var" / "basemap"
if BASEMAP_FILES_DIR.is_dir():
    STATICFILES_DIRS.append(("basemap", BASEMAP_FILES_DIR))
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "pmtiles"]

CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    # Shared by every web process, so a partner's rate limit holds across workers.
    "throttle": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "throttle",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    },
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.RolePermission"],
    "DEFAULT_THROTTLE_CLASSES": ["accounts.throttling.PerClientRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"client": env_str("API_RATE_LIMIT", "600/minute")},
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "common.parsers.SafeJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "common.pagination.CappedPageNumberPagination",
    "PAGE_SIZE": 100,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "common.exceptions.exception_handler",
    "DEFAULT_VERSIONING_CLASS": None,
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Ceasefire Monitor API: northwest Syria",
    "DESCRIPTION": (
        "Patrols, truce-violation reports, camps and zones of the Idlib de-escalation area. "
        "Lists come as JSON or as RFC 7946 GeoJSON (`Accept: application/geo+json` or "
        "`?format=geojson`). Partners authenticate with `Authorization: Api-Key <key>` and see "
        "verified records with locations snapped to a 0.05 degree grid."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Responses are trimmed by role (partners get fewer fields), so no read-only field is required.
    "COMPONENT_NO_READ_ONLY_REQUIRED": True,
    # Choice sets shared by several fields, or several models' fields named alike (status).
    "ENUM_NAME_OVERRIDES": {
        "ForcesEnum": "patrols.models.Forces",
        "PatrolStatusEnum": "patrols.models.Patrol.Status",
        "CampStatusEnum": "camps.models.Camp.Status",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}

# GDAL before 3.9 cannot stop a spatial reference from reading files or the network (gis.W001).
# The project never hands user-supplied SRS text or GeoJSON "crs" members to GDAL: geometry
# input goes through zones.geometry.parse_geojson_geometry, which refuses both
# (tests/zones/test_geometry_input.py).
# Only with that guard in place is this one check silenced.
SILENCED_SYSTEM_CHECKS = ["gis.W001"]


# Content-Security-Policy (django-csp): no inline script or style anywhere. Pages pass data to
# their scripts with json_script; django-leaflet's admin map widgets carry the request's nonce.
# Map tiles may come from another host (MAP_TILES_URL), so its origin may serve images.
def _origin(url: str) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url.replace("{s}", "a"))
    return f"{parts.scheme}://{parts.netloc}".replace("://a.", "://*.") if parts.netloc else ""


_TILE_ORIGIN = _origin(LEAFLET_CONFIG["TILES"][0][1])
# The PMTiles file is read with fetch() (range requests), so its origin is a connect-src.
_PMTILES_ORIGIN = _origin(BASEMAP_PMTILES_URL)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:", *([_TILE_ORIGIN] if _TILE_ORIGIN else [])],
        "font-src": [SELF],
        "connect-src": [SELF, *([_PMTILES_ORIGIN] if _PMTILES_ORIGIN else [])],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
