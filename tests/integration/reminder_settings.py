"""The worker of tests/integration/test_reminders_worker.py: the worker settings with the
recording locmem e-mail backend."""

from tests.integration.celery_settings import *  # noqa: F403

EMAIL_BACKEND = "tests.integration.mail_backend.RecordingBackend"
