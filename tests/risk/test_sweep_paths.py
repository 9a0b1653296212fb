"""The sweep's fast paths on PostgreSQL give what the portable ORM paths give.

risk/snapshot.py and risk/histories.py read a chunk in one statement each (`load_chunk`,
`load_histories`) and risk/services/assessment.py writes it by COPY (ivigtrack/bulk.py) from
field values; `load_snapshots`, the ORM history queries and `bulk_create` are the reference.
Same rows, same order, same stored values.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine

from demo import vignettes
from demo.synthetic import generate
from itrs import engine, review
from ivigtrack.bulk import COPY_FROM_ROWS
from patients.models import Patient
from risk.histories import _load_histories_orm, load_histories
from risk.models import ReviewFlag, RiskAssessment
from risk.review_settings import review_settings
from risk.services.assessment import (
    INFUSION_RISK_WINDOW,
    _assessment_values,
    _fingerprint,
    process_patients,
    snapshot_inputs,
)
from risk.services.haematology import haematology_review_record
from risk.services.sweep import sweep_inline
from risk.snapshot import load_chunk, load_snapshots

CLOCK = vignettes.VIGNETTE_CLOCK


@pytest.fixture
def clinic(clinician_carol):
    """Vignette patients (lines, events, symptoms, medications) and synthetic ones, at CLOCK."""
    with time_machine.travel(CLOCK, tick=False):
        for build in vignettes.VIGNETTES.values():
            build(clinician_carol, CLOCK)
        generate(COPY_FROM_ROWS + 20, seed=13, today=CLOCK.date())
    return sorted(Patient.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_one_statement_loader_reads_what_the_orm_loader_reads(clinic):
    snapshots, unscored = load_chunk(clinic, CLOCK, risk_window=INFUSION_RISK_WINDOW)
    reference = load_snapshots(clinic, CLOCK)
    assert snapshots == reference
    assert list(snapshots) == list(reference)  # same patient order too
    # the infusions whose risk is not recorded yet: newest first, as the ORM query gives them
    expected = list(
        __import__("infusions.models", fromlist=["Infusion"])
        .Infusion.objects.filter(
            patient_id__in=clinic,
            status="administered",
            started_at__lte=CLOCK,
            started_at__gte=CLOCK - INFUSION_RISK_WINDOW,
            risk__isnull=True,
        )
        .values_list("id", "patient_id", "started_at")
    )
    assert unscored == expected and unscored


@pytest.mark.django_db
def test_one_statement_history_reads_what_the_orm_reads(clinic, clinician_carol):
    from risk.services.flags import flag_resolve

    with time_machine.travel(CLOCK, tick=False):
        sweep_inline(full=True)
        hem = ReviewFlag.objects.filter(kind="hematology_review", status="open").first()
        haematology_review_record(
            actor=clinician_carol,
            patient=hem.patient,
            reviewed_on=CLOCK.date(),
            anticoagulation_plan="extended",
            ivig_plan="slow_rate",
            thrombophilia_testing="deferred_after_ivig",
            next_review_on=CLOCK.date() + timedelta(days=100),
            flag=hem,
        )
        for clot in ReviewFlag.objects.filter(kind="clotting_studies", status="open")[:3]:
            flag_resolve(flag=clot, actor=clinician_carol, resolution="not_indicated", note="done elsewhere")
    histories, current, flags = load_histories(clinic)
    assert sum(len(h.suppressions) for h in histories.values()) == 3
    assert sum(len(h.haematology_reviews) for h in histories.values()) == 1
    ref_histories, ref_current, ref_flags = _load_histories_orm(clinic)
    assert histories == ref_histories and current == ref_current
    assert list(flags) == list(ref_flags)
    for key, flag in flags.items():
        ref = ref_flags[key]
        for name in ("pk", "public_id", "patient_id", "kind", "rule", "priority", "priority_rank", "status"):
            assert getattr(flag, name) == getattr(ref, name), name
        assert (flag.snoozed_until, flag.reason) == (ref.snoozed_until, ref.reason)
        assert (flag.trigger, flag.raised_at) == (ref.trigger, ref.raised_at)


@pytest.mark.sqlite  # on SQLite: the chunk's bulk_create paths against the one-patient ORM path
@pytest.mark.django_db
def test_a_chunk_written_by_copy_stores_what_bulk_create_stores(clinic):
    from ivigtrack.audit.models import AuditEvent

    assert len(clinic) >= COPY_FROM_ROWS  # the COPY path
    histories = _load_histories_orm(clinic)[0]  # as the chunk will read them (symptom flags exist)
    outcome = process_patients(clinic, as_of=CLOCK)
    assert outcome.errors == 0 and outcome.assessments_changed == len(clinic)

    # every stored field equals what the ORM path (one patient: RiskAssessment(...) + bulk_create) would store
    snapshots = load_snapshots(clinic, CLOCK)
    fields = [f.attname for f in RiskAssessment._meta.concrete_fields]
    generated = {"id", "public_id", "created_at", "updated_at"}
    for stored in RiskAssessment.objects.filter(patient_id__in=clinic):
        snapshot = snapshots[stored.patient_id]
        expected = _orm_assessment(stored.patient_id, engine.assess(snapshot, CLOCK), snapshot)
        for name in set(fields) - generated:
            assert getattr(stored, name) == getattr(expected, name), (stored.patient_id, name)
        assert stored.created_at and stored.public_id

    # the flags the review rules asked for, one row each, and one audit row per flag raised
    settings = review_settings()
    wanted = {
        (pid, spec.kind, spec.rule, spec.priority, spec.reason)
        for pid, snapshot in snapshots.items()
        for spec in review.evaluate(snapshot, engine.assess(snapshot, CLOCK), histories[pid], CLOCK, settings)
    }
    stored_flags = set(
        ReviewFlag.objects.filter(patient_id__in=clinic)
        .exclude(kind="symptom_alert")
        .values_list("patient_id", "kind", "rule", "priority", "reason")
    )
    assert stored_flags == wanted and outcome.flags_raised == len(wanted)
    assert AuditEvent.objects.filter(action="flag.raise", actor_label="job:sweep").count() == len(wanted)

    # a second pass changes nothing
    again = process_patients(clinic, as_of=CLOCK + timedelta(minutes=1))
    assert (again.assessments_changed, again.flags_raised, again.flags_resolved) == (0, 0, 0)


def _orm_assessment(pid: int, result, snapshot) -> RiskAssessment:
    """A new assessment as the ORM branch of `_write_assessments` builds it (no COPY, no Encoded)."""
    data = result.as_dict()
    return RiskAssessment(
        **_assessment_values(pid, result, data, CLOCK, None, _fingerprint(data)),
        secondary=json.loads(json.dumps(result.secondary, default=str)),
        inputs=snapshot_inputs(snapshot),
    )
