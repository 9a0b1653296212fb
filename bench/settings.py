"""Settings for benchmark runs: the production settings, pointed at a benchmark database.

Production-like on purpose (DEBUG off, persistent connections, no query log), with what a
loopback benchmark needs on top: plain HTTP (no SSL redirect, no secure-only cookies), static
files without a manifest (no collectstatic needed), and `bench.urls` for the floor view.
The database comes from DATABASE_URL, which bench/run.py sets to the benchmark database.
"""

import os

os.environ.setdefault("DJANGO_DEBUG", "False")
# The benchmark clinician signs in by a forged session (bench/pages.py) and has no authenticator:
# two-factor stays optional here, so the figures measure the pages, not a redirect to set one up.
os.environ.setdefault("IVIGTRACK_STAFF_MFA", "optional")
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
os.environ.setdefault("LOG_LEVEL", "WARNING")
if not os.environ.get("DATABASE_URL"):
    raise RuntimeError("bench.settings needs DATABASE_URL (bench/run.py sets it to the benchmark database)")

from ivigtrack.settings import *  # noqa: E402,F403

ROOT_URLCONF = "bench.urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tasks the sweep sends (flag notifications) go to a real Redis broker, as in production, but
# to a database and queue of their own that no worker reads; bench/run.py purges them.
CELERY_BROKER_URL = os.environ.get("BENCH_BROKER_URL", "redis://127.0.0.1:6379/15")
CELERY_TASK_ALWAYS_EAGER = False
CELERY_TASK_DEFAULT_QUEUE = "ivigtrack-bench"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# A throttle must never be what a load test measures.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,  # noqa: F405
    "DEFAULT_THROTTLE_RATES": {"anon": "1000000/min", "token": "1000000/min"},
}
