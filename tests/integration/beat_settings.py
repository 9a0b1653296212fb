"""Settings for the beat process of tests/integration/test_worker.py: the test settings with
the production beat entries (same tasks, arguments and options), each due every 2 seconds
instead of at its clinic hour. That the hours are the documented ones is tested on its own."""

from ivigtrack.settings import CELERY_BEAT_SCHEDULE as PRODUCTION_SCHEDULE
from tests.integration.celery_settings import *  # noqa: F403

CELERY_BEAT_SCHEDULE = {name: {**entry, "schedule": 2.0} for name, entry in PRODUCTION_SCHEDULE.items()}
