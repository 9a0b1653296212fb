"""Assessment: score patients and store what changed. The one path for a single patient after a
write (`patient_assess`) and for each chunk of the sweep (`process_patients`).

1. Load the chunk's snapshots (a fixed number of queries, whatever the chunk's size).
2. Lock the chunk's patients in id order, then read their current assessments and open flags.
3. Score each patient with `itrs.engine` and ask `itrs.review` which flags they need.
4. Write only the assessments whose result changed (COPY for a chunk, the ORM for one patient),
   reconcile the flags (`risk.services.flags`) and record each new infusion's risk.

One patient's bad data is logged and skipped; it never stops the chunk.
"""

from __future__ import annotations

import dataclasses
import gc
import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import fields, is_dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from itrs import engine, review
from itrs.types import PatientSnapshot, RiskResult
from ivigtrack import bulk
from patients.models import Patient
from risk.histories import load_histories
from risk.models import TIER_RANK, InfusionRisk, RiskAssessment
from risk.review_settings import review_settings
from risk.services import flags
from risk.services.outcome import ChunkOutcome
from risk.snapshot import load_chunk, load_snapshots

log = logging.getLogger(__name__)

JOB = "job:sweep"


def assess_at(patient: Patient, as_of: datetime) -> RiskResult:
    """The result at an instant, computed and not stored (API `risk/?as_of=`)."""
    snapshot = load_snapshots([patient.pk], as_of)[patient.pk]
    return engine.assess(snapshot, as_of)


def process_patients(
    patient_ids: list[int],
    *,
    as_of: datetime | None = None,
    actor_label: str = JOB,
    actor_id: int | None = None,
    rescore_infusions: bool = False,
) -> ChunkOutcome:
    """Assess and reconcile a chunk of patients in one transaction. Idempotent.

    Queries do not grow with the chunk: on PostgreSQL one statement reads the snapshots (and the
    infusions whose risk is not recorded yet), one locks the patients, one reads their current
    assessments and flags; then only what changed is written, in bulk.
    """
    with _gc_paused(len(patient_ids) >= bulk.COPY_FROM_ROWS):
        outcome = _process(patient_ids, as_of or timezone.now(), actor_label, actor_id, rescore_infusions)
    if outcome.notify:
        flags.notify_on_commit(outcome.notify)
    return outcome


@contextmanager
def _gc_paused(pause: bool):
    """No cyclic garbage collection while a chunk runs: it builds a few hundred thousand
    short-lived acyclic objects, which reference counting frees, and the collector's passes
    over them are wasted. Collection resumes after the chunk.

    Performance trick (bench/tricks.py, bench/README.md): without it a first pass takes 12%
    longer (3,000 patients: 2.55 -> 2.86 s)."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _process(
    patient_ids: list[int],
    now: datetime,
    actor_label: str,
    actor_id: int | None = None,
    rescore_infusions: bool = False,
) -> ChunkOutcome:
    outcome = ChunkOutcome()
    snapshots, unscored = load_chunk(patient_ids, now, risk_window=INFUSION_RISK_WINDOW)
    rules_settings = review_settings()

    with transaction.atomic():
        # Lock the chunk's patients (in id order, so two sweeps cannot deadlock) and read their
        # current assessment and flags under the lock: two workers on the same patients queue
        # here instead of both writing a "current" assessment.
        _lock_patients(patient_ids)
        histories, current, open_flags = load_histories(patient_ids)
        results: dict[int, RiskResult] = {}
        desired: dict[int, list] = {}
        closures: dict[int, list] = {}
        for pid, snapshot in snapshots.items():
            try:
                result = engine.assess(snapshot, now)
                desired[pid], closures[pid] = review.decide(snapshot, result, histories[pid], now, rules_settings)
                results[pid] = result
            except Exception as exc:  # one patient's bad data must not stop the sweep
                log.exception("risk: patient %s skipped", pid)
                outcome.errors += 1
                outcome.error_detail.append({"patient_id": pid, "error": f"{type(exc).__name__}: {exc}"[:300]})
        outcome.patients = len(results)
        _write_assessments(results, snapshots, current, now, outcome)
        flags.flags_reconcile(desired, open_flags, now, outcome, actor_label, closures, actor_id=actor_id)
        _record_infusion_risk(unscored, snapshots, now)
        if rescore_infusions:
            _rescore_infusion_risk(patient_ids, snapshots, now)
    return outcome


def _lock_patients(patient_ids: list[int]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM patients_patient WHERE id = ANY(%s) ORDER BY id FOR UPDATE", [list(patient_ids)]
            )
            cursor.fetchall()
        return
    list(Patient.objects.select_for_update().filter(pk__in=patient_ids).order_by("pk").values_list("pk", flat=True))


_JSON_RESULT_COLUMNS = ("missing", "components", "factors", "overrides", "recommendations", "notes", "secondary")


def _write_assessments(results, snapshots, current, now, outcome: ChunkOutcome) -> None:
    changed = []
    for pid, result in results.items():
        previous = current.get(pid)
        data = result.as_dict()
        if previous is None:  # written for sure: encode each value once, for the hash and the row
            digest, parts = _encoded_parts(data)
        else:
            digest, parts = _fingerprint(data), None
            if previous["fingerprint"] == digest:
                continue
        changed.append((_assessment_values(pid, result, data, now, previous, digest), parts))
    if not changed:
        return
    # `current` was read under the chunk's lock: a patient without one has no current row.
    replaced = [values["patient_id"] for values, _ in changed if values["patient_id"] in current]
    if replaced:
        RiskAssessment.objects.filter(patient_id__in=replaced, is_current=True).update(is_current=False)
    if bulk.use_copy(changed):
        # A chunk: COPY, every JSON column as text encoded once.
        rows = []
        for values, parts in changed:
            pid = values["patient_id"]
            if parts is None:
                parts = _encoded_parts(results[pid].as_dict())[1]
            for name in _JSON_RESULT_COLUMNS:
                values[name] = bulk.Encoded(parts[name])
            values["inputs"] = bulk.Encoded(snapshot_inputs_json(snapshots[pid]))
            rows.append(values)
        bulk.copy_values(RiskAssessment, rows, now)
    else:
        rows = []
        for values, _ in changed:
            pid = values["patient_id"]
            values["secondary"] = json.loads(json.dumps(results[pid].secondary, default=str))
            values["inputs"] = snapshot_inputs(snapshots[pid])
            rows.append(RiskAssessment(**values))
        RiskAssessment.objects.bulk_create(rows, batch_size=1000)
        outcome.assessments.update((a.patient_id, a) for a in rows)
    outcome.assessments_changed += len(changed)


def _assessment_values(pid: int, result: RiskResult, data: dict, now, previous: dict | None, digest: str) -> dict:
    """A new current assessment's fields but `secondary` and `inputs`; `data` is result.as_dict()."""
    prev_rank = TIER_RANK.get((previous or {}).get("tier"), -1)
    rose = TIER_RANK[result.tier] > prev_rank
    return {
        "patient_id": pid,
        "assessed_at": now,
        "as_of": result.as_of,
        "ruleset": result.ruleset,
        "score": result.score,
        "tier": result.tier,
        "provisional": result.provisional,
        "missing": data["missing"],
        "components": data["components"],
        "factors": data["factors"],
        "overrides": data["overrides"],
        "recommendations": data["recommendations"],
        "notes": data["notes"],
        "dic_score": result.dic_score,
        "fingerprint": digest,
        "tier_rose_at": now if rose else (previous or {}).get("tier_rose_at"),
        "is_current": True,
    }


def _fingerprint(data: dict) -> str:
    """Hash of ``result.as_dict()`` without ``as_of``: equal hash, unchanged result."""
    return hashlib.sha256(_SORTED_JSON.encode({k: v for k, v in data.items() if k != "as_of"}).encode()).hexdigest()


# ``json.dumps(x, sort_keys=True, default=str)`` without building an encoder per call.
_SORTED_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _encoded_parts(data: dict) -> tuple[str, dict[str, str]]:
    """The fingerprint of ``result.as_dict()`` and the JSON text of each of its values, each
    value encoded once: the fingerprint's text is assembled from the parts exactly as the
    encoder writes a dict with sorted keys, and the parts are the JSON columns' text.

    Performance trick (bench/tricks.py): encoding twice (once for the hash, once for the row)
    makes a first pass 9% longer. Tests hold the digest equal to `_fingerprint`'s."""
    parts = {k: _SORTED_JSON.encode(v) for k, v in sorted(data.items()) if k != "as_of"}
    text = "{" + ", ".join(f"{_SORTED_JSON.encode(k)}: {v}" for k, v in parts.items()) + "}"
    return hashlib.sha256(text.encode()).hexdigest(), parts


def snapshot_inputs(snapshot: PatientSnapshot) -> dict:
    """The snapshot as JSON, stored with each assessment so every score is reproducible."""
    return json.loads(snapshot_inputs_json(snapshot))


def snapshot_inputs_json(snapshot: PatientSnapshot) -> str:
    """The text of ``json.dumps(asdict(snapshot), default=str)``, from the C encoder: dataclasses
    become dicts of their fields as the encoder meets them (no deep copy first).

    Performance trick (bench/tricks.py): ``json.dumps(dataclasses.asdict(snapshot))`` makes a
    first pass 22% longer (asdict deep-copies every nested record first)."""
    return json.dumps(snapshot, default=_snapshot_default)


def _snapshot_default(value):
    kind = type(value)
    names = _FIELD_NAMES.get(kind, ())
    if names == ():
        names = _FIELD_NAMES[kind] = tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None
    if names is None:
        return str(value)  # dates and times, as default=str
    attrs = getattr(value, "__dict__", None)
    if attrs is not None and len(attrs) == len(names):
        # The fields, in their order (what __init__ set), and nothing else: the instance's own
        # dict, not a new one per record (part of the 22% above).
        return attrs
    return {name: getattr(value, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


INFUSION_RISK_WINDOW = timedelta(days=30)


def _record_infusion_risk(unscored, snapshots, now) -> None:
    """Per-infusion risk: the assessment as of each recent administered infusion's start, once.

    Recorded when the infusion is written (the on-commit assessment) or by the next sweep;
    older history imported in bulk is not back-filled. `unscored` (infusion id, patient id,
    started_at) comes with the chunk's snapshots (risk.snapshot.load_chunk).
    """
    rows = []
    for iid, pid, started in unscored:
        if pid not in snapshots:
            continue
        # explain=False: InfusionRisk stores no advice or secondary scores, so they are not
        # computed (bench/tricks.py: explaining them too makes a first pass 5% longer).
        result = engine.assess(_snapshot_at(pid, started, snapshots), started, explain=False)
        rows.append(
            {
                "infusion_id": iid,
                "as_of": started,
                "ruleset": result.ruleset,
                "score": result.score,
                "tier": result.tier,
                "provisional": result.provisional,
                "factors": [f.as_dict() for f in result.factors],
            }
        )
    if not rows:
        return
    if connection.vendor == "postgresql":
        bulk.insert_ignoring_conflicts(InfusionRisk, rows, now)
    else:
        InfusionRisk.objects.bulk_create(
            [InfusionRisk(**values) for values in rows], batch_size=1000, ignore_conflicts=True
        )


def _rescore_infusion_risk(patient_ids, snapshots, now) -> None:
    """The stored risk at each recent infusion stays true after a write that changes the past (a
    back-dated steroid, line, event or weight): every recorded risk of the window is recomputed as
    of its infusion's start and the changed ones are updated. Set-based: one read, one bulk
    update when anything changed (the write's own on-commit assessment, `patient_assess`)."""
    rows = InfusionRisk.objects.filter(
        infusion__patient_id__in=list(patient_ids), as_of__gte=now - INFUSION_RISK_WINDOW
    ).values_list("pk", "infusion__patient_id", "as_of", "ruleset", "score", "tier", "provisional")
    changed = []
    for pk, pid, started, ruleset, score, tier, provisional in rows:
        if pid not in snapshots:
            continue
        result = engine.assess(_snapshot_at(pid, started, snapshots), started, explain=False)
        if (result.ruleset, result.score, result.tier, result.provisional) != (ruleset, score, tier, provisional):
            changed.append(
                InfusionRisk(
                    pk=pk,
                    ruleset=result.ruleset,
                    score=result.score,
                    tier=result.tier,
                    provisional=result.provisional,
                    factors=[f.as_dict() for f in result.factors],
                )
            )
    if changed:
        fields = ["ruleset", "score", "tier", "provisional", "factors"]
        InfusionRisk.objects.bulk_update(changed, fields, batch_size=500)


def _snapshot_at(pid: int, at: datetime, snapshots) -> PatientSnapshot:
    """The snapshot as of an earlier instant, derived from the loaded one when it covers it."""
    snap = snapshots[pid]
    return dataclasses.replace(
        snap,
        infusions=tuple(i for i in snap.infusions if i.started_at <= at),
        labs=tuple(lab for lab in snap.labs if lab.collected_at <= at),
        symptom_reports=tuple(s for s in snap.symptom_reports if s.reported_at <= at),
    )


def patient_assess(patient: Patient | int, as_of: datetime | None = None, *, actor=None) -> RiskAssessment | None:
    """Assess one patient now (after a write, or on request) and reconcile their flags. With an
    ``actor`` (staff pressed "assess now"), the request is audited and the flag changes it causes
    carry that actor."""
    pid = patient if isinstance(patient, int) else patient.pk
    label = getattr(actor, "username", None) or JOB
    outcome = process_patients(
        [pid], as_of=as_of, actor_label=label, actor_id=getattr(actor, "pk", None), rescore_infusions=True
    )
    written = outcome.assessments.get(pid)
    if written is None:
        written = RiskAssessment.objects.filter(patient_id=pid, is_current=True).first()
    if actor is not None:
        from ivigtrack.audit.services import audit_record

        detail = {"score": written.score, "tier": written.tier, "new": pid in outcome.assessments} if written else {}
        audit_record(actor=actor, action="patient.assess", obj=written, patient_id=pid, detail=detail)
    return written
