"""Assessment and review-flag services: the only code that writes RiskAssessment and ReviewFlag.

`process_patients` is the one path for a single patient after a write and for each chunk of
the sweep: load snapshots (fixed number of queries), score, write changed assessments in
bulk, reconcile flags idempotently. The partial unique constraint on unresolved flags is the
final guard when two sweeps overlap or a task is delivered twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from infusions.models import Infusion
from ivigtrack.audit.models import AuditEvent
from ivigtrack.audit.services import audit_bulk, audit_record
from patients.models import Patient

from . import engine, review
from .models import (
    PRIORITY_RANK,
    TIER_RANK,
    UNRESOLVED,
    FlagKind,
    InfusionRisk,
    ReviewFlag,
    RiskAssessment,
    SweepRun,
)
from .snapshot import load_histories, load_snapshots
from .types import PatientSnapshot, RiskResult

log = logging.getLogger(__name__)
JOB = "job:sweep"

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


def review_settings() -> review.ReviewSettings:
    return review.ReviewSettings(**getattr(settings, "IVIGTRACK_REVIEW", {}))


# --- assessment ------------------------------------------------------------------------------


def fingerprint(result: RiskResult) -> str:
    data = result.as_dict()
    data.pop("as_of", None)
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def snapshot_inputs(snapshot: PatientSnapshot) -> dict:
    """The snapshot as JSON, stored with each assessment so every score is reproducible."""
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(snapshot), default=str))


def assess_at(patient: Patient, as_of: datetime) -> RiskResult:
    """The result at an instant, computed and not stored (API `risk/?as_of=`)."""
    snapshot = load_snapshots([patient.pk], as_of)[patient.pk]
    return engine.assess(snapshot, as_of)


def _new_assessment(pid: int, result: RiskResult, snapshot, now, previous: dict | None) -> RiskAssessment:
    prev_rank = TIER_RANK.get((previous or {}).get("tier"), -1)
    rose = TIER_RANK[result.tier] > prev_rank
    return RiskAssessment(
        patient_id=pid,
        assessed_at=now,
        as_of=result.as_of,
        ruleset=result.ruleset,
        score=result.score,
        tier=result.tier,
        provisional=result.provisional,
        missing=list(result.missing),
        components=dict(result.components),
        factors=[f.as_dict() for f in result.factors],
        overrides=[dict(o) for o in result.overrides],
        recommendations=[dict(r) for r in result.recommendations],
        notes=list(result.notes),
        secondary=json.loads(json.dumps(result.secondary, default=str)),
        dic_score=result.dic_score,
        inputs=snapshot_inputs(snapshot),
        fingerprint=fingerprint(result),
        tier_rose_at=now if rose else (previous or {}).get("tier_rose_at"),
        is_current=True,
    )


@dataclass
class ChunkOutcome:
    patients: int = 0
    assessments_changed: int = 0
    flags_raised: int = 0
    flags_escalated: int = 0
    flags_resolved: int = 0
    errors: int = 0
    error_detail: list = field(default_factory=list)
    notify: list = field(default_factory=list)  # flag ids to notify at once

    def add(self, other: ChunkOutcome) -> None:
        for name in ("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_detail.extend(other.error_detail)
        self.notify.extend(other.notify)


def process_patients(patient_ids: list[int], *, as_of: datetime | None = None, actor_label: str = JOB) -> ChunkOutcome:
    """Assess and reconcile a chunk of patients in one transaction. Idempotent."""
    now = as_of or timezone.now()
    outcome = ChunkOutcome()
    snapshots = load_snapshots(patient_ids, now)
    rules_settings = review_settings()

    with transaction.atomic():
        # Lock the chunk's patients (in id order, so two sweeps cannot deadlock) and read their
        # current assessment and flags under the lock: two workers on the same patients queue
        # here instead of both writing a "current" assessment.
        list(Patient.objects.select_for_update().filter(pk__in=patient_ids).order_by("pk").values_list("pk", flat=True))
        histories, current, open_flags = load_histories(patient_ids)
        results: dict[int, RiskResult] = {}
        desired: dict[int, list] = {}
        for pid, snapshot in snapshots.items():
            try:
                result = engine.assess(snapshot, now)
                desired[pid] = review.evaluate(snapshot, result, histories[pid], now, rules_settings)
                results[pid] = result
            except Exception as exc:  # one patient's bad data must not stop the sweep
                log.exception("risk: patient %s skipped", pid)
                outcome.errors += 1
                outcome.error_detail.append({"patient_id": pid, "error": f"{type(exc).__name__}: {exc}"[:300]})
        outcome.patients = len(results)
        _write_assessments(results, snapshots, current, now, outcome)
        _reconcile_flags(desired, open_flags, now, outcome, actor_label)
        _record_infusion_risk(patient_ids, snapshots, now)
    if outcome.notify:
        ids = list(outcome.notify)
        transaction.on_commit(lambda: _enqueue_notifications(ids))
    return outcome


def _write_assessments(results, snapshots, current, now, outcome: ChunkOutcome) -> None:
    changed = []
    for pid, result in results.items():
        previous = current.get(pid)
        if previous and previous["fingerprint"] == fingerprint(result):
            continue
        changed.append(_new_assessment(pid, result, snapshots[pid], now, previous))
    if not changed:
        return
    RiskAssessment.objects.filter(patient_id__in=[a.patient_id for a in changed], is_current=True).update(
        is_current=False
    )
    RiskAssessment.objects.bulk_create(changed, batch_size=1000)
    outcome.assessments_changed += len(changed)


def _reconcile_flags(desired, open_flags, now, outcome: ChunkOutcome, actor_label: str) -> None:
    to_create: list[ReviewFlag] = []
    audits: list[AuditEvent] = []
    for pid, specs in desired.items():
        wanted = {spec.kind: spec for spec in specs}
        for spec in specs:
            existing = open_flags.get((pid, spec.kind))
            if existing is None:
                to_create.append(
                    ReviewFlag(
                        patient_id=pid,
                        kind=spec.kind,
                        rule=spec.rule,
                        priority=spec.priority,
                        priority_rank=PRIORITY_RANK[spec.priority],
                        reason=spec.reason,
                        evidence=spec.evidence,
                        raised_at=now,
                        due_at=spec.due_at,
                    )
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
        # ignore_conflicts: if another sweep raised the same flag meanwhile, the partial unique
        # constraint keeps one. Our own rows are found again by their exact raised_at.
        ReviewFlag.objects.bulk_create(to_create, batch_size=1000, ignore_conflicts=True)
        created = list(
            ReviewFlag.objects.filter(
                patient_id__in={f.patient_id for f in to_create}, raised_at=now, status="open"
            ).only("id", "public_id", "patient_id", "kind", "rule", "priority")
        )
        outcome.flags_raised += len(created)
        for flag in created:
            audits.append(_job_audit("flag.raise", flag, actor_label, {"rule": flag.rule, "priority": flag.priority}))
            if flag.priority in ("emergency", "urgent"):
                outcome.notify.append(flag.pk)
    if audits:
        audit_bulk(audits)


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


def _job_audit(action: str, flag: ReviewFlag, actor_label: str, detail: dict) -> AuditEvent:
    return AuditEvent(
        actor=None,
        actor_label=actor_label,
        action=action,
        patient_id=flag.patient_id,
        object_type="risk.reviewflag",
        object_id=str(flag.public_id),
        detail={"kind": flag.kind, **detail},
    )


INFUSION_RISK_WINDOW = timedelta(days=30)


def _record_infusion_risk(patient_ids, snapshots, now) -> None:
    """Per-infusion risk: the assessment as of each recent administered infusion's start, once.

    Recorded when the infusion is written (the on-commit assessment) or by the next sweep;
    older history imported in bulk is not back-filled.
    """
    missing = list(
        Infusion.objects.filter(
            patient_id__in=patient_ids,
            status="administered",
            started_at__lte=now,
            started_at__gte=now - INFUSION_RISK_WINDOW,
            risk__isnull=True,
        ).values_list("id", "patient_id", "started_at")
    )
    rows = []
    for iid, pid, started in missing:
        if pid not in snapshots:
            continue
        result = engine.assess(_snapshot_at(pid, started, snapshots), started)
        rows.append(
            InfusionRisk(
                infusion_id=iid,
                as_of=started,
                ruleset=result.ruleset,
                score=result.score,
                tier=result.tier,
                provisional=result.provisional,
                factors=[f.as_dict() for f in result.factors],
            )
        )
    if rows:
        InfusionRisk.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


def _snapshot_at(pid: int, at: datetime, snapshots) -> PatientSnapshot:
    """The snapshot as of an earlier instant, derived from the loaded one when it covers it."""
    from dataclasses import replace

    snap = snapshots[pid]
    return replace(
        snap,
        infusions=tuple(i for i in snap.infusions if i.started_at <= at),
        labs=tuple(lab for lab in snap.labs if lab.collected_at <= at),
        symptom_reports=tuple(s for s in snap.symptom_reports if s.reported_at <= at),
    )


def patient_assess(patient: Patient | int, as_of: datetime | None = None, *, actor=None) -> RiskAssessment | None:
    """Assess one patient now (after a write, or on request) and reconcile their flags."""
    pid = patient if isinstance(patient, int) else patient.pk
    label = getattr(actor, "username", None) or JOB
    process_patients([pid], as_of=as_of, actor_label=label)
    return RiskAssessment.objects.filter(patient_id=pid, is_current=True).first()


# --- sweep -------------------------------------------------------------------------------


def sweep_patient_ids(*, full: bool, now: datetime) -> list[int]:
    """Active patients to sweep. The hourly pass takes those whose state moves with time soon:
    unresolved flags (snoozes end, rules lapse) and patients inside an infusion watch window or
    starting a course; the nightly pass takes everyone active."""
    patients = Patient.objects.filter(active=True)
    if not full:
        from django.db.models import Exists, OuterRef, Q

        from infusions.models import Regimen

        patients = patients.filter(
            Exists(ReviewFlag.objects.filter(patient=OuterRef("pk"), status__in=UNRESOLVED))
            | Exists(Infusion.objects.filter(patient=OuterRef("pk"), started_at__gte=now - timedelta(days=15)))
            | Exists(
                Regimen.objects.filter(patient=OuterRef("pk"), start_date__lte=(now + timedelta(days=2)).date()).filter(
                    Q(end_date__isnull=True) | Q(end_date__gte=now.date())
                )
            )
        )
    return list(patients.order_by("id").values_list("id", flat=True))


def chunked(ids: list[int], size: int) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def sweep_start(
    *, full: bool = True, trigger: str = "beat", now: datetime | None = None
) -> tuple[SweepRun, list[list[int]]]:
    now = now or timezone.now()
    ids = sweep_patient_ids(full=full, now=now)
    chunks = chunked(ids, settings.IVIGTRACK_SWEEP_CHUNK)
    run = SweepRun.objects.create(started_at=now, trigger=trigger, full=full, chunks_total=len(chunks))
    if not chunks:
        SweepRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())
        run.refresh_from_db()
    return run, chunks


def sweep_chunk(run_id: int, patient_ids: list[int], *, as_of: datetime | None = None) -> ChunkOutcome:
    """One chunk of a sweep; counters are added to the run with F() so chunks may run anywhere."""
    outcome = process_patients(patient_ids, as_of=as_of)
    SweepRun.objects.filter(pk=run_id).update(
        chunks_done=F("chunks_done") + 1,
        patients=F("patients") + outcome.patients,
        assessments_changed=F("assessments_changed") + outcome.assessments_changed,
        flags_raised=F("flags_raised") + outcome.flags_raised,
        flags_escalated=F("flags_escalated") + outcome.flags_escalated,
        flags_resolved=F("flags_resolved") + outcome.flags_resolved,
        errors=F("errors") + outcome.errors,
    )
    if outcome.error_detail:
        run = SweepRun.objects.get(pk=run_id)
        SweepRun.objects.filter(pk=run_id).update(error_detail=(run.error_detail + outcome.error_detail)[-100:])
    SweepRun.objects.filter(pk=run_id, finished_at__isnull=True, chunks_done__gte=F("chunks_total")).update(
        finished_at=timezone.now()
    )
    return outcome


def sweep_inline(*, full: bool = True, trigger: str = "command", progress=None) -> SweepRun:
    """The whole sweep in this process, without a broker (management command, tests)."""
    run, chunks = sweep_start(full=full, trigger=trigger)
    for chunk in chunks:
        sweep_chunk(run.pk, chunk, as_of=run.started_at)
        if progress is not None:
            progress(len(chunk))
    run.refresh_from_db()
    return run


# --- flag lifecycle (staff) ---------------------------------------------------------------


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
    _require_staff(actor)
    now = timezone.now()
    if until is None or until <= now:
        raise ValidationError({"until": ["Snooze until a time in the future."]})
    if until > now + timedelta(days=180):
        raise ValidationError({"until": ["Snooze for at most 180 days."]})
    if flag.priority == "emergency":
        raise ValidationError({"until": ["Emergency flags cannot be snoozed."]})
    flag = _claim(flag, ("open", "acknowledged"), status="snoozed", snoozed_until=until, note=note or F("note"))
    audit_record(actor=actor, action="flag.snooze", obj=flag, detail={"until": until.isoformat(), "note": note})
    return flag


@transaction.atomic
def flag_resolve(*, flag: ReviewFlag, actor, resolution: str, note: str = "") -> ReviewFlag:
    _require_staff(actor)
    if resolution not in ReviewFlag.Resolution.values:
        raise ValidationError({"resolution": [f"Choose one of: {', '.join(ReviewFlag.Resolution.values)}."]})
    if not getattr(actor, "is_clinician", False) and flag.kind == FlagKind.HEMATOLOGY_REVIEW:
        raise ValidationError({"resolution": ["Only a clinician can close a haematology review."]})
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


def _require_staff(actor) -> None:
    if not getattr(actor, "is_clinical_staff", False):
        raise ValidationError({"__all__": ["Only clinic staff can change flags."]})


# --- symptom reports ------------------------------------------------------------------------


def symptom_flag_raise(report, *, actor) -> ReviewFlag | None:
    """Called by the symptom service inside its transaction: raise or escalate at once."""
    spec = review.symptom_flag(report.triage, list(report.symptoms), report.reported_at)
    if spec is None:
        return None
    now = timezone.now()
    rank = PRIORITY_RANK[spec.priority]
    existing = (
        ReviewFlag.objects.select_for_update()
        .filter(patient_id=report.patient_id, kind=spec.kind, status__in=UNRESOLVED)
        .first()
    )
    evidence = {**spec.evidence, "report": str(report.public_id)}
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
        audit_record(actor=actor, action="flag.raise", obj=flag, detail={"rule": flag.rule, "priority": flag.priority})
    else:
        flag = existing
        fields = {"reason": spec.reason, "evidence": evidence, "status": "open", "snoozed_until": None}
        if rank < existing.priority_rank:
            fields.update(
                rule=spec.rule, priority=spec.priority, priority_rank=rank, due_at=spec.due_at, escalated_at=now
            )
        ReviewFlag.objects.filter(pk=existing.pk).update(**fields)
        flag.refresh_from_db()
        audit_record(
            actor=actor,
            action="flag.escalate" if rank < existing.priority_rank else "flag.update",
            obj=flag,
            detail={"rule": flag.rule},
        )
    flag_id = flag.pk
    transaction.on_commit(lambda: _enqueue_notifications([flag_id]))
    return flag


# --- task hand-off ---------------------------------------------------------------------------


def _enqueue_notifications(flag_ids: list[int]) -> None:
    from . import tasks

    for flag_id in flag_ids:
        tasks.dispatch(tasks.notify_flag, flag_id)


def _enqueue_assess(patient_id: int) -> None:
    from . import tasks

    tasks.dispatch(tasks.assess_patient, patient_id)
