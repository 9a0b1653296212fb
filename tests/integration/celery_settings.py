"""Settings for the worker and beat processes the tests of this folder start: the test settings,
with tasks sent through the real broker (the test settings run them in-process)."""

from ivigtrack.settings_test import *  # noqa: F403

CELERY_TASK_ALWAYS_EAGER = False
