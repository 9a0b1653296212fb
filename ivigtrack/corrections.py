"""Corrections: no clinical record is deleted; a wrong one is marked entered in error.

``mark_entered_in_error(record, reason=..., actor=...)`` is the one service every door calls (the
API's ``entered-in-error`` action, the staff confirm page, the admin action). In one transaction
it locks the row, refuses a blank reason (400 ``reason``) and a second marking
(`AlreadyEnteredInError`: 409 in the API, a form error on a page), stamps who, when and why, runs
what the record's app registered for its kind (`on_marked`: the weight history picks its current
measurement again; a symptom alert raised only by this report is closed), writes the AuditEvent
``<kind>.entered_in_error`` with the reason and marks the patient changed, so the on-commit
re-assessment drops the record from every rule and score at once.

The record then leaves every read through its model's ``objects`` (`models_base.Correctable`);
pages and API lists that show corrections read ``all_objects`` and strike it through.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from ivigtrack import hooks
from ivigtrack.audit.services import audit_record
from ivigtrack.validation import TEXT_MAX_LENGTH

# The audit action prefix of each correctable model (the same words as its other audit rows).
KINDS = {
    "patients.condition": "condition",
    "patients.vascularaccess": "vascular_access",
    "patients.thrombosisevent": "thrombosis_event",
    "patients.labresult": "lab",
    "patients.symptomreport": "symptom_report",
    "patients.weightmeasurement": "weight",
    "infusions.regimen": "regimen",
    "infusions.infusion": "infusion",
    "infusions.medicationcourse": "medication",
}

REASON_REQUIRED = "Say why this record was entered in error."

_on_marked: dict[str, list[Callable]] = {}


class AlreadyEnteredInError(ValidationError):
    """The record was marked entered in error before (by someone else, or a second click)."""

    def __init__(self, record):
        self.record = record
        when = timezone.localtime(record.entered_in_error_at).strftime("%Y-%m-%d %H:%M")
        by = getattr(record.entered_in_error_by, "username", None) or "someone"
        super().__init__(
            {"__all__": [f"This record was already marked entered in error ({by}, {when}): nothing changed."]},
            code="already_entered_in_error",
        )


def on_marked(label: str, fn: Callable) -> None:
    """Register ``fn(record, *, actor)`` to run in the marking transaction of records of the model
    ``label`` ("app_label.modelname"), after the row is marked."""
    handlers = _on_marked.setdefault(label, [])
    if fn not in handlers:
        handlers.append(fn)


def kind_of(record: models.Model) -> str:
    return KINDS[record._meta.label_lower]


def clean_reason(reason) -> str:
    reason = (reason or "").strip() if isinstance(reason, str) else ""
    if not reason:
        raise ValidationError({"reason": [REASON_REQUIRED]})
    if len(reason) > TEXT_MAX_LENGTH:
        raise ValidationError({"reason": [f"At most {TEXT_MAX_LENGTH} characters (it has {len(reason)})."]})
    return reason


@transaction.atomic
def mark_entered_in_error(record: models.Model, *, reason, actor) -> models.Model:
    """Mark ``record`` entered in error; returns the marked row (read again, under its lock)."""
    label = record._meta.label_lower
    if label not in KINDS:
        raise TypeError(f"{record._meta.label} cannot be marked entered in error.")
    reason = clean_reason(reason)
    model = type(record)
    row = model.all_objects.select_for_update().get(pk=record.pk)
    if row.entered_in_error:
        raise AlreadyEnteredInError(row)
    now = timezone.now()
    user = actor if getattr(actor, "pk", None) else None
    changes = {
        "entered_in_error": True,
        "entered_in_error_reason": reason,
        "entered_in_error_at": now,
        "entered_in_error_by": user,
        "updated_at": now,
    }
    model.all_objects.filter(pk=row.pk).update(**changes)
    for name, value in changes.items():
        setattr(row, name, value)
    for fn in _on_marked.get(label, ()):
        fn(row, actor=actor)
    audit_record(actor=actor, action=f"{KINDS[label]}.entered_in_error", obj=row, detail={"reason": reason})
    hooks.patient_changed(row.patient_id)
    return row
