"""Test settings: PostgreSQL and Redis as in production, fast hashing."""

import os

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ivigtrack")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/0")

from ivigtrack.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
AXES_ENABLED = False  # lockout tests switch it on
# Tasks run in-process (risk.tasks.dispatch honours this), so no test leaves tasks in the real
# broker with no worker to take them. Tests that need a real worker switch it off and start one.
CELERY_TASK_ALWAYS_EAGER = True
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000/min", "token": "1000/min"},
}
# Each test process gets its own Redis database for the cache so throttles do not leak.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Database-error retries of a sweep chunk wait 0.05 s, 0.1 s (2 s, 4 s in production).
IVIGTRACK_SWEEP_RETRY_BACKOFF = 0.05
