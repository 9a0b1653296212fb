"""Writing audit rows. Call inside the service's transaction so the row and the change commit together."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from .models import AuditEvent, AuditEventPatient


def _label(actor) -> str:
    if actor is None:
        return "system"
    return getattr(actor, "username", str(actor))


def audit_event(
    *,
    actor,
    action: str,
    obj: models.Model | None = None,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """The audit row for this action, not saved (see `audit_record` and `audit_bulk`)."""
    if patient_id is None and obj is not None:
        patient_id = getattr(obj, "patient_id", None)
        if patient_id is None and obj._meta.model_name == "patient":
            patient_id = obj.pk
    return AuditEvent(
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or _label(actor),
        action=action,
        patient_id=patient_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(getattr(obj, "public_id", getattr(obj, "pk", ""))) if obj is not None else "",
        detail=detail or {},
    )


def audit_record(**kwargs) -> AuditEvent:
    """Write one audit row (keyword arguments as `audit_event`)."""
    event = audit_event(**kwargs)
    event.save(force_insert=True)
    return event


def audit_bulk(rows: list[AuditEvent]) -> None:
    """Jobs write many rows at once (e.g. every flag a sweep raised)."""
    AuditEvent.objects.bulk_create(rows, batch_size=2000)


def audit_list_read(*, actor, action: str, patient_ids, detail: dict | None = None) -> AuditEvent | None:
    """One row for a staff list or search (a request, never a row), with the patients it showed
    (``AuditEventPatient``; the count in ``detail``). Reads by anyone but staff are not audited."""
    if not getattr(actor, "is_clinical_staff", False):
        return None
    shown = sorted({int(pid) for pid in patient_ids if pid is not None})
    only = shown[0] if len(shown) == 1 else None
    # One transaction, so one commit (one WAL flush) per list read rather than two: a worklist
    # of 16 staff refreshing every 30 seconds writes these all day. No savepoint inside a caller's
    # transaction: the read and its audit row stand or fall together.
    with transaction.atomic(savepoint=False):
        event = audit_record(
            actor=actor, action=action, patient_id=only, detail={**(detail or {}), "patients_shown": len(shown)}
        )
        if shown:
            AuditEventPatient.objects.bulk_create([AuditEventPatient(event=event, patient_id=pid) for pid in shown])
    return event


def shown_patient_ids(objects) -> list[int]:
    """The patients behind a page of rows (patients themselves, or records with a patient)."""
    ids = []
    for obj in objects:
        if obj._meta.model_name == "patient":
            ids.append(obj.pk)
        else:
            ids.append(getattr(obj, "patient_id", None))
    return ids


def audit_staff_read(
    *,
    actor,
    via: str,
    resource: str,
    patient=None,
    obj=None,
    detail: dict | None = None,
    list_action: str,
    list_detail=None,
    shown=(),
) -> None:
    """One row per staff read (a request, never a row): ``patient.view`` when the read is of one
    patient's records (``patient`` or ``obj`` given), else ``list_action`` (a search or list) with
    the patients of ``shown`` (the rows returned). Patients reading their own records are not
    audited here."""
    if not getattr(actor, "is_clinical_staff", False):
        return
    info = {"resource": resource, "via": via, **(detail or {})}
    if patient is not None or obj is not None:
        audit_record(
            actor=actor,
            action="patient.view",
            obj=obj if obj is not None else patient,
            patient_id=getattr(patient, "pk", None),
            detail=info,
        )
    else:
        audit_list_read(
            actor=actor,
            action=list_action,
            patient_ids=shown_patient_ids(shown),
            detail={**info, **(list_detail or {})},
        )
