"""Writes to regimens, infusions and medication courses (validated, atomic, audited)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction

from patients.models import LabResult, Patient
from patients.services import apply_changes, latest_plausible_instant, save_clinical

from .models import (
    PREDNISOLONE_EQUIVALENT,
    Infusion,
    MedicationCourse,
    Regimen,
)

# In the order a form shows them; infusions/forms.py reuses this list.
REGIMEN_FIELDS = (
    "product",
    "indication",
    "dose_g_per_kg_per_day",
    "dose_grams_per_day",
    "days_per_course",
    "interval_days",
    "dosing_weight",
    "start_date",
    "end_date",
    "max_rate_mg_kg_min",
    "setting",
    "note",
)


@transaction.atomic
def regimen_create(*, actor, patient: Patient, **fields) -> Regimen:
    unknown = set(fields) - set(REGIMEN_FIELDS)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    fields.setdefault("indication", patient.diagnosis)
    regimen = Regimen(patient=patient, **fields)
    return save_clinical(regimen, actor=actor, action="regimen.create")


@transaction.atomic
def regimen_update(*, actor, regimen: Regimen, **fields) -> Regimen:
    changes = apply_changes(regimen, fields, REGIMEN_FIELDS)
    return save_clinical(
        regimen, actor=actor, action="regimen.update", detail={"changes": changes}, update_fields=changes
    )


INFUSION_FIELDS = {
    "regimen",
    "product",
    "lot_number",
    "started_at",
    "dose_grams",
    "max_rate_mg_kg_min",
    "max_rate_ml_h",
    "status",
    "vascular_access",
    "hydration_given",
    "reactions",
    "note",
    "iga_override_reason",
}


def _check_infusion(infusion: Infusion) -> None:
    errors: dict[str, list[str]] = {}
    limit = latest_plausible_instant()
    if infusion.status == Infusion.Status.ADMINISTERED and infusion.started_at and infusion.started_at > limit:
        errors["started_at"] = [
            "An administered infusion cannot start in the future. Check the date, or record it as planned."
        ]
    if infusion.regimen_id and infusion.regimen.patient_id != infusion.patient_id:
        errors["regimen"] = ["This regimen belongs to another patient."]
    if infusion.vascular_access_id and infusion.vascular_access.patient_id != infusion.patient_id:
        errors["vascular_access"] = ["This device belongs to another patient."]
    if infusion.product_id and not infusion.product.active:
        errors["product"] = ["This product is no longer in use."]
    if _needs_iga_override(infusion):
        errors["iga_override_reason"] = [
            "No IgA result is on file for this patient's first infusion: record the IgA first, or give the "
            "reason it is given without one (IgA deficiency with anti-IgA antibodies can cause severe "
            "reactions; risk/README.md, IgA)."
        ]
    if errors:
        raise ValidationError(errors)


def _needs_iga_override(infusion: Infusion) -> bool:
    """The first-infusion IgA gate (ITRS-v1 [R77]): the patient's first administered infusion
    with no IgA result on file needs ``iga_override_reason``."""
    if infusion.status != Infusion.Status.ADMINISTERED or (infusion.iga_override_reason or "").strip():
        return False
    if infusion.source == Infusion.Source.PATIENT:
        # a patient logging a home infusion cannot make the clinical decision; PRE-IVIG stays
        # open and says the infusion was given without the labs
        return False
    earlier = Infusion.objects.filter(patient_id=infusion.patient_id, status=Infusion.Status.ADMINISTERED)
    if infusion.pk is not None:
        earlier = earlier.exclude(pk=infusion.pk)
    if earlier.exists():
        return False
    return not LabResult.objects.filter(patient_id=infusion.patient_id, test="iga").exists()


@transaction.atomic
def infusion_record(*, actor, patient: Patient, source: str = "staff", **fields) -> Infusion:
    """Record one day's infusion. `source` is set by the caller from who is logged in."""
    unknown = set(fields) - INFUSION_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    if fields.get("product") is None and fields.get("regimen") is not None:
        fields["product"] = fields["regimen"].product
    infusion = Infusion(
        patient=patient,
        source=source,
        recorded_by=actor if getattr(actor, "pk", None) else None,
        **fields,
    )
    infusion.weight_kg_used = patient.weight_kg
    _check_infusion(infusion)
    return save_clinical(
        infusion,
        actor=actor,
        action="infusion.record",
        detail={
            "status": infusion.status,
            "source": source,
            **({"iga_override_reason": infusion.iga_override_reason} if infusion.iga_override_reason else {}),
        },
    )


@transaction.atomic
def infusion_update(*, actor, infusion: Infusion, **fields) -> Infusion:
    changes = apply_changes(infusion, fields, INFUSION_FIELDS)
    _check_infusion(infusion)
    return save_clinical(
        infusion, actor=actor, action="infusion.update", detail={"changes": changes}, update_fields=changes
    )


@transaction.atomic
def infusion_delete(*, actor, infusion: Infusion) -> None:
    """Only a planned infusion may be deleted; administered or stopped ones are the record."""
    if infusion.status != Infusion.Status.PLANNED:
        raise ValidationError({"status": ["Only planned infusions can be deleted."]})
    from ivigtrack import hooks
    from ivigtrack.audit.services import audit_record

    audit_record(actor=actor, action="infusion.delete", obj=infusion)
    patient_id = infusion.patient_id
    infusion.delete()
    hooks.patient_changed(patient_id)


MEDICATION_FIELDS = {
    "category",
    "drug",
    "dose_mg_per_day",
    "route",
    "intensity",
    "start_date",
    "end_date",
    "note",
}


def prednisolone_equivalent(drug: str, dose_mg_per_day) -> Decimal | None:
    factor = PREDNISOLONE_EQUIVALENT.get((drug or "").strip().lower())
    if factor is None or dose_mg_per_day is None:
        return None
    return (Decimal(str(dose_mg_per_day)) * Decimal(str(factor))).quantize(Decimal("0.01"))


def _check_medication(course: MedicationCourse) -> None:
    errors = {}
    if course.category == MedicationCourse.Category.ANTICOAGULANT and not course.intensity:
        errors["intensity"] = ["Say whether the anticoagulant is prophylactic, therapeutic or extended."]
    if course.category == MedicationCourse.Category.STEROID:
        known = ", ".join(PREDNISOLONE_EQUIVALENT)
        if (course.drug or "").strip().lower() not in PREDNISOLONE_EQUIVALENT:
            errors["drug"] = [f"Unknown glucocorticoid; choose one of: {known}."]
    if errors:
        raise ValidationError(errors)
    course.prednisolone_eq_mg_per_day = (
        prednisolone_equivalent(course.drug, course.dose_mg_per_day)
        if course.category == MedicationCourse.Category.STEROID
        else None
    )


@transaction.atomic
def medication_record(*, actor, patient: Patient, **fields) -> MedicationCourse:
    unknown = set(fields) - MEDICATION_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    course = MedicationCourse(patient=patient, **fields)
    _check_medication(course)
    return save_clinical(course, actor=actor, action="medication.record")


@transaction.atomic
def medication_update(*, actor, course: MedicationCourse, **fields) -> MedicationCourse:
    changes = apply_changes(course, fields, MEDICATION_FIELDS)
    derived_before = course.prednisolone_eq_mg_per_day
    _check_medication(course)
    written = list(changes)
    if course.prednisolone_eq_mg_per_day != derived_before:
        written.append("prednisolone_eq_mg_per_day")
    return save_clinical(
        course, actor=actor, action="medication.update", detail={"changes": changes}, update_fields=written
    )
