"""Review flags: reconcile what the rules want with the stored flags (the sweep's half), the
lifecycle staff drive (acknowledge, snooze, resolve: compare-and-set, so two clicks at once give
one winner and a clear message), and symptom flags raised inside the report's transaction.

The partial unique constraint on unresolved (patient, kind) is the last guard when two sweeps
overlap or a task is delivered twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from itrs import review
from itrs.types import SymptomSnap
from ivigtrack import bulk
from ivigtrack.audit.models import AuditEvent
from ivigtrack.audit.services import audit_bulk, audit_record
from patients.models import Patient
from risk import tasks
from risk.histories import OpenFlag
from risk.models import PRIORITY_RANK, UNRESOLVED, FlagKind, FlagReport, ReviewFlag
from risk.review_settings import review_settings
from risk.services.outcome import ChunkOutcome

# Kinds the review rules own. symptom_alert flags are raised by a report and closed by a person.
RULE_KINDS = {
    FlagKind.HEMATOLOGY_REVIEW,
    FlagKind.CLOTTING_STUDIES,
    FlagKind.VISCOSITY_CHECK,
    FlagKind.PRE_IVIG_LABS,
    FlagKind.DATA_QUALITY,
}


class FlagConflict(Exception):
    """Someone else changed the flag first (two staff clicking at once)."""


class FlagPermissionDenied(PermissionError):
    """This role may not make this change to a flag (views map it to 403)."""


def flags_reconcile(desired, open_flags, now, outcome: ChunkOutcome, actor_label: str) -> None:
    to_create: list[dict] = []  # the new flags' fields
    audits: list[dict] = []  # the audit rows' fields
    for pid, specs in desired.items():
        wanted = {spec.kind: spec for spec in specs}
        for spec in specs:
            existing = open_flags.get((pid, spec.kind))
            if existing is None:
                to_create.append(
                    {
                        "patient_id": pid,
                        "kind": spec.kind,
                        "rule": spec.rule,
                        "priority": spec.priority,
                        "priority_rank": PRIORITY_RANK[spec.priority],
                        "reason": spec.reason,
                        "evidence": spec.evidence,
                        "raised_at": now,
                        "due_at": spec.due_at,
                    }
                )
            elif PRIORITY_RANK[spec.priority] < existing.priority_rank:
                if _escalate(existing, spec, now):
                    outcome.flags_escalated += 1
                    outcome.notify.append(existing.pk)
                    audits.append(
                        _job_audit(
                            "flag.escalate", existing, actor_label, {"rule": spec.rule, "priority": spec.priority}
                        )
                    )
            elif existing.status == "snoozed" and existing.snoozed_until and existing.snoozed_until <= now:
                if ReviewFlag.objects.filter(pk=existing.pk, status="snoozed").update(
                    status="open", snoozed_until=None
                ):
                    audits.append(_job_audit("flag.unsnooze", existing, actor_label, {"reason": "snooze ended"}))
            elif spec.rule != existing.rule or spec.reason != existing.reason:
                # Same or lower urgency: keep the flag, refresh what it says and why.
                ReviewFlag.objects.filter(pk=existing.pk, status__in=UNRESOLVED).update(
                    rule=spec.rule, reason=spec.reason, evidence=spec.evidence
                )
        for kind in RULE_KINDS - set(wanted):
            existing = open_flags.get((pid, kind))
            if existing is None:
                continue
            note = f"Resolved by the review sweep: rule {existing.rule} no longer applies ({now:%Y-%m-%d %H:%M} UTC)."
            won = ReviewFlag.objects.filter(pk=existing.pk, status__in=UNRESOLVED).update(
                status="resolved", resolution="completed", resolved_at=now, resolved_by=None, note=note
            )
            if won:
                outcome.flags_resolved += 1
                audits.append(
                    _job_audit("flag.resolve", existing, actor_label, {"resolution": "completed", "note": note})
                )
    if to_create:
        created = _create_flags(to_create, now)
        outcome.flags_raised += len(created)
        for flag in created:
            audits.append(_job_audit("flag.raise", flag, actor_label, {"rule": flag.rule, "priority": flag.priority}))
            if flag.priority in ("emergency", "urgent"):
                outcome.notify.append(flag.pk)
    if audits:
        if bulk.use_copy(audits):
            bulk.copy_values(AuditEvent, audits, now)
        else:
            audit_bulk([AuditEvent(**values) for values in audits])


def _create_flags(flags: list[dict], now) -> list:
    """Insert new flags, skipping any (patient, kind) that another sweep raised meanwhile: the
    partial unique constraint keeps one. Returns the flags this call created, in ReviewFlag's
    default order."""
    if connection.vendor == "postgresql":
        rows = bulk.insert_ignoring_conflicts(
            ReviewFlag,
            flags,
            now,
            returning=("id", "public_id", "patient_id", "kind", "rule", "priority", "priority_rank", "due_at"),
        )
        rows.sort(key=lambda row: (row[6], row[7], row[0]))
        return [
            OpenFlag(pk, public_id, pid, kind, rule, priority, rank, "open", None, "")
            for pk, public_id, pid, kind, rule, priority, rank, _ in rows
        ]
    # Our own rows are found again by their exact raised_at and their public ids: another flag of
    # these patients raised at the same instant (a symptom alert, an earlier try of this chunk at
    # the same as_of) is not ours.
    objs = [ReviewFlag(**values) for values in flags]
    ReviewFlag.objects.bulk_create(objs, batch_size=1000, ignore_conflicts=True)
    ours = {obj.public_id for obj in objs}
    return [
        flag
        for flag in ReviewFlag.objects.filter(
            patient_id__in={f["patient_id"] for f in flags}, raised_at=now, status="open"
        ).only("id", "public_id", "patient_id", "kind", "rule", "priority")
        if flag.public_id in ours
    ]


def _escalate(flag: ReviewFlag, spec, now) -> bool:
    """Compare-and-set: only if the flag is still unresolved and less urgent than the new rule."""
    rank = PRIORITY_RANK[spec.priority]
    return bool(
        ReviewFlag.objects.filter(pk=flag.pk, status__in=UNRESOLVED, priority_rank__gt=rank).update(
            rule=spec.rule,
            priority=spec.priority,
            priority_rank=rank,
            reason=spec.reason,
            evidence=spec.evidence,
            due_at=spec.due_at,
            escalated_at=now,
            status="open",
            snoozed_until=None,
        )
    )


def _job_audit(action: str, flag, actor_label: str, detail: dict) -> dict:
    """An AuditEvent's fields for a change the sweep made to a flag."""
    return {
        "actor_id": None,
        "actor_label": actor_label,
        "action": action,
        "patient_id": flag.patient_id,
        "object_type": "risk.reviewflag",
        "object_id": str(flag.public_id),
        "detail": {"kind": flag.kind, **detail},
    }


def _claim(flag: ReviewFlag, allowed_from: tuple[str, ...], **changes) -> ReviewFlag:
    won = ReviewFlag.objects.filter(pk=flag.pk, status__in=allowed_from).update(**changes)
    if not won:
        current = ReviewFlag.objects.get(pk=flag.pk)
        who = current.resolved_by or current.acknowledged_by
        by = f" by {who.get_username()}" if who else ""
        raise FlagConflict(f"This flag was already {current.status}{by}; the page has been refreshed.")
    flag.refresh_from_db()
    return flag


@transaction.atomic
def flag_acknowledge(*, flag: ReviewFlag, actor, note: str = "") -> ReviewFlag:
    _require_staff(actor)
    flag = _claim(
        flag,
        ("open",),
        status="acknowledged",
        acknowledged_by=actor,
        acknowledged_at=timezone.now(),
        note=note or F("note"),
    )
    audit_record(actor=actor, action="flag.acknowledge", obj=flag, detail={"note": note})
    return flag


@transaction.atomic
def flag_snooze(*, flag: ReviewFlag, actor, until: datetime, note: str = "") -> ReviewFlag:
    require_clinician(actor, "snooze")
    now = timezone.now()
    if until is None or until <= now:
        raise ValidationError({"until": ["Snooze until a time in the future."]})
    if until > now + timedelta(days=180):
        raise ValidationError({"until": ["Snooze for at most 180 days."]})
    if flag.priority == "emergency":
        raise ValidationError({"until": [EMERGENCY_NOT_SNOOZED]})
    flag = _claim(flag, ("open", "acknowledged"), status="snoozed", snoozed_until=until, note=note or F("note"))
    audit_record(actor=actor, action="flag.snooze", obj=flag, detail={"until": until.isoformat(), "note": note})
    return flag


@transaction.atomic
def flag_resolve(*, flag: ReviewFlag, actor, resolution: str, note: str = "") -> ReviewFlag:
    require_clinician(actor, "resolve")
    if resolution not in ReviewFlag.Resolution.values:
        raise ValidationError({"resolution": [f"Choose one of: {', '.join(ReviewFlag.Resolution.values)}."]})
    flag = _claim(
        flag,
        UNRESOLVED,
        status="resolved",
        resolution=resolution,
        resolved_by=actor,
        resolved_at=timezone.now(),
        note=note or F("note"),
    )
    audit_record(actor=actor, action="flag.resolve", obj=flag, detail={"resolution": resolution, "note": note})
    transaction.on_commit(lambda: _enqueue_assess(flag.patient_id))
    return flag


EMERGENCY_NOT_SNOOZED = "Emergency flags cannot be snoozed."


def flag_refusal(flag: ReviewFlag, action: str) -> str:
    """Why this flag cannot be snoozed or resolved (`action`) as it stands, or "": for a page to
    say so before it offers a form. The services above still check, under their compare-and-set."""
    if flag.status == "resolved":
        return "This flag has been resolved already; there is nothing left to do."
    if action == "snooze" and flag.priority == "emergency":
        return EMERGENCY_NOT_SNOOZED
    return ""


def _require_staff(actor) -> None:
    if not getattr(actor, "is_clinical_staff", False):
        raise FlagPermissionDenied("Only clinic staff can change flags.")


def require_clinician(actor, verb: str) -> None:
    # docs/roles.md: nurses acknowledge flags; clinicians acknowledge, snooze and resolve.
    if not getattr(actor, "is_clinician", False):
        raise FlagPermissionDenied(f"Only a clinician can {verb} a flag; nurses can acknowledge it.")


def symptom_flag_raise(report, *, actor) -> ReviewFlag | None:
    """Called by the symptom service inside the report's transaction: the report raises the
    patient's symptom_alert flag or joins the unresolved one (docs/review-rules.md, symptom alerts).

    Every report on the flag is in its reason, newest first; the most urgent decides its priority,
    so a milder report never lowers it or replaces what it says. An urgent or emergency report
    re-opens an acknowledged or snoozed flag. E-mail, once per report: the report that raises or
    escalates the flag, and every urgent or emergency report after someone acknowledged (or
    snoozed) it; one that joins a flag nobody has acknowledged yet is in the reason they will read.
    """
    # Two reports at once (a double tap; the patient and a nurse) must not both find no flag and
    # both raise one: the second waits here until the first commits, then joins its flag. FOR NO
    # KEY UPDATE, not FOR UPDATE: each report's INSERT holds a KEY SHARE lock on its patient (the
    # foreign key), which FOR UPDATE would wait for, so two reports would deadlock.
    list(Patient.objects.select_for_update(no_key=True).filter(pk=report.patient_id).values_list("pk", flat=True))
    existing = (
        ReviewFlag.objects.select_for_update()  # staff actions on it wait until this report commits
        .filter(patient_id=report.patient_id, kind=FlagKind.SYMPTOM_ALERT, status__in=UNRESOLVED)
        .first()
    )
    on_flag = [report, *(existing.reports.order_by("-reported_at", "-id") if existing else ())]
    spec = review.symptom_flag([_symptom_snap(r) for r in on_flag], review_settings())
    if spec is None:  # routine, and no alert to join (or one no urgent report is on: an old row)
        if existing is not None:
            FlagReport.objects.create(flag=existing, report=report)
        return existing
    now = timezone.now()
    rank = PRIORITY_RANK[spec.priority]
    evidence = {**spec.evidence, "report": str(report.public_id)}
    detail = {"report": str(report.public_id), "triage": report.triage}
    if existing is None:
        flag = ReviewFlag.objects.create(
            patient_id=report.patient_id,
            kind=spec.kind,
            rule=spec.rule,
            priority=spec.priority,
            priority_rank=rank,
            reason=spec.reason,
            evidence=evidence,
            raised_at=now,
            due_at=spec.due_at,
        )
        FlagReport.objects.create(flag=flag, report=report)
        audit_record(actor=actor, action="flag.raise", obj=flag, detail={"rule": flag.rule, **detail})
        notify_report_on_commit(flag.pk, report.pk)
        return flag

    needs_action = report.triage in review.SYMPTOM_RULES
    escalate = rank < existing.priority_rank
    reopen = needs_action and existing.status != "open"
    seen = existing.acknowledged_at is not None or existing.status == "snoozed"
    fields = {"reason": spec.reason, "evidence": evidence}
    if escalate:
        fields.update(rule=spec.rule, priority=spec.priority, priority_rank=rank, escalated_at=now)
    if reopen:  # due as the new report's words say
        fields.update(status="open", snoozed_until=None, due_at=spec.due_at)
    elif needs_action:  # never later than it was
        fields["due_at"] = min(existing.due_at, spec.due_at)
    ReviewFlag.objects.filter(pk=existing.pk).update(**fields)  # locked above: as we read it
    FlagReport.objects.create(flag=existing, report=report)
    existing.refresh_from_db()
    action = "flag.escalate" if escalate else "flag.reopen" if reopen else "flag.update"
    audit_record(actor=actor, action=action, obj=existing, detail={"rule": existing.rule, "reopened": reopen, **detail})
    if escalate or (needs_action and seen):
        notify_report_on_commit(existing.pk, report.pk)
    return existing


def _symptom_snap(report) -> SymptomSnap:
    # Local time: the reason names the time as the clinic reads it, and "same day" is its day.
    return SymptomSnap(
        reported_at=timezone.localtime(report.reported_at), triage=report.triage, symptoms=tuple(report.symptoms)
    )


def notify_report_on_commit(flag_id: int, report_id: int) -> None:
    """E-mail staff about this report on this flag once the transaction commits."""
    transaction.on_commit(lambda: tasks.dispatch(tasks.notify_flag, flag_id, report_id))


def notify_on_commit(flag_ids: list[int]) -> None:
    """Notify staff of these new or escalated flags once the transaction commits."""
    ids = list(flag_ids)
    transaction.on_commit(lambda: [tasks.dispatch(tasks.notify_flag, flag_id) for flag_id in ids])


def _enqueue_assess(patient_id: int) -> None:
    tasks.dispatch(tasks.assess_patient, patient_id)
