"""Hook listeners: re-assess after a write; raise a symptom flag in the writer's transaction."""

from django.db import transaction

from ivigtrack import corrections, hooks
from risk import tasks
from risk.models import ReviewFlag
from risk.services.checkins import checkin_answered
from risk.services.corrections import report_marked
from risk.services.flags import symptom_flag_after_edit, symptom_flag_raise
from risk.services.precautions import rate_precaution


@hooks.on_patient_changed
def reassess_on_commit(patient_id: int) -> None:
    transaction.on_commit(lambda: tasks.dispatch(tasks.assess_patient, patient_id))


@hooks.on_patient_moved
def flags_follow_patient(patient_id: int, site_id: int) -> None:
    """Every flag of a moved patient is its new site's (worklists, counts, governance)."""
    ReviewFlag.objects.filter(patient_id=patient_id).exclude(site_id=site_id).update(site_id=site_id)


@hooks.on_symptom_reported
def raise_symptom_flag(report, *, actor) -> None:
    symptom_flag_raise(report, actor=actor)
    checkin_answered(report, actor=actor)


@hooks.on_symptom_report_edited
def raise_symptom_flag_after_edit(report, *, previous_triage, actor) -> None:
    symptom_flag_after_edit(report, previous_triage=previous_triage, actor=actor)


@hooks.on_infusion_written
def infusion_rate_precaution(infusion, *, actor) -> None:
    rate_precaution(infusion, actor=actor)


# A symptom report entered in error closes the alert it alone raised (risk.services.corrections).
corrections.on_marked("patients.symptomreport", report_marked)
