"""Hook listeners: re-assess after a write; raise a symptom flag in the writer's transaction."""

from django.db import transaction

from ivigtrack import hooks


@hooks.on_patient_changed
def reassess_on_commit(patient_id: int) -> None:
    from . import tasks

    transaction.on_commit(lambda: tasks.dispatch(tasks.assess_patient, patient_id))


@hooks.on_symptom_reported
def raise_symptom_flag(report, *, actor) -> None:
    from .services import symptom_flag_raise

    symptom_flag_raise(report, actor=actor)
