"""Test settings on SQLite, the zero-config database of `make run` (no DATABASE_URL).

The SQLite leg of `make test` runs the tests marked `sqlite` with these settings, so the
non-PostgreSQL branches (the ORM readers and bulk_create where PostgreSQL has one statement or
COPY) run in a test. Everything else is as in settings_test: tasks in-process, fast hashing,
local-memory cache; no PostgreSQL or Redis needed.
"""

import os

# The SQLite branch of settings.py (the OPTIONS of `make run`), whatever the caller's environment
# says; the test database itself is in memory (Django's default for SQLite tests). The variable
# is put back so that subprocesses see the caller's environment.
_caller_url = os.environ.get("DATABASE_URL")
os.environ["DATABASE_URL"] = ""
try:
    from ivigtrack.settings_test import *  # noqa: F403
finally:
    if _caller_url is None:
        del os.environ["DATABASE_URL"]
    else:
        os.environ["DATABASE_URL"] = _caller_url

assert DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"  # noqa: F405
