"""Sweeps under faults, with a real worker over the real broker (Redis db 15) and PostgreSQL:
the chunk's database connection terminated mid-chunk, the worker killed with SIGKILL mid-chunk,
chunk messages that never arrive. Each run must finish with honest counters: every patient
counted once, no chunk lost.

"Mid-chunk" is made certain, not hoped for: the test holds a row lock on the chunk's first
patient from a connection of its own, so the worker's chunk waits inside its transaction
(`SELECT ... FOR UPDATE` on its patients) until the test has done its damage.
"""

from __future__ import annotations

import signal
from contextlib import contextmanager
from datetime import timedelta

import psycopg
import pytest
import redis
from django.db import connection
from django.utils import timezone

from demo.synthetic import generate
from patients.models import Patient
from risk import tasks
from risk.models import RiskAssessment, SweepChunk, SweepRun
from risk.services.sweep import sweep_inline, sweep_start
from tests.integration.test_worker import BROKER, broker, start_worker, stop, wait_for  # noqa: F401

pytestmark = [
    pytest.mark.worker,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.usefixtures("broker"),
]


def dsn() -> str:
    db = connection.settings_dict
    return f"host={db['HOST']} port={db['PORT']} user={db['USER']} dbname={db['NAME']}"


@contextmanager
def patient_locked(patient_id: int):
    """Hold a row lock on one patient (as a long clinical write would) until the block ends."""
    with psycopg.connect(dsn()) as locker:
        locker.execute("SELECT id FROM patients_patient WHERE id = %s FOR UPDATE", [patient_id])
        yield locker
        locker.rollback()


def waiting_chunk_backend() -> int | None:
    """The worker's backend waiting for our lock (its chunk is mid-transaction)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            " AND query LIKE %s AND pid <> pg_backend_pid()",
            ["%FOR UPDATE%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def finished(run_id: int) -> SweepRun | None:
    return SweepRun.objects.filter(pk=run_id, status="finished").first()


def test_chunk_whose_connection_is_terminated_is_retried_and_counted_once():
    generate(60, seed=31, today=timezone.localdate())
    first = Patient.objects.order_by("id").values_list("id", flat=True).first()
    worker = start_worker(chunk=20, visibility=30)
    try:
        with patient_locked(first):
            tasks.sweep.apply_async(kwargs={"full": True, "trigger": "terminate"})
            pid = wait_for(waiting_chunk_backend, what="the first chunk waiting mid-transaction")
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
        run = SweepRun.objects.get(trigger="terminate")
        run = wait_for(lambda: finished(run.pk), timeout=90, what="the run to finish")
    finally:
        stop(worker)
    chunks = list(run.chunks.order_by("index"))
    assert [(c.status, c.attempts) for c in chunks] == [("done", 2), ("done", 1), ("done", 1)]
    assert (run.chunks_done, run.chunks_failed, run.patients, run.assessments_changed, run.errors) == (3, 0, 60, 60, 0)
    assert RiskAssessment.objects.filter(is_current=True).count() == RiskAssessment.objects.count() == 60


def test_worker_killed_mid_chunk_the_redelivered_chunk_counts_once():
    generate(40, seed=32, today=timezone.localdate())
    first = Patient.objects.order_by("id").values_list("id", flat=True).first()
    worker = start_worker(chunk=20, visibility=10)
    try:
        with patient_locked(first):
            tasks.sweep.apply_async(kwargs={"full": True, "trigger": "kill"})
            wait_for(waiting_chunk_backend, what="the first chunk waiting mid-transaction")
            stop(worker, signal.SIGKILL)  # the whole worker, parent and child: nothing acks
        run = SweepRun.objects.get(trigger="kill")
        assert (run.chunks_done, run.patients) == (0, 0)  # the killed chunk wrote nothing
        worker = start_worker(chunk=20, visibility=10)
        # The broker gives the unacknowledged messages out again after the visibility timeout.
        run = wait_for(lambda: finished(run.pk), timeout=90, what="the redelivered chunks")
        assert (run.chunks_done, run.patients, run.assessments_changed, run.errors) == (2, 40, 40, 0)
        chunk0 = run.chunks.get(index=0)
        assert chunk0.status == "done" and chunk0.attempts >= 2  # more if a slow attempt was handed out again
        # A finished chunk delivered once more (its worker died after the commit, before the ack).
        tasks.sweep_chunk.apply_async(args=(chunk0.pk,))
        queue = redis.Redis.from_url(BROKER)
        wait_for(lambda: queue.llen("celery") == 0 and queue.hlen("unacked") == 0, what="the copy to be taken")
    finally:
        stop(worker)
    run.refresh_from_db()
    assert (run.chunks_done, run.patients, run.assessments_changed) == (2, 40, 40)
    assert run.chunks.get(index=0).attempts == chunk0.attempts  # the copy found its row done: nothing
    check = sweep_inline(full=True)
    assert (check.assessments_changed, check.flags_raised, check.flags_resolved) == (0, 0, 0)
    assert RiskAssessment.objects.count() == 40


def test_chunks_that_never_arrive_go_stale_and_the_watchdog_sends_them_again(settings):
    settings.IVIGTRACK_SWEEP_CHUNK = 20
    generate(40, seed=33, today=timezone.localdate())
    run, chunk_ids = sweep_start(full=True, trigger="lost")  # its messages were lost: never sent
    assert len(chunk_ids) == 2
    SweepChunk.objects.filter(run=run).update(updated_at=timezone.now() - timedelta(minutes=31))
    worker = start_worker(chunk=20)
    try:
        tasks.sweep_watchdog.apply_async()  # what beat sends every 5 minutes
        run = wait_for(lambda: finished(run.pk), timeout=60, what="the re-queued chunks")
    finally:
        stop(worker)
    assert run.stale_at is not None and run.requeued == 2
    assert (run.chunks_done, run.patients, run.assessments_changed) == (2, 40, 40)
    assert RiskAssessment.objects.count() == 40
