"""Writes to regimens, infusions and medication courses (validated, atomic, audited)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ivigtrack import hooks
from ivigtrack.duplicates import DuplicateRecord
from ivigtrack.validation import record_errors
from patients.models import LabResult, Patient
from patients.services import apply_changes, latest_plausible_instant, lock_patient, save_clinical

from . import drugs as drug_lookup
from .chair import clean_precautions
from .models import (
    Drug,
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
    "rate_reason",
    "precautions",
    "iga_override_reason",
}


def _check_infusion(infusion: Infusion) -> None:
    infusion.precautions = clean_precautions(infusion.precautions)
    if len(infusion.rate_reason or "") > 2000:
        raise ValidationError({"rate_reason": ["At most 2000 characters."]})
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
    # the checks of every door first (dates in range, not before birth...): a date error is the one to fix
    for field, messages in record_errors(infusion).items():
        errors.setdefault(field, []).extend(messages)
    if not errors.get("started_at") and _needs_iga_override(infusion):
        errors["iga_override_reason"] = [
            "No IgA result is on file for this patient's first infusion: record the IgA first, or give the "
            "reason it is given without one (IgA deficiency with anti-IgA antibodies can cause severe "
            "reactions; risk/README.md, IgA)."
        ]
    if errors:
        raise ValidationError(errors)


def _refuse_duplicate_infusion(infusion: Infusion) -> None:
    """The same patient, product and start minute is the same infusion sent twice (a double click,
    a retry): refused, naming the stored one. Under the patient's row lock, so two copies at once
    cannot both pass."""
    if not (infusion.started_at and infusion.product_id):
        return
    lock_patient(infusion.patient_id)
    minute = infusion.started_at.replace(second=0, microsecond=0)
    existing = (
        Infusion.objects.filter(
            patient_id=infusion.patient_id,
            product_id=infusion.product_id,
            started_at__gte=minute,
            started_at__lt=minute + timedelta(minutes=1),
        )
        .order_by("pk")
        .first()
    )
    if existing is not None:
        when = timezone.localtime(existing.started_at)
        raise DuplicateRecord(
            existing,
            f"This infusion is already recorded: {existing.dose_grams:g} g {infusion.product} started "
            f"{when:%d %b %Y %H:%M} (id {existing.public_id}).",
        )


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
    _refuse_duplicate_infusion(infusion)
    save_clinical(
        infusion,
        actor=actor,
        action="infusion.record",
        detail={
            "status": infusion.status,
            "source": source,
            **({"iga_override_reason": infusion.iga_override_reason} if infusion.iga_override_reason else {}),
        },
    )
    hooks.infusion_written(infusion, actor=actor)
    return infusion


@transaction.atomic
def infusion_update(*, actor, infusion: Infusion, **fields) -> Infusion:
    changes = apply_changes(infusion, fields, INFUSION_FIELDS)
    _check_infusion(infusion)
    save_clinical(infusion, actor=actor, action="infusion.update", detail={"changes": changes}, update_fields=changes)
    hooks.infusion_written(infusion, actor=actor)
    return infusion


@transaction.atomic
def infusion_delete(*, actor, infusion: Infusion) -> None:
    """Only a planned infusion may be deleted; administered or stopped ones are the record."""
    if infusion.status != Infusion.Status.PLANNED:
        raise ValidationError({"status": ["Only planned infusions can be deleted."]})
    from ivigtrack.audit.services import audit_record

    audit_record(actor=actor, action="infusion.delete", obj=infusion)
    patient_id = infusion.patient_id
    infusion.delete()
    hooks.patient_changed(patient_id)


MEDICATION_FIELDS = {
    "category",
    "drug",
    "dose",
    "dose_unit",
    "dose_mg_per_day",
    "route",
    "intensity",
    "indication",
    "event",
    "start_date",
    "end_date",
    "note",
}

# What the service derives; a course's update writes them when they change.
_DERIVED = (
    "category",
    "drug",
    "drug_name",
    "indication",
    "dose",
    "dose_unit",
    "dose_mg_per_day",
    "prednisolone_eq_mg_per_day",
)
MICROGRAMS_PER_MG = Decimal(1000)
THOUSANDTH = Decimal("0.001")
ANTICOAGULANT = MedicationCourse.Category.ANTICOAGULANT
OTHER = MedicationCourse.Category.OTHER


def prednisolone_equivalent(drug: Drug | None, dose_mg_per_day) -> Decimal | None:
    """mg/day of prednisolone the course equals (BNF equivalence; risk/README.md, P8)."""
    if drug is None or drug.prednisolone_factor is None or dose_mg_per_day is None:
        return None
    return (Decimal(str(dose_mg_per_day)) * drug.prednisolone_factor).quantize(Decimal("0.01"))


def _decimal(value) -> Decimal | None:
    return None if value in (None, "") else Decimal(str(value))


def _code_drug(course: MedicationCourse, value, category, errors: dict) -> None:
    """Set drug, drug_name and category from what was given (a dictionary drug, or free text
    when the category is `other`)."""
    if category == OTHER:
        text = value.name if isinstance(value, Drug) else " ".join(str(value or "").split())
        if not text:
            errors["drug"] = ["Name the drug."]
            return
        course.drug, course.drug_name, course.category = None, text[:80], OTHER
        return
    try:
        drug = drug_lookup.resolve(value)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        return
    if category and category != drug.category:
        errors["category"] = [
            f"{drug.name} is in the dictionary as {drug.get_category_display().lower()}: leave the category "
            "empty (it follows from the drug), or choose other to record free text."
        ]
        return
    course.drug, course.drug_name, course.category = drug, drug.name, drug.category


def _set_dose(course: MedicationCourse, fields: dict, errors: dict) -> None:
    """`dose` with `dose_unit` (mg or microgram), or v1's `dose_mg_per_day`; both kept in step."""
    given = {k for k in ("dose", "dose_unit", "dose_mg_per_day") if k in fields}
    if not given:
        return
    dose, unit = _decimal(fields.get("dose", course.dose)), fields.get("dose_unit") or ""
    mg = _decimal(fields.get("dose_mg_per_day"))
    if "dose" not in fields and "dose_mg_per_day" in fields:  # the v1 field alone
        dose, unit = mg, ("mg" if mg is not None else "")
        if mg is not None and mg != mg.quantize(THOUSANDTH):  # finer than 1 µg in mg: keep it in µg
            dose, unit = mg * MICROGRAMS_PER_MG, "microgram"
    if dose is None:
        if "dose_unit" in fields and fields["dose_unit"] and "dose" not in fields and course.dose is None:
            errors["dose"] = ["Give the dose for this unit."]
        course.dose, course.dose_unit, course.dose_mg_per_day = None, "", None
        return
    if dose <= 0:
        errors["dose"] = ["The dose must be more than 0."]
        return
    if dose != dose.quantize(THOUSANDTH):
        errors["dose"] = ["Give the dose with at most 3 decimals (or in micrograms)."]
        return
    unit = unit or course.dose_unit or (course.drug.default_unit if course.drug_id else "mg")
    if unit not in MedicationCourse.DoseUnit.values:
        errors["dose_unit"] = ["Unknown unit: mg or microgram."]
        return
    in_mg = dose / MICROGRAMS_PER_MG if unit == "microgram" else dose
    if mg is not None and "dose" in fields and mg != in_mg:
        errors["dose_mg_per_day"] = [
            f"{dose:g} {unit} is {in_mg:g} mg, not {mg:g}: give dose with dose_unit, or dose_mg_per_day."
        ]
        return
    course.dose, course.dose_unit, course.dose_mg_per_day = dose.quantize(THOUSANDTH), unit, in_mg


def _check_medication(course: MedicationCourse, *, adding: bool) -> None:
    errors = {}
    if not course.route and (adding or course.drug_id):
        errors["route"] = ["Choose the route (oral, intravenous, transdermal, inhaled, topical…)."]
    if course.category == ANTICOAGULANT:
        if not course.intensity:
            errors["intensity"] = ["Say whether the anticoagulant is prophylactic, therapeutic or extended."]
        if not course.indication:
            course.indication = MedicationCourse.Indication.VTE_TREATMENT
    else:
        if course.intensity:
            errors["intensity"] = ["Intensity applies to anticoagulants only."]
        if course.indication:
            errors["indication"] = ["An indication is recorded for anticoagulants only."]
        if course.event_id:
            errors["event"] = ["Only an anticoagulant course treats a thrombosis."]
    if course.event_id and course.event.patient_id != course.patient_id:
        errors["event"] = ["This thrombosis belongs to another patient."]
    if errors:
        raise ValidationError(errors)
    course.prednisolone_eq_mg_per_day = (
        prednisolone_equivalent(course.drug, course.dose_mg_per_day)
        if course.category == MedicationCourse.Category.STEROID
        else None
    )


def _prepare(course: MedicationCourse, fields: dict, *, adding: bool) -> None:
    errors: dict[str, list[str]] = {}
    if adding or "drug" in fields or "category" in fields:
        category = fields.get("category", "" if adding else None)
        if category is None:  # an update naming only the drug: a free-text course stays free text
            category = OTHER if course.category == OTHER else ""
        _code_drug(course, fields.get("drug", course.drug or course.drug_name), category, errors)
    _set_dose(course, fields, errors)
    if errors:
        raise ValidationError(errors)
    _check_medication(course, adding=adding)


@transaction.atomic
def medication_record(*, actor, patient: Patient, **fields) -> MedicationCourse:
    """Record a course: the drug from the dictionary (a name, a synonym or an id; category
    `other` records free text, which scores nothing), the dose in mg or micrograms, the route."""
    unknown = set(fields) - MEDICATION_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    plain = {k: v for k, v in fields.items() if k not in ("drug", "category", "dose", "dose_unit", "dose_mg_per_day")}
    course = MedicationCourse(patient=patient, **plain)
    _prepare(course, fields, adding=True)
    return save_clinical(course, actor=actor, action="medication.record", detail={"drug": course.drug_name})


@transaction.atomic
def medication_update(*, actor, course: MedicationCourse, **fields) -> MedicationCourse:
    unknown = set(fields) - MEDICATION_FIELDS
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in sorted(unknown)})
    before = {name: getattr(course, name) for name in _DERIVED}
    plain = {k: v for k, v in fields.items() if k not in ("drug", "category", "dose", "dose_unit", "dose_mg_per_day")}
    changes = apply_changes(course, plain, MEDICATION_FIELDS)
    _prepare(course, fields, adding=False)
    written = list(changes)
    for name, old in before.items():
        if getattr(course, name) != old:
            changes.setdefault(name, [str(old), str(getattr(course, name))])
            written.append(name)
    return save_clinical(
        course, actor=actor, action="medication.update", detail={"changes": changes}, update_fields=written
    )
