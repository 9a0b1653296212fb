"""Writes to patient records: validate, save in one transaction, audit, trigger re-assessment.

Every service raises django.core.exceptions.ValidationError naming the field and the reason;
because each runs in one transaction, a refused write leaves nothing behind.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, IntegrityError, models, transaction
from django.utils import timezone

from ivigtrack import hooks
from ivigtrack.audit.services import audit_record
from ivigtrack.corrections import mark_entered_in_error
from ivigtrack.duplicates import DuplicateRecord

from . import labs as lab_catalogue
from . import symptoms as symptom_catalogue
from .models import (
    Condition,
    LabResult,
    Patient,
    SymptomReport,
    ThrombosisEvent,
    VascularAccess,
    WeightMeasurement,
)
from .sites import care_team_set, patient_move_site, site_for_new_patient

REJECTED_AT_VERIFICATION = "Rejected at verification: the value was not confirmed."
ENTERED_IN_ERROR_FINAL = "This record was entered in error and cannot be changed; record the correct one instead."


def save_clinical(
    obj: models.Model,
    *,
    actor,
    action: str,
    detail: dict | None = None,
    exclude=None,
    update_fields=None,
) -> models.Model:
    """full_clean (fields, choices, constraints), save, audit, and mark the patient changed.

    A new row is inserted whole. An existing row writes only ``update_fields``, the fields the
    caller changed (``updated_at`` is added): a whole-row save from an instance read earlier
    would put its stale values back over another writer's (patient_update over weight_record).

    Shared by the record services of every app. Call inside a transaction.
    """
    adding = obj._state.adding
    if not adding and update_fields is None:
        raise TypeError(f"Name the changed fields (update_fields) to save an existing {obj._meta.label}.")
    if not adding and getattr(obj, "entered_in_error", False):
        raise ValidationError({"__all__": [ENTERED_IN_ERROR_FINAL]})
    _floats_to_decimals(obj)
    obj.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            if adding:
                obj.save()
            else:
                obj.save(update_fields=with_auto_now(obj, update_fields))
    except IntegrityError as exc:  # a constraint full_clean could not see (a race)
        # Another writer committed the same unique value (an MRN) since full_clean: name the field.
        obj.validate_unique(exclude=exclude)
        obj.validate_constraints(exclude=exclude)
        raise ValidationError({"__all__": [f"The record conflicts with stored data: {exc.__cause__ or exc}"]}) from exc
    except DatabaseError as exc:  # "Save with update_fields did not affect any rows"
        if adding or type(obj)._base_manager.filter(pk=obj.pk).exists():
            raise
        raise ValidationError({"__all__": ["This record was deleted meanwhile; reload it."]}) from exc
    audit_record(actor=actor, action=action, obj=obj, detail=detail)
    patient_id = obj.pk if isinstance(obj, Patient) else getattr(obj, "patient_id", None)
    if patient_id:
        hooks.patient_changed(patient_id)
    return obj


def with_auto_now(obj: models.Model, names) -> list[str]:
    """``names`` and the model's auto_now fields (``updated_at``), for ``save(update_fields=...)``:
    Django sets an auto_now field on every save but writes it only when it is named."""
    auto_now = [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
    return list(dict.fromkeys([*names, *auto_now]))


def _floats_to_decimals(obj: models.Model) -> None:
    """Clients send 0.4, not Decimal("0.4"): keep the number they meant, not its binary expansion."""
    for model_field in obj._meta.concrete_fields:
        if isinstance(model_field, models.DecimalField):
            value = getattr(obj, model_field.attname)
            if isinstance(value, float):
                setattr(obj, model_field.attname, Decimal(repr(value)))


def apply_changes(obj: models.Model, data: dict[str, Any], allowed) -> dict[str, Any]:
    """Set whitelisted attributes; return {field: [old, new]} for the audit detail."""
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({name: ["This field cannot be changed here."] for name in sorted(unknown)})
    changes = {}
    for name, value in data.items():
        old = getattr(obj, name)
        if old != value:
            changes[name] = [str(old), str(value)]
            setattr(obj, name, value)
    return changes


# --- Patient -----------------------------------------------------------------------------

PATIENT_FIELDS = {
    "mrn",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "height_cm",
    "diagnosis",
    "active",
    "user",
}


@transaction.atomic
def patient_create(
    *, actor, weight_kg=None, weight_measured_on: date | None = None, site=None, care_team=None, **fields
) -> Patient:
    """The one way to create a patient, for the staff form and the API alike: the record, then
    its first weight through the weight history (audited, as every later weight), together or
    not at all. Errors name the caller's fields (``weight_measured_on``, not ``measured_on``)."""
    unknown = set(fields) - PATIENT_FIELDS
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    dob = fields.get("date_of_birth")
    if isinstance(dob, date) and dob > timezone.localdate():
        raise ValidationError({"date_of_birth": ["The date of birth cannot be in the future."]})
    if weight_measured_on is not None and weight_measured_on > timezone.localdate():
        raise ValidationError({"weight_measured_on": ["A weight cannot be measured in the future."]})
    patient = Patient(**fields, site=site_for_new_patient(actor, site))
    save_clinical(patient, actor=actor, action="patient.create", detail={"site": patient.site.code})
    if care_team:
        care_team_set(actor=actor, patient=patient, members=care_team)
    if weight_kg is not None:
        try:
            _weight_store(actor=actor, patient=patient, weight_kg=weight_kg, measured_on=weight_measured_on)
        except ValidationError as exc:
            raise _weight_errors_as_patient_fields(exc) from exc
        patient.refresh_from_db(fields=["weight_kg", "weight_measured_on", "updated_at"])
    return patient


def _weight_errors_as_patient_fields(exc: ValidationError) -> ValidationError:
    """A weight_record error named as the patient record names the fields (``weight_measured_on``)."""
    if not hasattr(exc, "error_dict"):
        return exc
    renamed = {"measured_on": "weight_measured_on"}
    return ValidationError({renamed.get(key, key): errors for key, errors in exc.error_dict.items()})


@transaction.atomic
def patient_update(*, actor, patient: Patient, site=None, care_team=None, **fields) -> Patient:
    """Change a patient's record; ``site`` moves them (a clinician's write) and ``care_team``
    names their team, each audited on its own."""
    if site is not None and site.pk != patient.site_id:
        patient = patient_move_site(actor=actor, patient=patient, site=site)
    if care_team is not None:
        care_team_set(actor=actor, patient=patient, members=care_team)
    dob = fields.get("date_of_birth")
    if isinstance(dob, date) and dob > timezone.localdate():
        raise ValidationError({"date_of_birth": ["The date of birth cannot be in the future."]})
    changes = apply_changes(patient, fields, PATIENT_FIELDS)
    return save_clinical(
        patient, actor=actor, action="patient.update", detail={"changes": changes}, update_fields=changes
    )


@transaction.atomic
def weight_record(*, actor, patient: Patient, weight_kg, measured_on: date | None = None) -> WeightMeasurement:
    """Record a new current weight; the previous one stays in the history."""
    measurement = _weight_store(actor=actor, patient=patient, weight_kg=weight_kg, measured_on=measured_on)
    hooks.patient_changed(patient.pk)
    return measurement


def _weight_store(*, actor, patient: Patient, weight_kg, measured_on: date | None) -> WeightMeasurement:
    """weight_record but the re-assessment hook (patient_create has called it). In a transaction."""
    measured_on = measured_on or timezone.localdate()
    if measured_on > timezone.localdate():
        raise ValidationError({"measured_on": ["A weight cannot be measured in the future."]})
    patient = Patient.objects.select_for_update().get(pk=patient.pk)
    measurement = WeightMeasurement(
        patient=patient,
        weight_kg=weight_kg,
        measured_on=measured_on,
        recorded_by=_user(actor),
    )
    measurement.full_clean(exclude=["patient"])
    latest = patient.weight_measured_on
    is_newest = latest is None or measured_on >= latest
    measurement.is_current = is_newest
    if is_newest:
        WeightMeasurement.objects.filter(patient=patient, is_current=True).update(is_current=False)
        patient.weight_kg = measurement.weight_kg
        patient.weight_measured_on = measured_on
        patient.full_clean()
        patient.save(update_fields=with_auto_now(patient, ["weight_kg", "weight_measured_on"]))
    measurement.save()
    audit_record(
        actor=actor,
        action="weight.record",
        obj=measurement,
        detail={"weight_kg": str(weight_kg)},
    )
    return measurement


# --- History records ---------------------------------------------------------------------


@transaction.atomic
def condition_add(
    *,
    actor,
    patient: Patient,
    code: str,
    onset_date=None,
    resolved_date=None,
    note: str = "",
) -> Condition:
    obj = Condition(
        patient=patient,
        code=code,
        onset_date=onset_date,
        resolved_date=resolved_date,
        note=note,
    )
    _not_in_future(onset_date=onset_date, resolved_date=resolved_date)
    return save_clinical(obj, actor=actor, action="condition.add")


@transaction.atomic
def condition_update(*, actor, condition: Condition, **fields) -> Condition:
    changes = apply_changes(condition, fields, {"code", "onset_date", "resolved_date", "note"})
    _not_in_future(onset_date=condition.onset_date, resolved_date=condition.resolved_date)
    return save_clinical(
        condition, actor=actor, action="condition.update", detail={"changes": changes}, update_fields=changes
    )


@transaction.atomic
def vascular_access_add(
    *,
    actor,
    patient: Patient,
    kind: str,
    vein: str,
    inserted_on: date,
    side: str = "unknown",
    removed_on=None,
    note="",
) -> VascularAccess:
    obj = VascularAccess(
        patient=patient,
        kind=kind,
        vein=vein,
        side=side,
        inserted_on=inserted_on,
        removed_on=removed_on,
        note=note,
    )
    _not_in_future(inserted_on=inserted_on, removed_on=removed_on)
    return save_clinical(obj, actor=actor, action="vascular_access.add")


@transaction.atomic
def vascular_access_update(*, actor, access: VascularAccess, **fields) -> VascularAccess:
    changes = apply_changes(access, fields, {"kind", "vein", "side", "inserted_on", "removed_on", "note"})
    _not_in_future(inserted_on=access.inserted_on, removed_on=access.removed_on)
    return save_clinical(
        access,
        actor=actor,
        action="vascular_access.update",
        detail={"changes": changes},
        update_fields=changes,
    )


@transaction.atomic
def thrombosis_event_record(
    *,
    actor,
    patient: Patient,
    kind: str,
    status: str,
    diagnosed_on: date,
    provocation: str = "unknown",
    vascular_access: VascularAccess | None = None,
    note: str = "",
) -> ThrombosisEvent:
    if vascular_access is not None and vascular_access.patient_id != patient.pk:
        raise ValidationError({"vascular_access": ["This device belongs to another patient."]})
    _not_in_future(diagnosed_on=diagnosed_on)
    obj = ThrombosisEvent(
        patient=patient,
        kind=kind,
        status=status,
        diagnosed_on=diagnosed_on,
        provocation=provocation,
        vascular_access=vascular_access,
        note=note,
    )
    return save_clinical(obj, actor=actor, action="thrombosis_event.record")


@transaction.atomic
def thrombosis_event_update(*, actor, event: ThrombosisEvent, **fields) -> ThrombosisEvent:
    changes = apply_changes(
        event,
        fields,
        {"kind", "status", "diagnosed_on", "provocation", "vascular_access", "note"},
    )
    if event.vascular_access is not None and event.vascular_access.patient_id != event.patient_id:
        raise ValidationError({"vascular_access": ["This device belongs to another patient."]})
    _not_in_future(diagnosed_on=event.diagnosed_on)
    return save_clinical(
        event,
        actor=actor,
        action="thrombosis_event.update",
        detail={"changes": changes},
        update_fields=changes,
    )


# --- Labs ----------------------------------------------------------------------------------


def lock_patient(patient_id: int) -> None:
    """Take the patient's row lock for the rest of the transaction (PostgreSQL; SQLite writes are
    serialised anyway): checks such as "is this already recorded?" then see every writer's
    result."""
    list(Patient.objects.select_for_update().filter(pk=patient_id).values_list("pk", flat=True))


def _refuse_duplicate_lab(patient: Patient, test: str, value, collected_at: datetime, exclude_pk=None) -> None:
    """The same test, collection minute and value for the patient is the same result sent twice
    (``exclude_pk``: the lab being edited, never its own duplicate)."""
    lock_patient(patient.pk)
    minute = collected_at.replace(second=0, microsecond=0)
    existing = (
        LabResult.objects.filter(
            patient=patient,
            test=test,
            value=value,
            collected_at__gte=minute,
            collected_at__lt=minute + timedelta(minutes=1),
        )
        .exclude(pk=exclude_pk)
        .order_by("pk")
        .first()
    )
    if existing is not None:
        when = timezone.localtime(existing.collected_at)
        raise DuplicateRecord(
            existing,
            f"This result is already recorded: {existing.get_test_display()} {existing.value:g} {existing.unit}, "
            f"collected {when:%d %b %Y %H:%M} (id {existing.public_id}).",
        )


def check_reference_limits(high, low) -> None:
    """A lab's reference limits (canonical unit) as a new or edited result must have them."""
    if high is not None and high <= 0:
        raise ValidationError({"reference_high": ["The reference upper limit must be positive."]})
    if low is not None and low < 0:
        raise ValidationError({"reference_low": ["The reference lower limit cannot be negative."]})
    if high is not None and low is not None and low >= high:
        raise ValidationError({"reference_low": ["The reference lower limit must be below the upper limit."]})


def lab_doubt(patient_id: int, test: str, canonical, collected_at, *, exclude_pk: int | None = None) -> str:
    """Why this value needs a person's confirmation before it counts ("" when it does not): it
    is compared with the patient's previous verified result of the test (patients/labs.py)."""
    earlier = LabResult.objects.filter(
        patient_id=patient_id,
        test=test,
        needs_verification=False,
        collected_at__lt=collected_at,
        collected_at__gte=collected_at - timedelta(days=lab_catalogue.SIGNATURE_LOOKBACK_DAYS),
    )
    if exclude_pk is not None:
        earlier = earlier.exclude(pk=exclude_pk)
    previous = earlier.order_by("-collected_at").values_list("value", flat=True).first()
    return lab_catalogue.doubt_reason(test, canonical, previous)


@transaction.atomic
def lab_record(
    *,
    actor,
    patient: Patient,
    test: str,
    value: float,
    collected_at: datetime,
    unit: str | None = None,
    reference_high: float | None = None,
    reference_low: float | None = None,
    reference_unit: str | None = None,
) -> LabResult:
    """Store a lab in its canonical unit. Implausible values are refused; doubtful ones (ITRS-v1:
    platelets > 1,000 or a unit-error signature against the last 30 days, `itrs.labs`) are
    stored with needs_verification and enter no rule until a staff member confirms them.

    Reference limits are in the value's unit (or ``reference_unit``) and stored converted to
    the canonical unit with the value; an unknown unit is refused."""
    if collected_at > latest_plausible_instant():
        raise ValidationError({"collected_at": ["A sample cannot be collected in the future."]})
    if value is None:
        raise ValidationError({"value": ["A value is required."]})
    try:
        canonical, canonical_unit = lab_catalogue.to_canonical(test, value, unit)
        high = lab_catalogue.reference_to_canonical(test, reference_high, unit, reference_unit)
        low = lab_catalogue.reference_to_canonical(test, reference_low, unit, reference_unit)
    except lab_catalogue.LabInputError as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc
    check_reference_limits(high, low)
    _refuse_duplicate_lab(patient, test, canonical, collected_at)
    reason = lab_doubt(patient.pk, test, canonical, collected_at)
    obj = LabResult(
        patient=patient,
        test=test,
        value=canonical,
        unit=canonical_unit,
        entered_value=value,
        entered_unit=unit or canonical_unit,
        collected_at=collected_at,
        reference_high=high,
        reference_low=low,
        needs_verification=bool(reason),
        verification_reason=reason,
    )
    return save_clinical(
        obj,
        actor=actor,
        action="lab.record",
        detail={"needs_verification": bool(reason)},
    )


@transaction.atomic
def lab_panel_record(*, actor, patient: Patient, collected_at: datetime, results: list[dict]) -> list[LabResult]:
    """Several results of one sample (a clotting panel), all stored or none: each result goes
    through `lab_record` (units, plausibility, verification, audit); if any is refused, nothing
    is written and the errors come back keyed by test, e.g. {"platelets": ["..."]}."""
    if not results:
        raise ValidationError({"results": ["Enter at least one result."]})
    tests = [result["test"] for result in results]
    if len(set(tests)) != len(tests):
        raise ValidationError({"results": ["Each test at most once in a panel (one sample, one value per test)."]})
    saved, errors = [], {}
    for result in results:
        try:
            with transaction.atomic():
                saved.append(lab_record(actor=actor, patient=patient, collected_at=collected_at, **result))
        except ValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"value": exc.messages}
            if "collected_at" in messages:
                raise ValidationError({"collected_at": messages["collected_at"]}) from exc
            errors[result["test"]] = [message for field_messages in messages.values() for message in field_messages]
    if errors:
        raise ValidationError(errors)
    return saved


@transaction.atomic
def lab_verify(*, actor, lab: LabResult, confirmed: bool) -> LabResult | None:
    """Confirm a doubtful value (it then enters the rules) or reject it (audited, and kept as a
    record entered in error: no clinical record is deleted)."""
    if not lab.needs_verification:
        raise ValidationError({"needs_verification": ["This value does not need verification."]})
    if confirmed:
        lab.needs_verification = False
        lab.verified_by = _user(actor)
        lab.verified_at = timezone.now()
        return save_clinical(
            lab, actor=actor, action="lab.verify", update_fields=["needs_verification", "verified_by", "verified_at"]
        )
    audit_record(
        actor=actor,
        action="lab.reject",
        obj=lab,
        detail={"value": lab.value, "test": lab.test},
    )
    mark_entered_in_error(lab, reason=REJECTED_AT_VERIFICATION, actor=actor)  # re-assesses the patient
    return None


# --- Reminders opt-in ------------------------------------------------------------------------


@transaction.atomic
def reminders_opt_in_set(*, actor, patient: Patient, opt_in: bool) -> Patient:
    """The patient's choice of e-mail reminders, with when it was made (audited)."""
    if not isinstance(opt_in, bool):
        raise ValidationError({"reminders_opt_in": ["Say yes or no."]})
    if opt_in and not (patient.user_id and patient.user.email):
        raise ValidationError({"reminders_opt_in": ["There is no e-mail address on your login: ask the clinic."]})
    if patient.reminders_opt_in == opt_in and patient.reminders_opt_in_changed_at is not None:
        return patient
    patient.reminders_opt_in = opt_in
    patient.reminders_opt_in_changed_at = timezone.now()
    patient.save(update_fields=["reminders_opt_in", "reminders_opt_in_changed_at", "updated_at"])
    audit_record(actor=actor, action="patient.reminders", obj=patient, detail={"opt_in": opt_in})
    return patient


# --- Symptoms --------------------------------------------------------------------------------


@transaction.atomic
def symptom_report_submit(
    *,
    actor,
    patient: Patient,
    symptoms: list[str],
    note: str = "",
    reported_at: datetime | None = None,
    source: str = "staff",
    kind: str = "report",
) -> SymptomReport:
    """Triage the report; an emergency or urgent report raises its flag in this same transaction.

    A check-in (``kind="checkin"``, the answer to "How are you since your infusion?") may name no
    symptom: "I feel fine" is stored as a routine check-in, not refused."""
    if kind not in SymptomReport.Kind.values:
        raise ValidationError({"kind": [f"Unknown kind; choose one of: {', '.join(SymptomReport.Kind.values)}."]})
    if not symptoms and kind != SymptomReport.Kind.CHECKIN:
        raise ValidationError({"symptoms": ["Choose at least one symptom."]})
    unknown = [code for code in symptoms if code not in symptom_catalogue.ALL]
    if unknown:
        raise ValidationError({"symptoms": [f"Unknown symptom code(s): {', '.join(map(str, unknown))}."]})
    now = timezone.now()
    reported_at = reported_at or now
    if reported_at > latest_plausible_instant(now):
        raise ValidationError({"reported_at": ["A report cannot be dated in the future."]})
    symptoms = list(dict.fromkeys(symptoms))
    level = symptom_catalogue.triage(symptoms)
    days = _days_since_last_infusion(patient, reported_at)
    report = SymptomReport(
        patient=patient,
        reported_at=reported_at,
        symptoms=symptoms,
        note=note,
        reported_by=_user(actor),
        source=source,
        triage=level,
        advice=symptom_catalogue.advice(level, symptoms, days),
        days_since_infusion=days,
        kind=kind,
    )
    save_clinical(
        report,
        actor=actor,
        action="symptom_report.submit",
        detail={"triage": level, "symptoms": symptoms, "kind": kind},
    )
    hooks.symptom_reported(report, actor=actor)
    return report


def _days_since_last_infusion(patient: Patient, at: datetime) -> int | None:
    # Infusions live one app up: the infusions app answers through the hook (imports point down).
    last = hooks.last_infusion_at(patient.pk, at)
    return None if last is None else (at - last).days


# --- helpers -------------------------------------------------------------------------------


def latest_plausible_instant(now: datetime | None = None) -> datetime:
    """The latest instant a record may say has happened (a lab collected, a symptom reported, an
    infusion given): now plus the clock skew tolerated, ``settings.IVIGTRACK_FUTURE_TOLERANCE``."""
    return (now or timezone.now()) + settings.IVIGTRACK_FUTURE_TOLERANCE


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def _not_in_future(**dates) -> None:
    today = timezone.localdate()
    errors = {name: ["This date cannot be in the future."] for name, value in dates.items() if value and value > today}
    if errors:
        raise ValidationError(errors)
