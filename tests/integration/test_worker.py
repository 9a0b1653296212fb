"""A real Celery worker process over the real Redis broker, against the test database.

The tests start and stop the worker processes they need. They use Redis database 15 so they
never meet tasks of a developer's running app.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import redis
from django.db import connection
from django.utils import timezone

from demo.synthetic import generate
from patients import services as patient_services
from risk.models import Notification, ReviewFlag, RiskAssessment, SweepRun
from risk.services.sweep import sweep_inline

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]
ROOT = Path(__file__).resolve().parents[2]
# Redis database 15 unless IVIGTRACK_TEST_BROKER_URL says otherwise (two checkouts running these
# tests at once on one machine must not share a queue: their workers would take each other's tasks).
BROKER = os.environ.get("IVIGTRACK_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")


def use_broker(app, url: str) -> None:
    """Point the in-process Celery app at another broker (drop its cached connection pools)."""
    from kombu import pools

    app.conf.broker_url = url
    pools.reset()  # kombu keeps pools per connection in a global registry
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def broker(settings):
    from ivigtrack.celery import app

    redis.Redis.from_url(BROKER).flushdb()
    old = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(app, BROKER)
    yield app
    use_broker(app, old)
    redis.Redis.from_url(BROKER).flushdb()


def celery_env(
    chunk: int = 1000, settings: str = "tests.integration.celery_settings", visibility: int = 30, **extra: str
) -> dict:
    db = connection.settings_dict
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": BROKER,
        "CELERY_VISIBILITY_TIMEOUT": str(visibility),
        # Unacknowledged messages older than the visibility timeout are put back within a second
        # (a test that kills a worker sets a short timeout; the others keep it above any task's
        # run time on a loaded machine, or a slow task would be handed out twice).
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        # The visibility timeout must be longer than a chunk's hard time limit (settings.py).
        "IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT": str(visibility - 1),
        "IVIGTRACK_SWEEP_CHUNK": str(chunk),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def start_celery(*args: str, env: dict) -> subprocess.Popen:
    """`celery -A ivigtrack <args>` in a process group of its own (see `stop`)."""
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "ivigtrack", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def start_beat(schedule_dir: Path) -> subprocess.Popen:
    """`celery beat` as deployed (Procfile), with every entry due every 2 s (beat_settings)."""
    env = celery_env(settings="tests.integration.beat_settings")
    return start_celery("beat", "-l", "warning", "-s", str(schedule_dir / "celerybeat-schedule"), env=env)


def start_worker(chunk: int = 1000, **env) -> subprocess.Popen:
    return start_celery(
        *("worker", "-l", "warning", "--concurrency", "1", "--pool", "prefork"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        env=celery_env(chunk, **env),
    )


def stop(proc: subprocess.Popen, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


def test_symptom_report_flag_and_notification_through_the_worker(broker, make_user):
    carol = make_user("carol", "clinician")
    worker = start_worker()
    try:
        patient = patient_services.patient_create(
            actor=carol,
            mrn="W1",
            given_name="Wanda",
            family_name="Worker",
            date_of_birth=date(1960, 1, 1),
            sex="female",
            height_cm=165,
            diagnosis="cidp",
            weight_kg=70,
        )
        report = patient_services.symptom_report_submit(actor=carol, patient=patient, symptoms=["chest_pain"])
        # The flag is raised in the report's own transaction, before any worker runs.
        flag = ReviewFlag.objects.get(patient=patient, kind="symptom_alert")
        assert (flag.rule, flag.priority) == ("SYM-EMERGENCY", "emergency")
        # The worker sends the e-mail and assesses the patient (tasks enqueued on commit).
        note = wait_for(lambda: Notification.objects.filter(flag=flag, status="sent").first(), what="notification")
        assert "carol@clinic.test" in note.recipients
        wait_for(lambda: RiskAssessment.objects.filter(patient=patient, is_current=True).exists(), what="assessment")
        assert report.triage == "emergency"
    finally:
        stop(worker)


def test_sweep_through_the_broker_and_a_killed_worker(broker):
    from risk import tasks

    generate(300, seed=21, today=timezone.localdate())
    worker = start_worker(chunk=20)
    try:
        tasks.sweep.apply_async(kwargs={"full": True, "trigger": "test"})
        run = wait_for(lambda: SweepRun.objects.filter(trigger="test").first(), what="sweep run")
        assert run.chunks_total == 15
        # Kill the worker hard once some, but not all, chunks are done.
        wait_for(lambda: SweepRun.objects.filter(pk=run.pk, chunks_done__gte=2).exists(), what="first chunks")
        stop(worker, signal.SIGKILL)
        partial = SweepRun.objects.get(pk=run.pk)
        worker = start_worker(chunk=20)
        # The next sweep (beat's next tick) catches up from the database state.
        tasks.sweep.apply_async(kwargs={"full": True, "trigger": "test-again"})
        again = wait_for(
            lambda: SweepRun.objects.filter(trigger="test-again", finished_at__isnull=False).first(),
            timeout=120,
            what="second sweep",
        )
        assert again.patients >= 300 and again.errors == 0
        assert partial.chunks_done >= 2
    finally:
        stop(worker)
    # An uninterrupted run from here changes nothing: the killed run lost and duplicated nothing.
    check = sweep_inline(full=True)
    assert (check.assessments_changed, check.flags_raised, check.flags_resolved, check.flags_escalated) == (0, 0, 0, 0)
    assert RiskAssessment.objects.filter(is_current=True).count() == 300
    open_rows = list(ReviewFlag.objects.exclude(status="resolved").values_list("patient_id", "kind"))
    assert len(open_rows) == len(set(open_rows))


def test_beat_sends_the_sweeps_that_the_worker_runs(broker, tmp_path):
    generate(40, seed=5, today=timezone.localdate())
    worker = start_worker(chunk=15)
    beat = start_beat(tmp_path)
    try:
        nightly = wait_for(
            lambda: SweepRun.objects.filter(trigger="beat", full=True, finished_at__isnull=False).first(),
            timeout=90,
            what="a full sweep sent by beat and finished by the worker",
        )
        wait_for(lambda: SweepRun.objects.filter(trigger="beat", full=False).exists(), what="an hourly sweep")
    finally:
        stop(beat)
        stop(worker)
    assert (nightly.chunks_total, nightly.chunks_done, nightly.patients) == (3, 3, 40)
    assert RiskAssessment.objects.filter(is_current=True).count() == 40


def test_beat_schedule_is_the_clinic_schedule(settings):
    """What beat runs in production, and when (UTC): the sweeps hourly at :05 and nightly at
    02:30, the sweep watchdog every 5 minutes, the routine digest at 07:00, CHECKIN-MISSED hourly
    at :20, the patients' reminders at 08:00; each expires before the next would be sent."""
    schedule = settings.CELERY_BEAT_SCHEDULE
    when = {name: (str(entry["schedule"]), entry["task"], entry.get("kwargs", {})) for name, entry in schedule.items()}
    assert when == {
        "review-sweep-hourly": ("<crontab: 5 * * * * (m/h/dM/MY/d)>", "risk.tasks.sweep", {"full": False}),
        "review-sweep-nightly": ("<crontab: 30 2 * * * (m/h/dM/MY/d)>", "risk.tasks.sweep", {"full": True}),
        "sweep-watchdog": ("300.0", "risk.tasks.sweep_watchdog", {}),
        "routine-digest-daily": ("<crontab: 0 7 * * * (m/h/dM/MY/d)>", "risk.tasks.send_routine_digest", {}),
        "checkins-hourly": ("<crontab: 20 * * * * (m/h/dM/MY/d)>", "risk.tasks.checkins", {}),
        "patient-reminders-daily": ("<crontab: 0 8 * * * (m/h/dM/MY/d)>", "risk.tasks.reminders", {}),
    }
    assert schedule["checkins-hourly"]["options"]["expires"] < 3600
    assert schedule["review-sweep-hourly"]["options"]["expires"] < 3600
    assert schedule["sweep-watchdog"]["options"]["expires"] < 300


def test_broker_down_the_write_still_succeeds(settings, make_user):
    from ivigtrack.celery import app

    carol = make_user("carol", "clinician")
    settings.CELERY_TASK_ALWAYS_EAGER = False
    old = app.conf.broker_url
    use_broker(app, "redis://127.0.0.1:6399/0")  # nothing listens here
    try:
        patient = patient_services.patient_create(
            actor=carol,
            mrn="DOWN",
            given_name="D",
            family_name="Own",
            date_of_birth=date(1950, 1, 1),
            sex="male",
            height_cm=175,
            diagnosis="cidp",
            weight_kg=80,
        )
    finally:
        use_broker(app, old)
    assert patient.pk
    # Assessed inline because the broker could not be reached.
    assert RiskAssessment.objects.filter(patient=patient, is_current=True).exists()
