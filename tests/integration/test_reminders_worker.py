"""Patient e-mail reminders through a real Celery worker over Redis, with Django's locmem outbox
recorded to a file the test reads: each reminder is sent once, a failed send is retried, and a
patient who did not opt in gets none.

The broker is a private redis-server on a free port that the test starts and stops (REDIS_URL's
database when it is usable, e.g. db 18 does not exist on a 16-database server)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
import redis
from django.utils import timezone

from infusions.models import Infusion, Product
from patients import services as patient_services
from risk import tasks
from risk.models import PatientReminder
from risk.reminders import reminders_plan
from tests.factories import make_flag
from tests.integration.test_worker import celery_env, start_celery, stop, use_broker, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def broker_url(tmp_path):
    """A private redis-server for this test only (stopped by its own process id)."""
    port = _free_port()
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--dir", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        wait_for(lambda: _answers(url), timeout=10, what="redis-server")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        return redis.Redis.from_url(url, socket_timeout=0.5).ping()
    except redis.exceptions.ConnectionError:
        return False


@pytest.fixture
def broker(settings, broker_url):
    from ivigtrack.celery import app

    old = app.conf.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    use_broker(app, broker_url)
    yield broker_url
    use_broker(app, old)


def patient(carol, make_user, name: str, *, opt_in: bool):
    user = make_user(name, "patient")
    p = patient_services.patient_create(
        actor=carol, mrn=f"R-{name}", given_name=name.title(), family_name="Reminder",
        date_of_birth=date(1965, 3, 1), sex="female", height_cm=165, diagnosis="cidp", user=user, weight_kg=70,
    )  # fmt: skip
    if opt_in:
        patient_services.reminders_opt_in_set(actor=user, patient=p, opt_in=True)
    return p


def sent(log) -> list[dict]:
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_each_reminder_once_a_failed_send_retried_none_without_opt_in(broker, make_user, tmp_path):
    carol = make_user("carol", "clinician")
    privigen = Product.objects.get(name="Privigen 10%")
    today = timezone.localdate()
    in_two_days = timezone.make_aware(datetime.combine(today + timedelta(days=2), datetime.min.time())) + timedelta(
        hours=10
    )
    ann = patient(carol, make_user, "ann", opt_in=True)  # next infusion in 2 days; her first send fails
    Infusion.objects.create(patient=ann, product=privigen, started_at=in_two_days, dose_grams=30, status="planned")
    bea = patient(carol, make_user, "bea", opt_in=True)  # labs due and a day-1 check-in open
    make_flag(bea, kind="clotting_studies", rule="CLOT-BASELINE")
    yesterday = timezone.make_aware(datetime.combine(today - timedelta(days=1), datetime.min.time())) + timedelta(
        hours=9
    )
    Infusion.objects.create(patient=bea, product=privigen, started_at=yesterday, dose_grams=Decimal("30"))
    cat = patient(carol, make_user, "cat", opt_in=False)  # would get all three, but did not opt in
    Infusion.objects.create(patient=cat, product=privigen, started_at=in_two_days, dose_grams=30, status="planned")
    make_flag(cat, kind="pre_ivig_labs", rule="PRE-IVIG")

    log, fail = tmp_path / "mail.jsonl", tmp_path / "fail"
    fail.write_text(ann.user.email)
    env = {
        **celery_env(settings="tests.integration.reminder_settings"),
        "CELERY_BROKER_URL": broker,
        "IVIGTRACK_TEST_MAIL_LOG": str(log),
        "IVIGTRACK_TEST_MAIL_FAIL": str(fail),
    }
    worker = start_celery(
        *("worker", "-l", "warning", "--concurrency", "1", "--pool", "prefork"),
        *("--without-gossip", "--without-mingle", "--without-heartbeat"),
        env=env,
    )
    try:
        tasks.reminders.apply_async()
        wait_for(lambda: len(sent(log)) >= 3, timeout=90, what="three reminders sent")
        rows = {(r.patient_id, r.kind): r for r in PatientReminder.objects.all()}
        assert set(rows) == {(ann.pk, "next_infusion"), (bea.pk, "labs_due"), (bea.pk, "checkin_due")}
        assert all(r.status == "sent" for r in rows.values())
        first = rows[(ann.pk, "next_infusion")]
        assert first.attempts == 2 and first.on == today + timedelta(days=2)  # failed once, then sent
        assert fail.read_text() == ""

        # The daily job again (a second beat tick, a redelivery): nothing new is written or sent.
        tasks.reminders.apply_async()
        time.sleep(5)
        assert reminders_plan() == []
        assert PatientReminder.objects.count() == 3
    finally:
        stop(worker)
    mails = sent(log)
    assert sorted(m["to"][0] for m in mails) == sorted([ann.user.email, bea.user.email, bea.user.email])
    assert not any(cat.user.email in m["to"] for m in mails)
    subjects = {m["subject"] for m in mails}
    assert "Your next immunoglobulin infusion is in 2 days" in subjects
    assert "How are you since your infusion?" in subjects
