"""Accord settings, read from the environment.

With nothing set Accord runs in development mode: DEBUG on, SQLite in the
project folder, Celery tasks run eagerly in-process. Production sets
DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and DEBUG=false.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from accord.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 32 characters when DEBUG is off"
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "relationships",
    "feedback",
    "scorecards",
    "overview",
    "packs",
    "notices",
    "sampledata",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Compresses pages and API answers (static files WhiteNoise serves compressed already).
    # Above every middleware that writes a response's body, so it compresses last; Django's
    # BREACH mitigation (random bytes in the gzip header, since 4.2) comes with it.
    "django.middleware.gzip.GZipMiddleware",
    "accord.middleware.ContentSecurityPolicyMiddleware",
    "accord.middleware.ServiceUnavailableMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Answers a sign-in the lock refused with 429 (accord.auth.locked_response).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "accord.urls"
WSGI_APPLICATION = "accord.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accord.context_processors.memberships",
                "accord.context_processors.notices",
            ],
        },
    },
]

# Database: DATABASE_URL (postgres://user@host:port/name), else SQLite beside manage.py.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0),
        conn_health_checks=True,
    )
}
USING_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if not USING_POSTGRES:
    # Covering indexes (include=) are PostgreSQL's; elsewhere they are plain indexes.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = ["accord.auth.SignInBackend"]
# Sign-in lock (accord/auth.py, docs/OPERATIONS.md): django-axes counts failed sign-ins
# in its tables; a username is locked at the addresses where it failed.
LOGIN_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("LOGIN_FAILURE_WINDOW_SECONDS", 900, minimum=1)
# Proxies in front of Accord that append to X-Forwarded-For (core.signin.client_address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_FAILURE_WINDOW_SECONDS)
AXES_LOCKOUT_PARAMETERS = "accord.auth.lockout_parameters"
AXES_USERNAME_CALLABLE = "accord.auth.counted_username"
AXES_CLIENT_IP_CALLABLE = "core.signin.client_address"
AXES_LOCKOUT_CALLABLE = "accord.auth.locked_response"
# Failures only: a row for every successful sign-in is not needed for the lock.
AXES_DISABLE_ACCESS_LOG = True
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "portfolio"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded and generated files (review packs) in the default storage.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if env_bool("STATICFILES_COMPRESS", True)
        else "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"
    },
}

# Email: console in development; SMTP when EMAIL_HOST is set.
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Accord <accord@localhost>")

# Celery: without a broker URL tasks run eagerly in-process (embedded default).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
if not CELERY_BROKER_URL:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 600, minimum=1)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 660, minimum=1)
# Above the longest task, so a task that is still running is never handed out twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=1),
    "socket_connect_timeout": 2,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
# Task modules besides each app's tasks.py.
CELERY_IMPORTS = ("scorecards.webhooks.outbox",)
CELERY_TIMEZONE = TIME_ZONE
SCORECARD_CHUNK_SIZE = env_int("SCORECARD_CHUNK_SIZE", 250, minimum=1)
# A burst of writes to an engagement refreshes its provisional scorecard at once, then at
# most once per this many seconds (scorecards/refresh.py).
SCORECARD_REFRESH_SECONDS = env_int("SCORECARD_REFRESH_SECONDS", 2, minimum=1)
SCORECARD_SCHEDULE_HOUR = env_int("SCORECARD_SCHEDULE_HOUR", 2, minimum=0)
SCORECARD_SCHEDULE_MINUTE = env_int("SCORECARD_SCHEDULE_MINUTE", 15, minimum=0)
CELERY_BEAT_SCHEDULE = {
    "compute-scorecards": {
        "task": "scorecards.compute_periodic",
        "schedule": crontab(hour=SCORECARD_SCHEDULE_HOUR, minute=SCORECARD_SCHEDULE_MINUTE),
        "options": {"expires": 3600},
    },
    "refresh-scorecards": {
        "task": "scorecards.refresh_pending",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    "drain-outbox": {
        "task": "scorecards.drain_outbox",
        "schedule": 60.0,
        "options": {"expires": 55},
    },
    # Notices (notices/tasks.py): digests at 08:00 in each member's zone, the daily scans,
    # the inbox's 90 days.
    "notice-emails-unsent": {
        "task": "notices.email_unsent",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "checkin-invitations-unsent": {
        "task": "feedback.send_unsent_checkin_invitations",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "notice-digests": {
        "task": "notices.digests_due",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "notice-scan": {
        "task": "notices.scan",
        "schedule": crontab(minute=20),
        "options": {"expires": 3000},
    },
    "notice-prune": {
        "task": "notices.prune",
        "schedule": crontab(hour=3, minute=40),
        "options": {"expires": 3600},
    },
    "expire-change-requests": {
        "task": "relationships.expire_change_requests",
        "schedule": crontab(minute=5),
        "options": {"expires": 3000},
    },
}

# Webhooks: secrets are encrypted at rest with this key (Fernet, urlsafe base64 of 32 bytes).
FIELD_ENCRYPTION_KEY = env_str("FIELD_ENCRYPTION_KEY", "")
if not FIELD_ENCRYPTION_KEY and not DEBUG:
    raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY must be set when DEBUG is off")
WEBHOOK_ALLOW_PRIVATE_URLS = env_bool("WEBHOOK_ALLOW_PRIVATE_URLS", False)
WEBHOOK_TIMEOUT_SECONDS = env_int("WEBHOOK_TIMEOUT_SECONDS", 5, minimum=1)

REST_FRAMEWORK = {
    # Token first: an unauthenticated request then answers 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.plumbing.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON bodies only (the bulk endpoint reads CSV too), read by orjson with a bound on
    # their depth (core.api.plumbing); a form-encoded or multipart body is a 415, and the
    # schema declares JSON alone, as clients generated from it expect.
    "DEFAULT_PARSER_CLASSES": ["core.api.plumbing.JsonParser"],
    "DEFAULT_SCHEMA_CLASS": "core.api.errors.ApiAutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.api_exception_handler",
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    # orjson renders the same JSON several times faster than the standard library.
    "DEFAULT_RENDERER_CLASSES": [
        "drf_orjson_renderer.renderers.ORJSONRenderer",
        "core.api.plumbing.BrowsableAPIRenderer",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.plumbing.ApiPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_THROTTLE_CLASSES": [
        "core.api.plumbing.AnonRateThrottle",
        "core.api.plumbing.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("API_THROTTLE_ANON", "60/min"),
        "user": env_str("API_THROTTLE_USER", "6000/min"),
        "token_create": env_str("API_THROTTLE_TOKEN_CREATE", "20/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Accord API",
    "DESCRIPTION": (
        "Trust scorecards for outsourcing relationships. Authenticate with a session "
        "(browser) or an API token: `Authorization: Token <token>` (create one at "
        "`/api/v1/tokens/`). Every list is paginated (`page`, `page_size`); errors share "
        'one shape: `{"detail", "code", "errors": {field: [messages]}}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "core.api.plumbing.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "SideEnum": "relationships.models.Side",
        "RoleEnum": "relationships.models.Role",
        "BandEnum": "scorecards.models.Band",
        "ContactRoleEnum": "relationships.models.KeyContact.ContactRole",
        "EngagementStatusEnum": "relationships.models.Engagement.Status",
        "CheckInKindEnum": "feedback.models.CheckIn.Kind",
        "FeedbackKindEnum": "feedback.models.Feedback.Kind",
        "AlertKindEnum": "scorecards.models.Alert.Kind",
        "RunStatusEnum": "scorecards.models.ScorecardRun.Status",
        "ScorecardStatusEnum": "scorecards.models.Scorecard.Status",
        "NoticeKindEnum": "notices.models.Kind",
        "NoticeChannelEnum": "notices.models.Channel",
    },
}
# API tokens: knox keeps only a hash; tokens live until their owner revokes them.
KNOX_TOKEN_MODEL = "relationships.ApiToken"
REST_KNOX = {
    "TOKEN_TTL": None,
    "TOKEN_PREFIX": "accord_",
    "AUTH_HEADER_PREFIX": "Token",
}
# knox's own AuthToken is swapped for ApiToken: skip knox's migrations so its
# unused table (with a foreign key to users) never exists.
MIGRATION_MODULES = {"knox": None}

# The database cache is shared by every web process (the token-creation rate counts
# across gunicorn workers) and keeps working while Redis is down.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "accord_cache",
    },
    # API rate limits count per web process in memory: cheap enough for every
    # request, at the price of a limit that scales with the number of workers.
    "throttle": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}

# Production hardening: only when DEBUG is off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy on every page, in development too (so a violation shows up
# before production): scripts, styles and connections from this site only, no inline
# script or style (data reaches scripts through json_script), no plugins, no framing.
# Library pages whose templates carry fixed inline styles allow exactly those, by hash,
# on those pages only (core/content_security.py): the API docs (accord/urls.py), the
# admin's history pages (relationships/admin.py) and DRF's browsable API
# (accord/middleware.py). tests/reliability/test_content_security_policy.py visits every
# page in Chromium.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
