"""Sweep, reconciliation and the flag lifecycle (on SQLite too, but for the threaded races)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from demo import vignettes
from demo.synthetic import generate
from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from risk.models import ReviewFlag, RiskAssessment, SweepRun
from risk.services.assessment import process_patients
from risk.services.flags import FlagConflict, flag_acknowledge, flag_resolve, flag_snooze
from risk.services.haematology import haematology_review_record
from risk.services.sweep import sweep_inline
from risk.snapshot import load_snapshots

CLOCK = vignettes.VIGNETTE_CLOCK

pytestmark = pytest.mark.sqlite


@pytest.mark.django_db
def test_snapshot_queries_do_not_grow_with_patients(django_assert_num_queries):
    generate(500, seed=3, today=timezone.localdate())
    ids = list(__import__("patients.models", fromlist=["Patient"]).Patient.objects.values_list("id", flat=True))
    now = timezone.now()
    with django_assert_num_queries(10):
        one = load_snapshots(ids[:1], now)
    with django_assert_num_queries(10):
        many = load_snapshots(ids, now)
    assert len(one) == 1 and len(many) == 500
    assert sum(len(s.infusions) for s in many.values()) > 500  # real histories were loaded


@pytest.mark.django_db
def test_sweep_is_idempotent_and_writes_only_changes():
    generate(60, seed=5, today=timezone.localdate())
    first = sweep_inline(full=True)
    assert first.patients == 60 and first.assessments_changed == 60 and first.finished_at
    flags_after_first = set(ReviewFlag.objects.exclude(status="resolved").values_list("patient_id", "kind", "rule"))
    second = sweep_inline(full=True)
    assert second.assessments_changed == 0 and second.flags_raised == 0 and second.flags_resolved == 0
    assert (
        set(ReviewFlag.objects.exclude(status="resolved").values_list("patient_id", "kind", "rule"))
        == flags_after_first
    )
    assert RiskAssessment.objects.filter(is_current=True).count() == 60
    assert AuditEvent.objects.filter(action="flag.raise", actor_label="job:sweep").count() == first.flags_raised


@pytest.mark.django_db
def test_one_bad_patient_is_skipped_not_fatal(monkeypatch):
    generate(5, seed=9, today=timezone.localdate())
    from itrs import engine

    real = engine.assess
    victim = min(__import__("patients.models", fromlist=["Patient"]).Patient.objects.values_list("id", flat=True))

    def flaky(snapshot, as_of, **options):
        if snapshot.patient_id == victim:
            raise ValueError("corrupt history")
        return real(snapshot, as_of, **options)

    monkeypatch.setattr(engine, "assess", flaky)
    run = sweep_inline(full=True)
    assert run.errors == 1 and run.patients == 4
    assert run.error_detail[0]["patient_id"] == victim


@pytest.mark.django_db
def test_panel_resolves_clot_event_and_escalation_in_place(clinician_carol, nurse_nina):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v16(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = ReviewFlag.objects.get(patient=patient, kind="clotting_studies")
        assert flag.rule == "CLOT-EVENT"
    later = CLOCK + timedelta(hours=3)
    with time_machine.travel(later, tick=False):
        for test, value in (("pt", 12.5), ("aptt", 30), ("fibrinogen", 3.1), ("platelets", 240)):
            patient_services.lab_record(
                actor=nurse_nina, patient=patient, test=test, value=value, collected_at=later - timedelta(minutes=30)
            )
        run = sweep_inline(full=True)
        flag.refresh_from_db()
        assert flag.status == "resolved" and flag.resolution == "completed" and flag.resolved_by is None
        assert "no longer applies" in flag.note
        assert run.flags_resolved >= 1
        # A confirmed DVT now escalates nothing in clotting studies (panel done) but raises HEM-URGENT.
        patient_services.thrombosis_event_record(
            actor=clinician_carol, patient=patient, kind="dvt", status="confirmed", diagnosed_on=later.date()
        )
        sweep_inline(full=True)
        hem = ReviewFlag.objects.get(patient=patient, kind="hematology_review", status="open")
        assert hem.rule == "HEM-URGENT" and hem.priority == "urgent"


@pytest.mark.django_db
def test_routine_flag_escalates_to_urgent_in_place(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v07(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = ReviewFlag.objects.get(patient=patient, kind="clotting_studies", status="open")
        assert (flag.rule, flag.priority) == ("CLOT-BASELINE", "routine")
        patient_services.symptom_report_submit(actor=clinician_carol, patient=patient, symptoms=["limb_pain_swelling"])
        sweep_inline(full=True)
        escalated = ReviewFlag.objects.get(patient=patient, kind="clotting_studies", status="open")
        assert escalated.pk == flag.pk
        assert (escalated.rule, escalated.priority, escalated.escalated_at is not None) == (
            "CLOT-EVENT",
            "urgent",
            True,
        )
        assert AuditEvent.objects.filter(action="flag.escalate", object_id=str(flag.public_id)).exists()


@pytest.mark.django_db
def test_snooze_expires_and_flag_returns(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v07(clinician_carol, CLOCK)
        sweep_inline(full=True)
        flag = ReviewFlag.objects.get(patient=patient, kind="clotting_studies", status="open")
        flag_snooze(flag=flag, actor=clinician_carol, until=CLOCK + timedelta(days=2), note="panel booked")
        sweep_inline(full=True)
        flag.refresh_from_db()
        assert flag.status == "snoozed"
    with time_machine.travel(CLOCK + timedelta(days=3), tick=False):
        sweep_inline(full=True)
        flag.refresh_from_db()
        assert flag.status == "open" and flag.snoozed_until is None


@pytest.mark.django_db
def test_haematology_review_done_yesterday_suppresses_routine_review(clinician_carol):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v07(clinician_carol, CLOCK)
        patient_services.condition_add(
            actor=clinician_carol, patient=patient, code="thrombophilia", onset_date=CLOCK.date() - timedelta(days=900)
        )
        sweep_inline(full=True)
        hem = ReviewFlag.objects.get(patient=patient, kind="hematology_review", status="open")
        assert hem.rule == "HEM-ROUTINE"
        haematology_review_record(
            actor=clinician_carol,
            patient=patient,
            reviewed_on=CLOCK.date(),
            anticoagulation_plan="none",
            ivig_plan="continue",
            thrombophilia_testing="not_indicated",
            note="seen in clinic",
            flag=hem,
        )
    with time_machine.travel(CLOCK + timedelta(days=1), tick=False):
        sweep_inline(full=True)
        assert (
            not ReviewFlag.objects.filter(patient=patient, kind="hematology_review").exclude(status="resolved").exists()
        )


@pytest.mark.django_db
def test_nurse_acknowledges_but_cannot_resolve_or_snooze(clinician_carol, nurse_nina):
    from risk.services.flags import FlagPermissionDenied

    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v02(clinician_carol, CLOCK)
        sweep_inline(full=True)
        hem = ReviewFlag.objects.get(patient=patient, kind="hematology_review", status="open")
        with pytest.raises(FlagPermissionDenied):
            flag_resolve(flag=hem, actor=nurse_nina, resolution="completed")
        with pytest.raises(FlagPermissionDenied):
            flag_snooze(flag=hem, actor=nurse_nina, until=CLOCK + timedelta(days=1))
        flag_acknowledge(flag=hem, actor=nurse_nina, note="called haematology")
        hem.refresh_from_db()
        assert hem.status == "acknowledged" and hem.acknowledged_by == nurse_nina


@pytest.mark.django_db
def test_second_acknowledgement_gets_a_clear_message(clinician_carol, nurse_nina):
    with time_machine.travel(CLOCK, tick=False):
        patient = vignettes.v16(clinician_carol, CLOCK)
        alert = ReviewFlag.objects.get(patient=patient, kind="symptom_alert")
        stale_copy = ReviewFlag.objects.get(pk=alert.pk)
        flag_acknowledge(flag=alert, actor=nurse_nina)
        with pytest.raises(FlagConflict, match="already acknowledged by nina"):
            flag_acknowledge(flag=stale_copy, actor=clinician_carol)


@pytest.mark.postgresql  # two threads writing at once: SQLite has one writer
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_sweeps_at_once_leave_one_flag_per_patient_and_kind():
    generate(120, seed=11, today=timezone.localdate())
    ids = sorted(__import__("patients.models", fromlist=["Patient"]).Patient.objects.values_list("id", flat=True))
    barrier = threading.Barrier(2)
    errors = []

    def run():
        try:
            barrier.wait()
            process_patients(ids)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = list(ReviewFlag.objects.exclude(status="resolved").values_list("patient_id", "kind"))
    assert rows and len(rows) == len(set(rows))
    assert RiskAssessment.objects.filter(is_current=True).count() == 120


@pytest.mark.postgresql  # two threads writing at once: SQLite has one writer
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_acknowledgements_in_threads_have_one_winner(make_user):
    from datetime import date

    carol = make_user("carol2", "clinician")
    nina = make_user("nina2", "nurse")
    patient = patient_services.patient_create(
        actor=carol,
        mrn="RACE",
        given_name="R",
        family_name="C",
        date_of_birth=date(1950, 1, 1),
        sex="male",
        diagnosis="cidp",
    )
    flag = ReviewFlag.objects.create(
        patient=patient,
        kind="clotting_studies",
        rule="CLOT-BASELINE",
        priority="routine",
        priority_rank=2,
        reason="test",
        raised_at=timezone.now(),
        due_at=timezone.now(),
    )
    barrier = threading.Barrier(2)
    outcomes = []

    def ack(user):
        try:
            copy = ReviewFlag.objects.get(pk=flag.pk)
            barrier.wait()
            flag_acknowledge(flag=copy, actor=user)
            outcomes.append("won")
        except FlagConflict:
            outcomes.append("lost")
        finally:
            connection.close()

    threads = [threading.Thread(target=ack, args=(u,)) for u in (carol, nina)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["lost", "won"]
    assert AuditEvent.objects.filter(action="flag.acknowledge").count() == 1


@pytest.mark.django_db
def test_sweep_run_records_counts():
    generate(10, seed=2, today=timezone.localdate())
    run = sweep_inline(full=True)
    stored = SweepRun.objects.get(pk=run.pk)
    assert stored.patients == 10 and stored.chunks_done == stored.chunks_total == 1
    assert stored.duration_seconds is not None
