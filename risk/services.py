"""Assessment and review-flag services: the only code that writes RiskAssessment and ReviewFlag.

`process_patients` is the one path for a single patient after a write and for each chunk of
the sweep: load snapshots (fixed number of queries), score, write changed assessments in
bulk, reconcile flags idempotently. The partial unique constraint on unresolved flags is the
final guard when two sweeps overlap or a task is delivered twice.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.db.models import F
from django.utils import timezone

from infusions.models import Infusion
from itrs import engine, review
from itrs.types import PatientSnapshot, RiskResult
from ivigtrack.audit.models import AuditEvent
from ivigtrack.audit.services import audit_bulk, audit_record
from patients.models import Patient

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
from .snapshot import OpenFlag, load_chunk, load_histories, load_snapshots

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


class FlagPermissionDenied(PermissionError):
    """This role may not make this change to a flag (views map it to 403)."""


def review_settings() -> review.ReviewSettings:
    return review.ReviewSettings(**getattr(settings, "IVIGTRACK_REVIEW", {}))


# --- assessment ------------------------------------------------------------------------------


def fingerprint(result: RiskResult) -> str:
    return _fingerprint(result.as_dict())


def _fingerprint(data: dict) -> str:
    """Hash of ``result.as_dict()`` without ``as_of``: equal hash, unchanged result."""
    return hashlib.sha256(_SORTED_JSON.encode({k: v for k, v in data.items() if k != "as_of"}).encode()).hexdigest()


# ``json.dumps(x, sort_keys=True, default=str)`` without building an encoder per call.
_SORTED_JSON = json.JSONEncoder(sort_keys=True, default=str)


def _encoded_parts(data: dict) -> tuple[str, dict[str, str]]:
    """The fingerprint of ``result.as_dict()`` and the JSON text of each of its values, each
    value encoded once: the fingerprint's text is assembled from the parts exactly as the
    encoder writes a dict with sorted keys, and the parts are the JSON columns' text."""
    parts = {k: _SORTED_JSON.encode(v) for k, v in sorted(data.items()) if k != "as_of"}
    text = "{" + ", ".join(f"{_SORTED_JSON.encode(k)}: {v}" for k, v in parts.items()) + "}"
    return hashlib.sha256(text.encode()).hexdigest(), parts


def snapshot_inputs(snapshot: PatientSnapshot) -> dict:
    """The snapshot as JSON, stored with each assessment so every score is reproducible."""
    return json.loads(snapshot_inputs_json(snapshot))


def snapshot_inputs_json(snapshot: PatientSnapshot) -> str:
    """The text of ``json.dumps(asdict(snapshot), default=str)``, from the C encoder: dataclasses
    become dicts of their fields as the encoder meets them (no deep copy first)."""
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
        return attrs  # the fields, in their order (what __init__ set), and nothing else
    return {name: getattr(value, name) for name in names}


_FIELD_NAMES: dict[type, tuple[str, ...] | None] = {}


def assess_at(patient: Patient, as_of: datetime) -> RiskResult:
    """The result at an instant, computed and not stored (API `risk/?as_of=`)."""
    snapshot = load_snapshots([patient.pk], as_of)[patient.pk]
    return engine.assess(snapshot, as_of)


def _new_assessment(
    pid: int, result: RiskResult, snapshot, now, previous: dict | None, digest: str | None = None
) -> RiskAssessment:
    data = result.as_dict()
    return RiskAssessment(
        **_assessment_values(pid, result, data, now, previous, digest or _fingerprint(data)),
        secondary=json.loads(json.dumps(result.secondary, default=str)),
        inputs=snapshot_inputs(snapshot),
    )


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
    # new assessments written with their ids ({patient id: RiskAssessment}), for small chunks
    assessments: dict = field(default_factory=dict, repr=False)

    def add(self, other: ChunkOutcome) -> None:
        for name in ("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.error_detail.extend(other.error_detail)
        self.notify.extend(other.notify)


def process_patients(patient_ids: list[int], *, as_of: datetime | None = None, actor_label: str = JOB) -> ChunkOutcome:
    """Assess and reconcile a chunk of patients in one transaction. Idempotent.

    Queries do not grow with the chunk: on PostgreSQL one statement reads the snapshots (and the
    infusions whose risk is not recorded yet), one locks the patients, one reads their current
    assessments and flags; then only what changed is written, in bulk.
    """
    with _gc_paused(len(patient_ids) >= COPY_FROM_ROWS):
        outcome = _process(patient_ids, as_of or timezone.now(), actor_label)
    if outcome.notify:
        ids = list(outcome.notify)
        transaction.on_commit(lambda: _enqueue_notifications(ids))
    return outcome


@contextmanager
def _gc_paused(pause: bool):
    """No cyclic garbage collection while a chunk runs: it builds a few hundred thousand
    short-lived acyclic objects, which reference counting frees, and the collector's passes
    over them cost a fifth of the time. Collection resumes after the chunk."""
    if not pause or not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _process(patient_ids: list[int], now: datetime, actor_label: str) -> ChunkOutcome:
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
        _record_infusion_risk(unscored, snapshots, now)
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
    if _bulk_copy(changed):
        # A chunk: COPY, every JSON column as text encoded once.
        rows = []
        for values, parts in changed:
            pid = values["patient_id"]
            if parts is None:
                parts = _encoded_parts(results[pid].as_dict())[1]
            for name in _JSON_RESULT_COLUMNS:
                values[name] = Encoded(parts[name])
            values["inputs"] = Encoded(snapshot_inputs_json(snapshots[pid]))
            rows.append(values)
        copy_values(RiskAssessment, rows, now)
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


def _reconcile_flags(desired, open_flags, now, outcome: ChunkOutcome, actor_label: str) -> None:
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
        if _bulk_copy(audits):
            copy_values(AuditEvent, audits, now)
        else:
            audit_bulk([AuditEvent(**values) for values in audits])


def _create_flags(flags: list[dict], now) -> list:
    """Insert new flags, skipping any (patient, kind) that another sweep raised meanwhile: the
    partial unique constraint keeps one. Returns the flags this call created, in ReviewFlag's
    default order."""
    if connection.vendor == "postgresql":
        rows = insert_ignoring_conflicts(
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
    # Our own rows are found again by their exact raised_at.
    ReviewFlag.objects.bulk_create([ReviewFlag(**values) for values in flags], batch_size=1000, ignore_conflicts=True)
    return list(
        ReviewFlag.objects.filter(patient_id__in={f["patient_id"] for f in flags}, raised_at=now, status="open").only(
            "id", "public_id", "patient_id", "kind", "rule", "priority"
        )
    )


# --- bulk writes ------------------------------------------------------------------------------------
#
# A sweep chunk writes thousands of rows: on PostgreSQL they go by COPY, built straight from the
# fields' values (defaults and auto_now filled in as bulk_create would) without a model instance
# each. One patient after a write goes through the ORM (one INSERT that returns the new ids).

COPY_FROM_ROWS = 50


def _bulk_copy(rows: list) -> bool:
    return connection.vendor == "postgresql" and len(rows) >= COPY_FROM_ROWS


class Encoded(str):
    """JSON text already encoded, for a JSON column written by COPY."""


_SIMPLE_FIELDS = (
    models.CharField,
    models.TextField,
    models.UUIDField,
    models.DateTimeField,
    models.DateField,
    models.BooleanField,
    models.IntegerField,
    models.FloatField,
    models.JSONField,
)


class _Columns:
    """How `bulk_create` would fill each column of a model from a dict of field values."""

    def __init__(self, model):
        self.model = model
        self.table = model._meta.db_table
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        self.sql = ", ".join(quote(f.column) for f in self.fields)
        self.simple = all(
            isinstance(f, _SIMPLE_FIELDS)
            or (isinstance(f, models.ForeignKey) and isinstance(f.target_field, models.AutoField | models.BigAutoField))
            for f in self.fields
        )
        self.specs = [
            (
                f.attname,
                "auto" if isinstance(f, models.DateTimeField) and (f.auto_now or f.auto_now_add) else "",
                f.encoder if isinstance(f, models.JSONField) else False,
                f,
            )
            for f in self.fields
        ]

    def rows(self, values_list: list[dict], now) -> list[list]:
        if not self.simple:  # a field type this does not know: let the ORM prepare it
            return _insert_columns(self.model, [self.model(**values) for values in values_list])[1]
        out = []
        for values in values_list:
            row = []
            for attname, auto, encoder, f in self.specs:
                if auto:
                    value = now
                elif attname in values:
                    value = values[attname]
                else:
                    value = f.get_default()
                if encoder is not False and value is not None and not isinstance(value, Encoded):
                    value = json.dumps(value, cls=encoder)
                row.append(value)
            out.append(row)
        return out


_COLUMNS: dict[type, _Columns] = {}


def _columns(model) -> _Columns:
    columns = _COLUMNS.get(model)
    if columns is None:
        columns = _COLUMNS[model] = _Columns(model)
    return columns


def _insert_columns(model, objs) -> tuple[list, list[list]]:
    """The columns and values `bulk_create` would insert for these instances."""
    db = connections[DEFAULT_DB_ALIAS]
    cols = [f for f in model._meta.concrete_fields if not f.primary_key]
    rows = [[f.get_db_prep_save(f.pre_save(obj, True), db) for f in cols] for obj in objs]
    return cols, rows


def _copy(cursor, table: str, columns_sql: str, rows: list[list]) -> None:
    with cursor.cursor.copy(f"COPY {connection.ops.quote_name(table)} ({columns_sql}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def copy_values(model, values_list: list[dict], now) -> None:
    """INSERT rows given as dicts of field values, by COPY (PostgreSQL)."""
    columns = _columns(model)
    with connection.cursor() as cursor:
        _copy(cursor, columns.table, columns.sql, columns.rows(values_list, now))


def insert_ignoring_conflicts(model, values_list: list[dict], now, *, returning: tuple[str, ...] = ()) -> list[tuple]:
    """INSERT ... ON CONFLICT DO NOTHING (PostgreSQL): rows that would break a unique constraint
    are skipped; returns `returning` of the rows inserted.

    A few rows go in one statement (SELECT FROM unnest(arrays)); many are COPied to a temporary
    table first, then inserted from it (the arrays would be quoted in Python, slowly).
    """
    columns = _columns(model)
    quote = connection.ops.quote_name
    tail = " ON CONFLICT DO NOTHING"
    if returning:
        tail += " RETURNING " + ", ".join(quote(name) for name in returning)
    with connection.cursor() as cursor:
        if len(values_list) < COPY_FROM_ROWS:
            cols, rows = _insert_columns(model, [model(**values) for values in values_list])
            arrays = ", ".join(f"%s::{f.db_type(connection)}[]" for f in cols)
            cursor.execute(
                f"INSERT INTO {quote(columns.table)} ({columns.sql}) SELECT * FROM unnest({arrays}){tail}",
                [list(column) for column in zip(*rows, strict=True)],
            )
            return cursor.fetchall() if returning else []
        stage = f"bulk_{columns.table}"
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {quote(stage)} AS "
            f"SELECT {columns.sql} FROM {quote(columns.table)} WITH NO DATA"
        )
        _copy(cursor, stage, columns.sql, columns.rows(values_list, now))
        cursor.execute(
            f"INSERT INTO {quote(columns.table)} ({columns.sql}) SELECT {columns.sql} FROM {quote(stage)}{tail}"
        )
        inserted = cursor.fetchall() if returning else []
        cursor.execute(f"DELETE FROM {quote(stage)}")
        return inserted


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
        insert_ignoring_conflicts(InfusionRisk, rows, now)
    else:
        InfusionRisk.objects.bulk_create(
            [InfusionRisk(**values) for values in rows], batch_size=1000, ignore_conflicts=True
        )


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
    outcome = process_patients([pid], as_of=as_of, actor_label=label)
    written = outcome.assessments.get(pid)
    if written is not None:  # the new current assessment, as just written (no need to read it back)
        return written
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
    # DESIGN §1: nurses acknowledge flags; clinicians acknowledge, snooze and resolve.
    if not getattr(actor, "is_clinician", False):
        raise FlagPermissionDenied(f"Only a clinician can {verb} a flag; nurses can acknowledge it.")


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
