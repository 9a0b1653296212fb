"""ivigtrack settings, driven by the environment.

Zero-config default: SQLite file, a development key, DEBUG on, eager Celery when no
broker is configured. Production: set DJANGO_DEBUG=False, DJANGO_SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, REDIS_URL; the app refuses to start half-configured.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: str) -> bool:
    value = os.environ.get(name, default)
    if value not in ("True", "False"):
        raise ImproperlyConfigured(f"{name} must be 'True' or 'False', got {value!r}")
    return value == "True"


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", "True")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG=False")
    SECRET_KEY = "dev-insecure-key-only-for-local-runs-0123456789abcdefghijklmnop"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when DJANGO_DEBUG=False")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "csp",
    "axes",
    "knox",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "ivigtrack.accounts",
    "ivigtrack.audit",
    "ivigtrack.idempotency",
    "patients",
    "infusions",
    "risk",
    "fhir_r4",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "ivigtrack.middleware.RejectNulBytesMiddleware",
    "ivigtrack.middleware.ApiNoStoreMiddleware",
    "ivigtrack.middleware.RejectUndecodableBodyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "ivigtrack.accounts.zones.SiteTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ivigtrack.accounts.sessions.SessionLimitsMiddleware",
    "ivigtrack.accounts.mfa.StaffTwoFactorMiddleware",
    "ivigtrack.idempotency.forms.OneTimeFormTokenMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ivigtrack.urls"
WSGI_APPLICATION = "ivigtrack.wsgi.application"

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
                "patients.pages.portal_site",
                "ivigtrack.accounts.sessions.session_context",
                "ivigtrack.idempotency.forms.form_token",
            ],
            # the pages' |date filter prints the site's date format (ivigtrack/template_dates.py)
            "builtins": ["ivigtrack.template_dates"],
        },
    },
    # Performance trick: Jinja2 for the few hot fragments drawn many times a page (<app>/jinja2/:
    # the worklist's flag rows). 50 rows render in 3 ms against 11-15 ms in the Django template
    # language (bench/README.md). Pages stay in the Django template language.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "NAME": "jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"environment": "ivigtrack.jinja_env.environment"},
    },
]

# Database: DATABASE_URL (PostgreSQL in tests and production), else a local SQLite file.
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("IVIGTRACK_SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {
                "init_command": "PRAGMA busy_timeout=5000;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout, sessions, tokens and two-factor: the "Accounts and sessions" block at the end.
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

LANGUAGE_CODE = "en-gb"
# The clinic network's default zone (IANA); each site has its own (accounts.Site.time_zone), which
# pages, forms and the engine's local day use for that site's patients.
TIME_ZONE = os.environ.get("IVIGTRACK_TIME_ZONE", "UTC")
IVIGTRACK_TIME_ZONE = TIME_ZONE
# The site an upgraded single-clinic install puts every patient and staff member in (migration).
IVIGTRACK_DEFAULT_SITE_NAME = os.environ.get("IVIGTRACK_DEFAULT_SITE_NAME", "Main clinic")
IVIGTRACK_DEFAULT_SITE_CODE = os.environ.get("IVIGTRACK_DEFAULT_SITE_CODE", "MAIN")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Cache (and so throttle counters) on Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            # Reads miss and writes are dropped while Redis is down (ivigtrack/cache.py); each
            # call gives up after 1 s.
            "BACKEND": "ivigtrack.cache.DegradingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# E-mail: console by default.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", "False")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "ivigtrack@localhost")
STAFF_ALERT_EMAILS = env_list("STAFF_ALERT_EMAILS")  # extra recipients besides staff users

# Celery: Redis broker. With no broker configured (zero-config local run) tasks run eagerly.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", REDIS_URL)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True  # every task is idempotent
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 240
CELERY_TASK_TIME_LIMIT = 300
# A chunk of a sweep may run at most IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT seconds (its three attempts
# included); the broker gives an unacknowledged message (its worker was killed) to another worker
# after the visibility timeout, which must be longer, or a slow chunk would be sent twice.
IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT = int(os.environ.get("IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT", "600"))
IVIGTRACK_SWEEP_CHUNK_SOFT_TIME_LIMIT = max(
    IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT - 30, IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT * 0.9
)
CELERY_VISIBILITY_TIMEOUT = int(os.environ.get("CELERY_VISIBILITY_TIMEOUT", str(15 * 60)))
if CELERY_VISIBILITY_TIMEOUT <= IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT:
    raise ImproperlyConfigured("CELERY_VISIBILITY_TIMEOUT must be longer than IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT")
# The broker never holds a request: connecting and every socket read or write give up after 2 s
# (then the work runs inline or waits for the next sweep; risk.tasks.dispatch).
BROKER_TIMEOUT = 2
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": CELERY_VISIBILITY_TIMEOUT,
    # How often a worker looks for messages whose worker died (older than the visibility timeout)
    # and puts them back: every unacked_restore_interval seconds (kombu's default is a scan every
    # 100 s: an interval of 10 s, scanning every 10th time).
    "unacked_restore_interval": int(os.environ.get("CELERY_UNACKED_RESTORE_INTERVAL", "60")),
    "unacked_restore_throttle": 1,
    "socket_timeout": BROKER_TIMEOUT,
    "socket_connect_timeout": BROKER_TIMEOUT,
    "max_retries": 0,
}
CELERY_BROKER_CONNECTION_TIMEOUT = BROKER_TIMEOUT
CELERY_BROKER_CONNECTION_MAX_RETRIES = 0
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_TIMEZONE = "UTC"
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_DB_REUSE_MAX = 100
# One beat, static schedule; the database decides what is due, so a lost tick is harmless.
CELERY_BEAT_SCHEDULE = {
    "review-sweep-hourly": {
        "task": "risk.tasks.sweep",
        "schedule": crontab(minute=5),
        "kwargs": {"full": False},
        "options": {"expires": 50 * 60},
    },
    "review-sweep-nightly": {
        "task": "risk.tasks.sweep",
        "schedule": crontab(hour=2, minute=30),
        "kwargs": {"full": True},
        "options": {"expires": 3 * 3600},
    },
    "checkins-hourly": {
        "task": "risk.tasks.checkins",
        "schedule": crontab(minute=20),
        "options": {"expires": 50 * 60},
    },
    "patient-reminders-daily": {
        "task": "risk.tasks.reminders",
        "schedule": crontab(hour=8, minute=0),
        "options": {"expires": 6 * 3600},
    },
    "sweep-watchdog": {
        "task": "risk.tasks.sweep_watchdog",
        "schedule": 5 * 60.0,
        "options": {"expires": 4 * 60},
    },
    "routine-digest-daily": {
        "task": "risk.tasks.send_routine_digest",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 3 * 3600},
    },
}

# Clinical rule periods (itrs/review.py ReviewSettings, defaults there; weight_stale_days too,
# which the patient page reads): every period is a setting, read by risk.services.assessment.
IVIGTRACK_REVIEW: dict = {}
IVIGTRACK_SWEEP_CHUNK = int(os.environ.get("IVIGTRACK_SWEEP_CHUNK", "1000"))
# A chunk meeting a database error (connection lost, deadlock, serialization) is tried this many
# times, waiting BACKOFF, 2 x BACKOFF, ... seconds between attempts, then marked failed.
IVIGTRACK_SWEEP_RETRIES = 3
IVIGTRACK_SWEEP_RETRY_BACKOFF = float(os.environ.get("IVIGTRACK_SWEEP_RETRY_BACKOFF", "2"))
# A run whose chunks have not moved for this long is `stale`; the watchdog sends its chunks again.
IVIGTRACK_SWEEP_STALE_MINUTES = int(os.environ.get("IVIGTRACK_SWEEP_STALE_MINUTES", "30"))
# Clock skew tolerated for instants a record says have happened (an administered infusion's
# start, a lab's collection, a symptom report): patients.services.latest_plausible_instant.
IVIGTRACK_FUTURE_TOLERANCE = timedelta(minutes=5)
# Shown to patients as tap-to-call links (portal home, symptom advice): patients.site_info.
IVIGTRACK_CLINIC_PHONE = os.environ.get("IVIGTRACK_CLINIC_PHONE", "")
IVIGTRACK_EMERGENCY_NUMBER = os.environ.get("IVIGTRACK_EMERGENCY_NUMBER", "999")

# DRF's defaults are the API's (REST, FHIR, schema, docs, token): views set only what differs.
REST_FRAMEWORK = {
    # Token first, so an anonymous request gets 401 with WWW-Authenticate, not 403.
    # Session second: browsers (staff pages, portal) call the API with their cookie and CSRF.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "ivigtrack.api.tokens.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "ivigtrack.api.pagination.Pagination",
    # JSON nested deeper than 100 levels or in an undecodable charset is a 400 (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "ivigtrack.api.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "ivigtrack.api.viewsets.ApiAutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.ScopedRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {"anon": "60/min", "token": "10/min"},
    "EXCEPTION_HANDLER": "ivigtrack.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Throttles read X-Forwarded-For only behind IVIGTRACK_TRUSTED_PROXIES proxies (see below).
    "NUM_PROXIES": None,  # set from IVIGTRACK_TRUSTED_PROXIES in the accounts block
}
SPECTACULAR_SETTINGS = {
    "TITLE": "ivigtrack API",
    "DESCRIPTION": "IVIG clot-risk tracker: records, explainable risk (ITRS-v1) and review flags. "
    "Decision support, not diagnosis.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # a drug's default unit and a course's dose unit are one choice set (mg | microgram)
    "ENUM_NAME_OVERRIDES": {"DoseUnitEnum": "infusions.models.DoseUnit"},
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # no deep links: they put a link inside each operation's toggle button (axe: nested-interactive)
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "REDOC_DIST": "SIDECAR",
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Content Security Policy: nothing inline, nothing from elsewhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'self'"],
    }
}

X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", "True")
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", "True")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Accounts and sessions (issue 17) ----------------------------------------------------------
# Client address: X-Forwarded-For is read only behind this many trusted proxies (0: REMOTE_ADDR),
# for the lockout and the API throttles alike (ivigtrack.accounts.lockout.client_ip).
IVIGTRACK_TRUSTED_PROXIES = int(os.environ.get("IVIGTRACK_TRUSTED_PROXIES", "0"))
REST_FRAMEWORK["NUM_PROXIES"] = IVIGTRACK_TRUSTED_PROXIES
# Lockout (django-axes): 5 failures lock the (username, client address) pair for 15 minutes;
# 20 failures within an hour lock the account whatever the address (ivigtrack.accounts.lockout).
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # "try again at HH:MM" stays true
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # one row per failure: the per-account count reads them
AXES_HANDLER = "ivigtrack.accounts.lockout.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "ivigtrack.accounts.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "ivigtrack.accounts.lockout.client_ip"
IVIGTRACK_ACCOUNT_LOCK_FAILURES = 20
IVIGTRACK_ACCOUNT_LOCK_WINDOW = timedelta(hours=1)
# API tokens (django-rest-knox): expiring, revocable.
IVIGTRACK_TOKEN_HOURS = float(os.environ.get("IVIGTRACK_TOKEN_HOURS", "12"))
REST_KNOX = {"TOKEN_TTL": timedelta(hours=IVIGTRACK_TOKEN_HOURS), "AUTH_HEADER_PREFIX": "Token"}
# Sessions (ivigtrack.accounts.sessions): idle and absolute limits; background polling does not
# count as activity. The cookie lives as long as the absolute limit; the idle limit is checked on
# the server, so the session is saved only when it changes (never by a poll).
IVIGTRACK_SESSION_IDLE = timedelta(minutes=int(os.environ.get("IVIGTRACK_SESSION_IDLE_MINUTES", "30")))
IVIGTRACK_SESSION_ABSOLUTE = timedelta(hours=int(os.environ.get("IVIGTRACK_SESSION_ABSOLUTE_HOURS", "12")))
IVIGTRACK_SESSION_WARNING = timedelta(minutes=2)
SESSION_COOKIE_AGE = int(IVIGTRACK_SESSION_ABSOLUTE.total_seconds())
SESSION_SAVE_EVERY_REQUEST = False
# Two-factor sign-in for staff (django-otp; ivigtrack.accounts.mfa): "required" or "optional".
IVIGTRACK_STAFF_MFA = os.environ.get("IVIGTRACK_STAFF_MFA", "optional" if DEBUG else "required")
if IVIGTRACK_STAFF_MFA not in ("required", "optional"):
    raise ImproperlyConfigured(f"IVIGTRACK_STAFF_MFA must be 'required' or 'optional', got {IVIGTRACK_STAFF_MFA!r}")
OTP_TOTP_ISSUER = "ivigtrack"
# Portal invitations (a one-time link to set a password) and password reset links.
IVIGTRACK_INVITATION_HOURS = int(os.environ.get("IVIGTRACK_INVITATION_HOURS", "72"))
PASSWORD_RESET_TIMEOUT = 60 * 60  # a reset link works for an hour
# "Who looked at my record" shows the reader's role and site; their name only when this is True.
IVIGTRACK_SHOW_READER_NAMES = env_bool("IVIGTRACK_SHOW_READER_NAMES", "False")
# The browsable (HTML) API only while developing; production answers JSON only.
REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"] + (
    ["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []
)
