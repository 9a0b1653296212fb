"""Celery tasks: thin wrappers over the services. They take ids, never model instances."""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings

from ivigtrack.circuit import broker_circuit

log = logging.getLogger(__name__)


def dispatch(task, *args, **kwargs) -> None:
    """Send a task to the broker; if the broker cannot be reached, run it here and now.

    A write must never fail because Redis is down: the patient is assessed inline (and the
    next sweep catches up on anything else).
    """
    if settings.CELERY_TASK_ALWAYS_EAGER:
        # The write this follows has already committed: a failure here is logged, never a 500.
        try:
            task.apply(args=args, kwargs=kwargs)
        except Exception:
            log.exception("in-process %s failed; the next sweep will catch up", task.name)
        return
    if publish(task, *args, **kwargs):
        return
    log.warning("running %s inline", task.name)
    try:
        task.run(*args, **kwargs)
    except Exception:
        log.exception("inline %s failed; the next sweep will catch up", task.name)


@shared_task(name="risk.tasks.assess_patient", acks_late=True)
def assess_patient(patient_id: int) -> int | None:
    from risk.services.assessment import patient_assess

    assessment = patient_assess(patient_id)
    return assessment.score if assessment else None


@shared_task(name="risk.tasks.sweep")
def sweep(full: bool = True, trigger: str = "beat") -> int:
    """Create the run and its chunk ledger, then fan the chunks out; returns the SweepRun id.

    If the broker cannot take a chunk (it went away, or this runs inline because it was never
    there), this chunk and the rest run here, in-process: a sweep never waits for a broker."""
    from risk.services.sweep import sweep_chunk_run, sweep_fail, sweep_start

    run, chunk_ids = sweep_start(full=full, trigger=trigger)
    try:
        for position, chunk_id in enumerate(chunk_ids):
            if not publish(sweep_chunk, chunk_id):
                log.warning("sweep %s: broker unreachable; running its chunks in-process", run.pk)
                for rest in chunk_ids[position:]:
                    sweep_chunk_run(rest)
                break
    except BaseException as exc:
        sweep_fail(run.pk, f"{type(exc).__name__}: {exc}")
        raise
    log.info("sweep %s: %s chunks", run.pk, len(chunk_ids))
    return run.pk


def publish(task, *args, **kwargs) -> bool:
    """Send a task to the broker; False (logged) if it could not be sent. Never runs it here."""
    if settings.CELERY_TASK_ALWAYS_EAGER or broker_circuit.is_open:
        return False
    try:
        # No retries; connecting and each socket operation give up after settings.BROKER_TIMEOUT.
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception as exc:  # kombu OperationalError, redis ConnectionError/TimeoutError, ...
        broker_circuit.trip(exc)
        log.warning("broker unreachable (%s); %s not sent", exc, task.name)
        return False
    return True


@shared_task(
    name="risk.tasks.sweep_chunk",
    acks_late=True,
    soft_time_limit=settings.IVIGTRACK_SWEEP_CHUNK_SOFT_TIME_LIMIT,
    time_limit=settings.IVIGTRACK_SWEEP_CHUNK_TIME_LIMIT,
)
def sweep_chunk(chunk_id: int) -> dict:
    """One chunk of a sweep, by its SweepChunk id (its ledger row holds the patient ids)."""
    from risk.services.sweep import sweep_chunk_run

    outcome = sweep_chunk_run(chunk_id)
    return {"patients": outcome.patients, "errors": outcome.errors}


@shared_task(name="risk.tasks.sweep_watchdog")
def sweep_watchdog() -> int:
    """Beat, every 5 minutes: runs whose chunks stopped moving become `stale` and their unfinished
    chunks are sent again (a chunk that finished meanwhile ignores the copy). Returns how many."""
    from risk.services.sweep import stale_runs, sweep_chunk_run

    sent = 0
    for run_id, chunk_ids in stale_runs():
        log.warning("sweep %s is stale: sending %s unfinished chunks again", run_id, len(chunk_ids))
        for chunk_id in chunk_ids:
            if not publish(sweep_chunk, chunk_id):
                sweep_chunk_run(chunk_id)
            sent += 1
    return sent


@shared_task(
    name="risk.tasks.notify_flag",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
    acks_late=True,
)
def notify_flag(flag_id: int, report_id: int | None = None) -> str | None:
    from .notify import notify_flag_send

    note = notify_flag_send(flag_id, report_id)
    return note.status if note else None


@shared_task(name="risk.tasks.send_routine_digest", autoretry_for=(Exception,), retry_backoff=True, max_retries=5)
def send_routine_digest() -> int:
    from .notify import routine_digest_send

    note = routine_digest_send()
    return note.pk if note else 0


@shared_task(name="risk.tasks.checkins", acks_late=True)
def checkins() -> dict:
    """Hourly: raise CHECKIN-MISSED for unanswered day-1 check-ins (risk.services.checkins)."""
    from risk.services.checkins import checkins_reconcile

    return checkins_reconcile()


@shared_task(name="risk.tasks.reminders", acks_late=True)
def reminders() -> int:
    """Daily: plan the patients' e-mail reminders (idempotent) and queue each unsent one."""
    from risk.reminders import reminders_plan

    ids = reminders_plan()
    for reminder_id in ids:
        send_reminder.apply_async(args=(reminder_id,))
    return len(ids)


@shared_task(
    name="risk.tasks.send_reminder",
    autoretry_for=(Exception,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=5,
    acks_late=True,
)
def send_reminder(reminder_id: int) -> str | None:
    from risk.reminders import reminder_send

    reminder = reminder_send(reminder_id)
    return reminder.status if reminder else None
