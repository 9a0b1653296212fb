"""Edits of labs, weights and symptom reports: validated, one transaction, audited with the
changed fields, then re-assessed on commit (``save_clinical``), as the other records' updates.

- A lab is stored again as a new one would be: the value and its unit converted to the
  canonical unit, the plausibility gates, the duplicate check (the lab itself ignored), and
  the verification gates of `patients.labs` (a changed value that is doubtful waits for a
  person again). Its eGFR follows, computed from the stored creatinine on every read.
- A weight keeps the history's one current measurement, the newest, mirrored on the patient.
- A symptom report is triaged again; an edit that raises its triage acts on the alert as a new
  report would, at once and in this transaction (``hooks.symptom_report_edited``). A lower
  triage never lowers an alert already raised: a person closes it.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction

from ivigtrack import hooks

from . import labs as lab_catalogue
from . import symptoms as symptom_catalogue
from .models import LabResult, Patient, SymptomReport, WeightMeasurement
from .services import (
    _days_since_last_infusion,
    _not_in_future,
    _refuse_duplicate_lab,
    apply_changes,
    check_reference_limits,
    lab_doubt,
    latest_plausible_instant,
    lock_patient,
    save_clinical,
    with_auto_now,
)

LAB_EDIT_FIELDS = {"test", "value", "unit", "collected_at", "reference_high", "reference_low", "reference_unit"}
WEIGHT_EDIT_FIELDS = {"weight_kg", "measured_on"}
SYMPTOM_EDIT_FIELDS = {"symptoms", "note", "reported_at"}
TRIAGE_RANK = {"emergency": 0, "urgent": 1, "routine": 2}


def _refuse_unknown(fields: dict, allowed) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in sorted(unknown)})


# --- labs ------------------------------------------------------------------------------------


@transaction.atomic
def lab_update(*, actor, lab: LabResult, **fields) -> LabResult:
    """Change a lab result. ``value`` is in ``unit`` (omitted: the canonical unit, as on create);
    ``unit`` alone re-reads the value as entered in that unit (a unit slip corrected); reference
    limits are in the value's unit unless ``reference_unit`` says otherwise."""
    _refuse_unknown(fields, LAB_EDIT_FIELDS)
    lock_patient(lab.patient_id)
    test = fields.get("test", lab.test)
    collected_at = fields.get("collected_at", lab.collected_at)
    if collected_at is None:
        raise ValidationError({"collected_at": ["A collection time is required."]})
    if collected_at > latest_plausible_instant():
        raise ValidationError({"collected_at": ["A sample cannot be collected in the future."]})
    entered = lab.entered_value if lab.entered_value is not None else lab.value
    if "value" in fields:
        value, unit = fields["value"], fields.get("unit") or None
    elif "unit" in fields:
        value, unit = entered, fields["unit"] or None
    else:
        value, unit = entered, lab.entered_unit or None
    if value is None:
        raise ValidationError({"value": ["A value is required."]})
    reference_unit = fields.get("reference_unit") or None
    try:
        canonical, canonical_unit = lab_catalogue.to_canonical(test, value, unit)
        high = (
            lab_catalogue.reference_to_canonical(test, fields["reference_high"], unit, reference_unit)
            if "reference_high" in fields
            else lab.reference_high
        )
        low = (
            lab_catalogue.reference_to_canonical(test, fields["reference_low"], unit, reference_unit)
            if "reference_low" in fields
            else lab.reference_low
        )
    except lab_catalogue.LabInputError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    check_reference_limits(high, low)
    patient = lab.patient
    if (test, canonical, collected_at) != (lab.test, lab.value, lab.collected_at):
        _refuse_duplicate_lab(patient, test, canonical, collected_at, exclude_pk=lab.pk)
    reason = lab_doubt(lab.patient_id, test, canonical, collected_at, exclude_pk=lab.pk)
    value_changed = test != lab.test or canonical != lab.value
    confirmed = bool(lab.verified_at) and not lab.needs_verification and not value_changed
    new = {
        "test": test,
        "value": canonical,
        "unit": canonical_unit,
        "entered_value": value,
        "entered_unit": unit or canonical_unit,
        "collected_at": collected_at,
        "reference_high": high,
        "reference_low": low,
    }
    if reason and not confirmed:  # a doubtful value enters no rule until a person confirms it again
        new.update(needs_verification=True, verification_reason=reason, verified_by=None, verified_at=None)
    elif not reason:
        new.update(needs_verification=False, verification_reason="")
    changes = apply_changes(lab, new, new.keys())
    if not changes:
        return lab
    return save_clinical(
        lab,
        actor=actor,
        action="lab.update",
        detail={"changes": changes, "needs_verification": lab.needs_verification},
        update_fields=changes,
    )


# --- weights ---------------------------------------------------------------------------------


@transaction.atomic
def weight_update(*, actor, measurement: WeightMeasurement, **fields) -> WeightMeasurement:
    """Change a weight of the history; the newest measurement stays the current one, mirrored
    on the patient (their dosing weight)."""
    _refuse_unknown(fields, WEIGHT_EDIT_FIELDS)
    if "weight_kg" in fields and fields["weight_kg"] is None:
        raise ValidationError({"weight_kg": ["A weight is required."]})
    if "measured_on" in fields and fields["measured_on"] is None:
        raise ValidationError({"measured_on": ["A date is required."]})
    _not_in_future(measured_on=fields.get("measured_on"))
    patient = Patient.objects.select_for_update().get(pk=measurement.patient_id)
    measurement.patient = patient
    changes = apply_changes(measurement, fields, WEIGHT_EDIT_FIELDS)
    if not changes:
        return measurement
    save_clinical(measurement, actor=actor, action="weight.update", detail={"changes": changes}, update_fields=changes)
    newest = patient.weights.order_by("-measured_on", "-id").first()
    if not newest.is_current:
        patient.weights.filter(is_current=True).update(is_current=False)
        WeightMeasurement.objects.filter(pk=newest.pk).update(is_current=True)
    if (patient.weight_kg, patient.weight_measured_on) != (newest.weight_kg, newest.measured_on):
        patient.weight_kg = newest.weight_kg
        patient.weight_measured_on = newest.measured_on
        patient.full_clean()
        patient.save(update_fields=with_auto_now(patient, ["weight_kg", "weight_measured_on"]))
    measurement.refresh_from_db(fields=["is_current"])
    return measurement


# --- symptom reports -------------------------------------------------------------------------


@transaction.atomic
def symptom_report_update(*, actor, report: SymptomReport, **fields) -> SymptomReport:
    """Change a report's symptoms, note or time; it is triaged again, its advice rewritten. A
    raised triage raises (or escalates) the alert at once; a lowered one leaves the alert as it is."""
    _refuse_unknown(fields, SYMPTOM_EDIT_FIELDS)
    symptoms = list(dict.fromkeys(fields.get("symptoms", report.symptoms) or []))
    if not symptoms and report.kind != SymptomReport.Kind.CHECKIN:
        raise ValidationError({"symptoms": ["Choose at least one symptom."]})
    unknown = [code for code in symptoms if code not in symptom_catalogue.ALL]
    if unknown:
        raise ValidationError({"symptoms": [f"Unknown symptom code(s): {', '.join(map(str, unknown))}."]})
    reported_at = fields.get("reported_at") or report.reported_at
    if reported_at > latest_plausible_instant():
        raise ValidationError({"reported_at": ["A report cannot be dated in the future."]})
    lock_patient(report.patient_id)
    previous_triage = report.triage
    level = symptom_catalogue.triage(symptoms)
    days = (
        _days_since_last_infusion(report.patient, reported_at)
        if reported_at != report.reported_at
        else report.days_since_infusion
    )
    new = {
        "symptoms": symptoms,
        "note": fields.get("note", report.note) or "",
        "reported_at": reported_at,
        "triage": level,
        "advice": symptom_catalogue.advice(level, symptoms, days),
        "days_since_infusion": days,
    }
    changes = apply_changes(report, new, new.keys())
    if not changes:
        return report
    save_clinical(
        report,
        actor=actor,
        action="symptom_report.update",
        detail={"changes": changes, "triage": level, "previous_triage": previous_triage},
        update_fields=changes,
    )
    if TRIAGE_RANK[level] < TRIAGE_RANK[previous_triage]:
        hooks.symptom_report_edited(report, previous_triage=previous_triage, actor=actor)
    return report
