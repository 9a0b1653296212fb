"""Celery tasks: thin wrappers over the services. They take ids, never model instances."""

from __future__ import annotations

import logging
from datetime import datetime

from celery import shared_task
from django.conf import settings

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
    try:
        task.apply_async(args=args, kwargs=kwargs, retry=False)
    except Exception as exc:  # kombu OperationalError, redis ConnectionError, ...
        log.warning("broker unreachable (%s); running %s inline", exc, task.name)
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
    """Split active patients into chunks and fan them out; returns the SweepRun id."""
    from risk.services.sweep import sweep_start

    run, chunks = sweep_start(full=full, trigger=trigger)
    for chunk in chunks:
        sweep_chunk.apply_async(args=(run.pk, chunk, run.started_at.isoformat()))
    log.info("sweep %s: %s chunks", run.pk, len(chunks))
    return run.pk


@shared_task(name="risk.tasks.sweep_chunk", acks_late=True)
def sweep_chunk(run_id: int, patient_ids: list[int], as_of: str | None = None) -> dict:
    from risk.services.sweep import sweep_chunk_run

    outcome = sweep_chunk_run(run_id, patient_ids, as_of=datetime.fromisoformat(as_of) if as_of else None)
    return {"patients": outcome.patients, "errors": outcome.errors}


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
