"""The sweep's chunk ledger: one row per chunk, counters summed from the chunks, a redelivered
chunk counted once, database errors retried then failed, the watchdog, write-time timestamps."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from demo.synthetic import generate
from ivigtrack.audit.models import AuditEvent
from risk import tasks
from risk.models import ReviewFlag, RiskAssessment, SweepChunk, SweepRun
from risk.services import assessment
from risk.services import sweep as sweeps

pytestmark = [pytest.mark.sqlite, pytest.mark.django_db]


@pytest.fixture
def sixty(settings):
    settings.IVIGTRACK_SWEEP_CHUNK = 20
    generate(60, seed=5, today=timezone.localdate())


def counters(run: SweepRun) -> tuple:
    run.refresh_from_db()
    return (run.status, run.chunks_done, run.chunks_total, run.patients, run.assessments_changed, run.flags_raised)


def test_start_creates_the_run_and_its_chunk_rows(sixty):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    chunks = list(run.chunks.order_by("index"))
    assert [c.pk for c in chunks] == chunk_ids and [c.index for c in chunks] == [0, 1, 2]
    assert [len(c.patient_ids) for c in chunks] == [20, 20, 20] and {c.status for c in chunks} == {"pending"}
    assert (run.status, run.chunks_total, run.chunks_done) == ("running", 3, 0)


def test_run_is_finished_only_after_its_last_chunk_and_counts_are_the_chunks_sum(sixty):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    sweeps.sweep_chunk_run(chunk_ids[0])
    sweeps.sweep_chunk_run(chunk_ids[2])
    assert counters(run)[:4] == ("running", 2, 3, 40) and run.finished_at is None
    sweeps.sweep_chunk_run(chunk_ids[1])
    status, done, total, patients, changed, raised = counters(run)
    assert (status, done, total, patients, changed) == ("finished", 3, 3, 60, 60) and run.finished_at
    chunks = SweepChunk.objects.filter(run=run)
    assert raised == sum(c.flags_raised for c in chunks) == ReviewFlag.objects.count()
    assert {(c.status, c.attempts) for c in chunks} == {("done", 1)}


def test_a_redelivered_finished_chunk_changes_and_counts_nothing(sixty):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    for chunk_id in chunk_ids:
        sweeps.sweep_chunk_run(chunk_id)
    before = counters(run)
    audits, assessments = AuditEvent.objects.count(), RiskAssessment.objects.count()
    # The broker hands the first chunk out again (its worker died after the commit, before the ack).
    again = sweeps.sweep_chunk_run(chunk_ids[0])
    assert (again.patients, again.assessments_changed) == (0, 0)
    assert counters(run) == before == ("finished", 3, 3, 60, 60, before[5])
    assert (AuditEvent.objects.count(), RiskAssessment.objects.count()) == (audits, assessments)
    assert SweepChunk.objects.get(pk=chunk_ids[0]).attempts == 1


def test_database_errors_are_retried_with_backoff(sixty, monkeypatch):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    real, calls, waits = assessment.process_patients, [], []

    def flaky(ids, **kwargs):
        calls.append(ids)
        if len(calls) <= 2:
            raise OperationalError("server closed the connection unexpectedly")
        return real(ids, **kwargs)

    monkeypatch.setattr(assessment, "process_patients", flaky)
    sweeps.sweep_chunk_run(chunk_ids[0], sleep=waits.append)
    chunk = SweepChunk.objects.get(pk=chunk_ids[0])
    assert (chunk.status, chunk.attempts, chunk.patients) == ("done", 3, 20)
    assert waits == [0.05, 0.1]  # IVIGTRACK_SWEEP_RETRY_BACKOFF (test settings), doubled
    assert counters(run)[1:4] == (1, 3, 20)


def test_a_chunk_that_keeps_failing_is_failed_with_its_error_and_the_run_finishes(sixty, monkeypatch):
    settings_size = 60
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")

    def dead(ids, **kwargs):
        raise OperationalError("deadlock detected")

    real = assessment.process_patients
    for chunk_id in chunk_ids[1:]:
        sweeps.sweep_chunk_run(chunk_id)
    monkeypatch.setattr(assessment, "process_patients", dead)
    sweeps.sweep_chunk_run(chunk_ids[0], sleep=lambda s: None)
    monkeypatch.setattr(assessment, "process_patients", real)
    chunk = SweepChunk.objects.get(pk=chunk_ids[0])
    assert (chunk.status, chunk.attempts) == ("failed", 3)
    assert chunk.error == "OperationalError after 3 attempts: deadlock detected"
    run.refresh_from_db()
    assert (run.status, run.chunks_done, run.chunks_failed, run.patients) == ("finished", 3, 1, settings_size - 20)
    assert {"chunk": 0, "error": chunk.error} in run.error_detail
    assert not RiskAssessment.objects.filter(patient_id__in=chunk.patient_ids).exists()  # nothing half-written


def test_other_errors_are_not_retried(sixty, monkeypatch):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    monkeypatch.setattr(assessment, "process_patients", lambda ids, **kw: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        sweeps.sweep_chunk_run(chunk_ids[0])
    assert SweepChunk.objects.get(pk=chunk_ids[0]).attempts == 1


def test_run_review_sweep_that_dies_marks_its_run_failed(sixty, monkeypatch):
    def interrupted(ids, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(assessment, "process_patients", interrupted)
    from django.core.management import call_command

    with pytest.raises(KeyboardInterrupt):
        call_command("run_review_sweep")
    run = SweepRun.objects.get()
    assert (run.status, run.failure) == ("failed", "KeyboardInterrupt: ") and run.finished_at


def test_the_watchdog_marks_stopped_runs_stale_and_sends_their_chunks_again(sixty, settings):
    settings.IVIGTRACK_SWEEP_STALE_MINUTES = 30
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")  # no message was ever sent
    sweeps.sweep_chunk_run(chunk_ids[0])
    fresh, _ = sweeps.sweep_start(full=True, trigger="fresh")  # moved a minute ago: left alone
    SweepChunk.objects.filter(run=fresh).update(updated_at=timezone.now() - timedelta(minutes=1))
    SweepChunk.objects.filter(run=run).update(updated_at=timezone.now() - timedelta(minutes=31))
    assert sweeps.stale_runs() == [(run.pk, chunk_ids[1:])]
    run.refresh_from_db()
    assert (run.status, run.requeued) == ("stale", 2) and run.stale_at
    assert sweeps.stale_runs() == []  # just touched: the next pass waits another period
    # The beat task (the broker is off in tests: the chunks run in-process).
    SweepChunk.objects.filter(run=run).update(updated_at=timezone.now() - timedelta(minutes=31))
    assert tasks.sweep_watchdog() == 2
    assert counters(run)[:4] == ("finished", 3, 3, 60)
    assert SweepRun.objects.get(pk=fresh.pk).status == "running"


def test_flags_and_audit_carry_the_moment_of_the_write_not_the_run_start(sixty):
    long_ago = timezone.now() - timedelta(hours=2)
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test", now=long_ago)
    before = timezone.now()
    for chunk_id in chunk_ids:
        sweeps.sweep_chunk_run(chunk_id)
    raised = ReviewFlag.objects.all()
    assert raised.exists()
    assert all(flag.raised_at >= before for flag in raised)
    assert all(event.at >= before for event in AuditEvent.objects.filter(action="flag.raise"))
    assert run.started_at == long_ago


def test_manual_sweep_without_a_broker_runs_in_process(carol_client, sixty):
    response = carol_client.post(reverse("staff:sweep_run"), follow=True)
    assert response.status_code == 200
    run = SweepRun.objects.get()
    assert (run.status, run.chunks_done, run.patients) == ("finished", 3, 60)


@pytest.mark.postgresql
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_copies_of_a_chunk_at_once_count_once(sixty):
    run, chunk_ids = sweeps.sweep_start(full=True, trigger="test")
    barrier, errors = threading.Barrier(2), []

    def worker():
        try:
            barrier.wait()
            sweeps.sweep_chunk_run(chunk_ids[0])
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    run.refresh_from_db()
    assert (run.chunks_done, run.patients, run.assessments_changed) == (1, 20, 20)
    assert RiskAssessment.objects.count() == 20
