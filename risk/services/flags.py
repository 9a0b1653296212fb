"""Review flags: reconcile what the rules want with the stored flags (the sweep's half), the
lifecycle staff drive (acknowledge, snooze, un-snooze, resolve: compare-and-set, so two clicks at
once give one winner and a clear message), and symptom flags raised inside the report's transaction.

What to raise and how to close are `itrs.review`'s judgement (`review.decide`: specs, and a
completed or lapsed `Closure` per flag no longer wanted); this module only writes them. A
clinician's "not indicated" or "declined" sets `suppressed_until`, which the rules read back
through `risk.histories` (DESIGN §6a).

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
from ivigtrack import bulk, dates
from ivigtrack.audit.models import AuditEvent
from ivigtrack.audit.services import audit_bulk, audit_event, audit_record
from patients.models import Patient
from risk import tasks
from risk.histories import OpenFlag
from risk.models import DECISIONS, PRIORITY_RANK, STAFF_RESOLUTIONS, UNRESOLVED, FlagKind, FlagReport, ReviewFlag
from risk.review_settings import review_settings
from risk.services.outcome import ChunkOutcome
from risk.watch import watch_context

# Kinds the review rules own. symptom_alert flags are raised by a report and closed by a person.
RULE_KINDS = {
    FlagKind.HEMATOLOGY_REVIEW,
    FlagKind.CLOTTING_STUDIES,
    FlagKind.VISCOSITY_CHECK,
    FlagKind.PRE_IVIG_LABS,
    FlagKind.RENAL_CHECK,
    FlagKind.DATA_QUALITY,
}


class FlagConflict(Exception):
    """Someone else changed the flag first (two staff clicking at once)."""


class FlagPermissionDenied(PermissionError):
    """This role may not make this change to a flag (views map it to 403)."""


def flags_reconcile(
    desired, open_flags, now, outcome: ChunkOutcome, actor_label: str, closures=None, *, actor_id: int | None = None
) -> None:
    """Write what the rules decided: ``desired`` {pid: [FlagSpec]} and ``closures`` {pid:
    [Closure]} (`review.decide`) against the unresolved ``open_flags`` {(pid, kind): flag}."""
    to_create: list[dict] = []  # the new flags' fields
    audits: list[dict] = []  # the audit rows' fields
    closures = closures or {}
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
                        "trigger": spec.trigger,
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
            else:
                audits.extend(_refresh(existing, spec, now, actor_label))
        closing = {closure.kind: closure for closure in closures.get(pid, ())}
        for kind in RULE_KINDS - set(wanted):
            existing = open_flags.get((pid, kind))
            if existing is None:
                continue
            closure = closing.get(kind) or review.lapsed(kind, existing.rule, now)
            won = ReviewFlag.objects.filter(pk=existing.pk, status__in=UNRESOLVED).update(
                status="resolved", resolution=closure.resolution, resolved_at=now, resolved_by=None, note=closure.note
            )
            if won:
                outcome.flags_resolved += 1
                detail = {"rule": existing.rule, "resolution": closure.resolution, "note": closure.note}
                audits.append(_job_audit("flag.resolve", existing, actor_label, {**detail, **closure.evidence}))
    if to_create:
        created = _create_flags(to_create, now)
        outcome.flags_raised += len(created)
        for flag in created:
            audits.append(_job_audit("flag.raise", flag, actor_label, {"rule": flag.rule, "priority": flag.priority}))
            if flag.priority in ("emergency", "urgent"):
                outcome.notify.append(flag.pk)
    if audits:
        if actor_id is not None:  # a staff "assess now": the changes are that person's
            for values in audits:
                values["actor_id"] = actor_id
        # ``at`` is when the row is written, not the instant the chunk assessed (``now``).
        if bulk.use_copy(audits):
            bulk.copy_values(AuditEvent, audits, timezone.now())
        else:
            audit_bulk([AuditEvent(**values) for values in audits])


def _refresh(existing, spec, now, actor_label: str) -> list[dict]:
    """An unresolved flag whose kind still holds at the same or a lower priority: end a snooze
    whose time is up, and make the flag say what holds now. Rule and priority always move
    together (DESIGN §6: the flag carries the first rule of its kind that holds, with that rule's
    priority): when the urgent rule no longer holds, the flag is de-escalated to the rule that
    does, with its priority and due time, and the change is audited. Returns audit rows."""
    audits = []
    if existing.status == "snoozed" and existing.snoozed_until and existing.snoozed_until <= now:
        if ReviewFlag.objects.filter(pk=existing.pk, status="snoozed").update(
            status="open", snoozed_until=None, snooze_reason=""
        ):
            audits.append(_job_audit("flag.unsnooze", existing, actor_label, {"reason": "snooze ended"}))
    says = {"rule": spec.rule, "reason": spec.reason, "evidence": spec.evidence, "trigger": spec.trigger}
    rank = PRIORITY_RANK[spec.priority]
    if rank > existing.priority_rank:
        if ReviewFlag.objects.filter(pk=existing.pk, status__in=UNRESOLVED, priority_rank__lt=rank).update(
            **says, priority=spec.priority, priority_rank=rank, due_at=spec.due_at
        ):
            detail = {"rule": spec.rule, "priority": spec.priority, "from_rule": existing.rule}
            audits.append(_job_audit("flag.deescalate", existing, actor_label, {**detail, "from": existing.priority}))
    elif spec.rule != existing.rule or spec.reason != existing.reason or spec.trigger != existing.trigger:
        ReviewFlag.objects.filter(pk=existing.pk, status__in=UNRESOLVED).update(**says)
    return audits


def _create_flags(flags: list[dict], now) -> list:
    """Insert new flags, skipping any (patient, kind) that another sweep raised meanwhile: the
    partial unique constraint keeps one. Returns the flags this call created, in ReviewFlag's
    default order. Each flag carries its patient's home site (one query for the chunk)."""
    sites = dict(Patient.objects.filter(pk__in={f["patient_id"] for f in flags}).values_list("pk", "site_id"))
    flags = [{**values, "site_id": sites[values["patient_id"]]} for values in flags]
    if connection.vendor == "postgresql":
        rows = bulk.insert_ignoring_conflicts(
            ReviewFlag,
            flags,
            now,
            returning=("id", "public_id", "patient_id", "kind", "rule", "priority", "priority_rank", "due_at"),
        )
        rows.sort(key=lambda row: (row[6], row[7], row[0]))
        return [
            OpenFlag(pk, public_id, pid, kind, rule, priority, rank, "open", None, "", raised_at=now)
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
            trigger=spec.trigger,
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
        current = ReviewFlag.objects.select_related("resolved_by", "acknowledged_by").get(pk=flag.pk)
        raise FlagConflict(f"This flag was already {_who_and_when(current)}; the page has been refreshed.")
    flag.refresh_from_db()
    return flag


def _who_and_when(flag: ReviewFlag) -> str:
    """What a second clinician on a stale page is told, e.g. "resolved by carol at 14:05" (local time)."""
    if flag.status == "resolved":
        who = flag.resolved_by.get_username() if flag.resolved_by else "the review sweep"
        return f"resolved by {who} at {timezone.localtime(flag.resolved_at):%H:%M}"
    if flag.status == "acknowledged" and flag.acknowledged_by:
        at = timezone.localtime(flag.acknowledged_at)
        return f"acknowledged by {flag.acknowledged_by.get_username()} at {at:%H:%M}"
    if flag.status == "snoozed" and flag.snoozed_until:
        return f"snoozed until {dates.format_datetime(timezone.localtime(flag.snoozed_until))}"
    return flag.status


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


# A bulk acknowledge covers what one person can have ticked on a worklist: a few pages at most.
BULK_ACKNOWLEDGE_MAX = 200


@transaction.atomic
def flags_acknowledge_many(*, flags, actor, note: str = "") -> tuple[list[ReviewFlag], list[ReviewFlag]]:
    """Acknowledge every open flag of ``flags`` (a queryset the caller has scoped to what the
    actor may see) in one transaction, one audit row per flag. Flags someone else changed first
    (acknowledged, snoozed, resolved) are left as they are and returned as skipped.

    Returns (acknowledged, skipped)."""
    _require_staff(actor)
    chosen = list(flags.select_for_update(of=("self",)).order_by("id")[: BULK_ACKNOWLEDGE_MAX + 1])
    if len(chosen) > BULK_ACKNOWLEDGE_MAX:
        raise ValidationError(f"At most {BULK_ACKNOWLEDGE_MAX} flags at once.", code="too_many")
    done = [flag for flag in chosen if flag.status == "open"]
    skipped = [flag for flag in chosen if flag.status != "open"]
    now = timezone.now()
    changes = {"status": "acknowledged", "acknowledged_by": actor, "acknowledged_at": now}
    if note:
        changes["note"] = note
    ReviewFlag.objects.filter(pk__in=[flag.pk for flag in done]).update(**changes)
    audit_bulk(
        [
            audit_event(actor=actor, action="flag.acknowledge", obj=flag, detail={"note": note, "bulk": len(done)})
            for flag in done
        ]
    )
    for flag in done:
        for name, value in changes.items():
            setattr(flag, name, value)
    return done, skipped


@transaction.atomic
def flag_snooze(
    *, flag: ReviewFlag, actor, until: datetime, reason: str = "", past_due_ok: bool = False, note: str = ""
) -> ReviewFlag:
    """Hide the flag until ``until``: a reason is required (``note`` is read as the reason when
    ``reason`` is empty, as v1 clients send it), at most ``snooze_max_days``, never for an
    emergency, and past the flag's due time only when ``past_due_ok`` (recorded in the audit)."""
    require_clinician(actor, "snooze")
    now = timezone.now()
    max_days = review_settings().snooze_max_days
    reason = (reason or note).strip()
    if until is None or until <= now:
        raise ValidationError({"until": ["Snooze until a time in the future."]})
    if until > now + timedelta(days=max_days):
        raise ValidationError({"until": [f"Snooze for at most {max_days} days."]})
    if flag.priority == "emergency":
        raise ValidationError({"until": [EMERGENCY_NOT_SNOOZED]})
    if not reason:
        raise ValidationError({"reason": ["Say why the flag is snoozed."]})
    if flag.due_at and until > flag.due_at and not past_due_ok:
        due = timezone.localtime(flag.due_at)
        raise ValidationError(
            {
                "until": [
                    f"This flag is due {due:%d %b %Y %H:%M %Z}; snoozing it until later needs the "
                    "confirmation that you mean it (past_due_ok)."
                ]
            }
        )
    flag = _claim(
        flag, ("open", "acknowledged"), status="snoozed", snoozed_until=until, snooze_reason=reason, note=reason
    )
    detail = {"until": until.isoformat(), "reason": reason, "past_due_ok": bool(past_due_ok and until > flag.due_at)}
    audit_record(actor=actor, action="flag.snooze", obj=flag, detail=detail)
    return flag


@transaction.atomic
def flag_unsnooze(*, flag: ReviewFlag, actor) -> ReviewFlag:
    """Bring a snoozed flag back now (clinicians; compare-and-set like the other actions)."""
    require_clinician(actor, "un-snooze")
    before = flag.snoozed_until
    flag = _claim(flag, ("snoozed",), status="open", snoozed_until=None, snooze_reason="")
    detail = {"snoozed_until": before.isoformat() if before else None}
    audit_record(actor=actor, action="flag.unsnooze", obj=flag, detail=detail)
    return flag


NEEDS_REVIEW = (
    "Completing a haematology review flag needs the haematology review it records: record the review "
    "(what was decided about anticoagulation, IVIG and thrombophilia testing) and give its id as `review`."
)


@transaction.atomic
def flag_resolve(*, flag: ReviewFlag, actor, resolution: str, note: str = "", review=None) -> ReviewFlag:
    """Close the flag. "Not indicated" and "declined" need a note and keep the same rule quiet
    for ``suppress_days`` unless something new or worse happens (the sweep's rules decide). A
    hematology_review flag is completed only by a recorded HaematologyReview (``review``), which
    the completion names."""
    require_clinician(actor, "resolve")
    allowed = [value for value, _ in STAFF_RESOLUTIONS]
    if resolution not in allowed:
        raise ValidationError({"resolution": [f"Choose one of: {', '.join(allowed)}."]})
    note = note.strip()
    if resolution in DECISIONS and not note:
        raise ValidationError({"note": ["Say why: a note is required for not indicated and declined."]})
    if review is not None:
        _check_review(flag, review, resolution)
    elif resolution == "completed" and flag.kind == FlagKind.HEMATOLOGY_REVIEW:
        raise ValidationError({"review": [NEEDS_REVIEW]})
    if review is not None:
        note = completion_note(review, note)
    now = timezone.now()
    until = None
    if resolution in DECISIONS and flag.kind in RULE_KINDS:
        until = now + timedelta(days=review_settings().suppress_days)
    flag = _claim(
        flag,
        UNRESOLVED,
        status="resolved",
        resolution=resolution,
        resolved_by=actor,
        resolved_at=now,
        note=note or F("note"),
        suppressed_until=until,
    )
    detail = {"resolution": resolution, "note": note}
    if review is not None:
        # The flag names the review that completed it; the review points back at the flag.
        type(review).objects.filter(pk=review.pk, flag__isnull=True).update(flag=flag)
        detail["completed_by"] = [{"haematology_review": str(review.public_id), "reviewed_on": str(review.reviewed_on)}]
    if until is not None:
        detail["suppressed_until"] = until.isoformat()
    audit_record(actor=actor, action="flag.resolve", obj=flag, detail=detail)
    transaction.on_commit(lambda: _enqueue_assess(flag.patient_id))
    return flag


def completion_note(review, note: str = "") -> str:
    """How a flag completed by a review says so: the review it names, and what it decided."""
    words = (
        f"Completed by the haematology review of {review.reviewed_on.isoformat()} ({review.reviewer_label}): "
        f"anticoagulation: {review.get_anticoagulation_plan_display()}; "
        f"IVIG: {review.get_ivig_plan_display()}; "
        f"thrombophilia testing: {review.get_thrombophilia_testing_display()}"
    )
    if review.next_review_on:
        words += f"; next review by {review.next_review_on.isoformat()}"
    words += "."
    return f"{words} {note}".strip() if note and note not in words else words


def _check_review(flag: ReviewFlag, review, resolution: str) -> None:
    if flag.kind != FlagKind.HEMATOLOGY_REVIEW:
        raise ValidationError({"review": ["Only a haematology review flag is completed by a haematology review."]})
    if resolution != "completed":
        raise ValidationError({"review": ["A haematology review completes the flag: choose completed."]})
    if review.patient_id != flag.patient_id:
        raise ValidationError({"review": ["This haematology review belongs to another patient."]})
    if review.flag_id is not None and review.flag_id != flag.pk:
        raise ValidationError({"review": ["This haematology review has completed another flag already."]})


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


def symptom_flag_raise(report, *, actor, linked: bool = False) -> ReviewFlag | None:
    """Called by the symptom service inside the report's transaction: the report raises the
    patient's symptom_alert flag or joins the unresolved one (docs/review-rules.md, symptom alerts).

    Every report on the flag is in its reason, newest first; the most urgent decides its priority,
    so a milder report never lowers it or replaces what it says. An urgent or emergency report
    re-opens an acknowledged or snoozed flag. E-mail, once per report: the report that raises or
    escalates the flag, and every urgent or emergency report after someone acknowledged (or
    snoozed) it; one that joins a flag nobody has acknowledged yet is in the reason they will read.

    ``linked``: the report is already on the patient's unresolved flag (an edit raised its triage,
    `symptom_flag_after_edit`): the flag is worked out again as if it had just arrived.
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
    others = existing.reports.exclude(pk=report.pk).order_by("-reported_at", "-id") if existing else ()
    on_flag = [report, *others]
    tier, starts = watch_context(report.patient_id, report.reported_at)
    spec = review.symptom_flag(
        [_symptom_snap(r) for r in on_flag],
        review_settings(),
        tier=tier,
        infusion_starts=starts,
        zone=timezone.get_current_timezone(),
    )
    if spec is None:  # routine, and no alert to join (or one no urgent report is on: an old row)
        if existing is not None and not linked:
            FlagReport.objects.create(flag=existing, report=report)
        return existing
    now = timezone.now()
    rank = PRIORITY_RANK[spec.priority]
    evidence = {**spec.evidence, "report": str(report.public_id)}
    detail = {"report": str(report.public_id), "triage": report.triage}
    if existing is None:
        flag = ReviewFlag.objects.create(
            patient_id=report.patient_id,
            site_id=report.patient.site_id,
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
    if not linked:
        FlagReport.objects.create(flag=existing, report=report)
    existing.refresh_from_db()
    action = "flag.escalate" if escalate else "flag.reopen" if reopen else "flag.update"
    audit_record(actor=actor, action=action, obj=existing, detail={"rule": existing.rule, "reopened": reopen, **detail})
    if escalate or (needs_action and seen):
        notify_report_on_commit(existing.pk, report.pk)
    return existing


def symptom_flag_after_edit(report, *, previous_triage: str, actor) -> ReviewFlag | None:
    """An edit raised the report's triage: it acts as a new report of that triage would, at once.
    On the unresolved flag already, the flag is worked out again (escalated, re-opened, e-mailed
    as the lifecycle says); on a resolved one, or on none, it raises or joins the open alert
    (its link moves: a report is on one flag)."""
    link = FlagReport.objects.select_related("flag").filter(report=report).first()
    if link is not None and link.flag.status in UNRESOLVED:
        return symptom_flag_raise(report, actor=actor, linked=True)
    if link is not None:
        audit_record(
            actor=actor,
            action="flag.report_moved",
            obj=link.flag,
            detail={"report": str(report.public_id), "triage": [previous_triage, report.triage]},
        )
        link.delete()
    return symptom_flag_raise(report, actor=actor)


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
