"""CHECKIN-MISSED (`patient_checkin`, routine): a moderate- or high-tier patient with a portal
login who has not answered the day-1 check-in 24 hours after it opened (risk/README.md,
"Watch windows and check-ins"). Raised by `checkins_reconcile` (hourly beat, set-based: a fixed
number of queries for every patient at once); resolved as completed by the answer itself, inside
the answer's transaction (`checkin_answered`), naming the report.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from infusions.models import Infusion
from infusions.watch import CHECKIN_LOOKBACK, checkin_answers_by_patient, given_by_patient
from itrs import watch
from ivigtrack.audit.models import AuditEvent
from ivigtrack.audit.services import audit_bulk, audit_record
from patients.models import Patient
from patients.site_info import zone_named
from risk.models import PRIORITY_RANK, UNRESOLVED, FlagKind, ReviewFlag, RiskAssessment

RULE = "CHECKIN-MISSED"
KIND = FlagKind.PATIENT_CHECKIN
ACTOR = "job:checkins"
MISSED_AFTER_HOURS = 24
ROUTINE_DUE = timedelta(days=1)


def _trigger(checkin: watch.Checkin) -> str:
    return f"checkin {checkin.key}"


def checkins_reconcile(now: datetime | None = None) -> dict:
    """Raise CHECKIN-MISSED where a day-1 check-in went unanswered for 24 h; lapse an open one
    whose check-in left its window unanswered (or whose patient no longer qualifies). Idempotent:
    the same check-in never raises twice (its trigger), and the partial unique constraint keeps
    one unresolved flag per patient and kind. Queries: at most 8, whatever the number of patients."""
    now = now or timezone.now()
    elevated = RiskAssessment.objects.filter(patient=OuterRef("pk"), is_current=True, tier__in=watch.ELEVATED_TIERS)
    recent = Infusion.objects.filter(
        patient=OuterRef("pk"), status=Infusion.Status.ADMINISTERED, started_at__gte=now - CHECKIN_LOOKBACK
    )
    candidates = set(
        Patient.objects.filter(active=True, user__isnull=False, user__is_active=True)
        .filter(Exists(elevated), Exists(recent))
        .values_list("pk", flat=True)
    )
    flags = list(
        ReviewFlag.objects.filter(kind=KIND)
        .filter(Q(status__in=UNRESOLVED) | Q(raised_at__gte=now - CHECKIN_LOOKBACK))
        .only("pk", "public_id", "patient_id", "status", "trigger")
    )
    open_by_patient = {f.patient_id: f for f in flags if f.status in UNRESOLVED}
    raised_triggers = {(f.patient_id, f.trigger) for f in flags}
    ids = candidates | set(open_by_patient)
    given = given_by_patient(ids, now)
    answers = checkin_answers_by_patient(ids, now)
    # each patient's home site and its zone: the flag carries the site, the days are its local days
    sites = {
        pid: (site_id, zone)
        for pid, site_id, zone in Patient.objects.filter(pk__in=ids).values_list("pk", "site_id", "site__time_zone")
    }
    new, lapse, audits = [], [], []
    for pid in sorted(ids):
        missed = None
        if pid in candidates:
            missed = watch.checkin_missed(
                given.get(pid, []), answers.get(pid, []), now, zone_named(sites[pid][1]), MISSED_AFTER_HOURS
            )
        existing = open_by_patient.get(pid)
        if missed is None:
            if existing is not None:
                lapse.append(existing)
            continue
        trigger = _trigger(missed)
        if existing is not None or (pid, trigger) in raised_triggers:
            continue
        opened = timezone.localtime(missed.opens_at)
        new.append(
            ReviewFlag(
                patient_id=pid,
                site_id=sites[pid][0],
                kind=KIND,
                rule=RULE,
                priority="routine",
                priority_rank=PRIORITY_RANK["routine"],
                reason=(
                    f"The day-1 check-in after the IVIG course of {_course_words(missed)} opened "
                    f"{opened:%Y-%m-%d %H:%M} and has not been answered {MISSED_AFTER_HOURS} hours later; "
                    "the patient's tier is moderate or high and venous events appear over days 0-14. "
                    "Contact the patient and ask how they are."
                ),
                evidence={
                    "checkin": missed.key,
                    "day": missed.day,
                    "opened_at": missed.opens_at.isoformat(),
                    "course": [missed.course_first_day.isoformat(), missed.course_last_day.isoformat()],
                },
                trigger=trigger,
                raised_at=now,
                due_at=now + ROUTINE_DUE,
            )
        )
    if new:
        ReviewFlag.objects.bulk_create(new, batch_size=1000, ignore_conflicts=True)
    ours = {f.public_id for f in new}
    created = [
        f
        for f in ReviewFlag.objects.filter(kind=KIND, raised_at=now, patient_id__in=[f.patient_id for f in new]).only(
            "pk", "public_id", "patient_id", "trigger"
        )
        if f.public_id in ours
    ]
    for flag in created:
        audits.append(_audit("flag.raise", flag, {"rule": RULE, "trigger": flag.trigger}))
    if lapse:
        note = (
            f"Lapsed: rule {RULE} no longer applies (the check-in's window ended, or the patient no longer "
            "has a portal login or a moderate or high tier) and no answer was recorded, so it does not count "
            f"as answered ({ACTOR}, {timezone.localtime(now):%Y-%m-%d %H:%M})."
        )
        ReviewFlag.objects.filter(pk__in=[f.pk for f in lapse], status__in=UNRESOLVED).update(
            status="resolved", resolution="lapsed", resolved_at=now, note=note
        )
        audits += [_audit("flag.resolve", f, {"resolution": "lapsed"}) for f in lapse]
    audit_bulk(audits)
    return {"raised": len(created), "lapsed": len(lapse)}


def checkin_answered(report, *, actor) -> ReviewFlag | None:
    """A check-in answer completes the patient's open CHECKIN-MISSED flag, naming the report.
    Called inside the answer's transaction."""
    if report.kind != "checkin":
        return None
    flag = (
        ReviewFlag.objects.select_for_update()
        .filter(patient_id=report.patient_id, kind=KIND, status__in=UNRESOLVED)
        .first()
    )
    if flag is None:
        return None
    when = timezone.localtime(report.reported_at)
    said = "I feel fine" if not report.symptoms else f"{report.triage} symptoms ({', '.join(report.symptoms)})"
    now = timezone.now()
    flag.status, flag.resolution, flag.resolved_at = "resolved", "completed", now
    flag.note = (
        f"Completed: the patient answered the check-in on {when:%Y-%m-%d %H:%M} ({said}; report "
        f"{report.public_id}), so rule {RULE} no longer applies."
    )
    flag.evidence = {
        **flag.evidence,
        "completed_by": [{"type": "symptom_report", "id": str(report.public_id), "at": report.reported_at.isoformat()}],
    }
    flag.save(update_fields=["status", "resolution", "resolved_at", "note", "evidence"])
    audit_record(
        actor=actor,
        action="flag.resolve",
        obj=flag,
        detail={"rule": RULE, "resolution": "completed", "report": str(report.public_id)},
    )
    return flag


def _course_words(checkin: watch.Checkin) -> str:
    first, last = checkin.course_first_day, checkin.course_last_day
    return first.isoformat() if first == last else f"{first.isoformat()} to {last.isoformat()}"


def _audit(action: str, flag: ReviewFlag, detail: dict) -> AuditEvent:
    return AuditEvent(
        actor=None,
        actor_label=ACTOR,
        action=action,
        patient_id=flag.patient_id,
        object_type="risk.reviewflag",
        object_id=str(flag.public_id),
        detail={"kind": KIND, **detail},
    )
