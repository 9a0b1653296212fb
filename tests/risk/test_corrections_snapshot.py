"""The snapshot loaders leave records entered in error out: the ORM path (`load_snapshots`), the
one-statement PostgreSQL path (`load_chunk`) and the benchmark floor read the same rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from infusions import services as infusion_services
from ivigtrack.corrections import mark_entered_in_error
from patients import services as patient_services
from risk.snapshot import INFUSION_WINDOW, load_chunk, load_snapshots

pytestmark = pytest.mark.django_db

KINDS = ("conditions", "accesses", "events", "labs", "medications", "regimens", "infusions", "symptom_reports")


@pytest.fixture
def recent(patient_pat, clinician_carol, product):
    """One recent record of every kind the rules read, all inside the loaders' windows."""
    now = timezone.now()
    today = timezone.localdate()
    return [
        patient_services.condition_add(actor=clinician_carol, patient=patient_pat, code="smoking", onset_date=today),
        patient_services.vascular_access_add(
            actor=clinician_carol, patient=patient_pat, kind="picc", vein="arm", inserted_on=today
        ),
        patient_services.thrombosis_event_record(
            actor=clinician_carol, patient=patient_pat, kind="dvt", status="suspected", diagnosed_on=today
        ),
        patient_services.lab_record(
            actor=clinician_carol,
            patient=patient_pat,
            test="platelets",
            value=200,
            collected_at=now - timedelta(hours=1),
        ),
        infusion_services.medication_record(
            actor=clinician_carol, patient=patient_pat, drug="furosemide", route="oral", start_date=today
        ),
        infusion_services.regimen_create(
            actor=clinician_carol,
            patient=patient_pat,
            product=product,
            dose_g_per_kg_per_day="0.4",
            days_per_course=1,
            interval_days=21,
            start_date=today,
        ),
        infusion_services.infusion_record(
            actor=clinician_carol,
            patient=patient_pat,
            product=product,
            started_at=now - timedelta(hours=2),
            dose_grams="28",
            iga_override_reason="IgA requested, result awaited",
        ),
        patient_services.symptom_report_submit(actor=clinician_carol, patient=patient_pat, symptoms=["other"]),
    ]


def _snapshots(pid):
    as_of = timezone.now()
    orm = load_snapshots([pid], as_of)[pid]
    chunk = load_chunk([pid], as_of, risk_window=INFUSION_WINDOW)[0][pid]
    return orm, chunk


def test_both_loaders_leave_records_entered_in_error_out(recent, patient_pat, clinician_carol):
    orm, chunk = _snapshots(patient_pat.pk)
    for kind in KINDS:
        assert getattr(orm, kind) and getattr(chunk, kind), kind
    for record in recent:
        mark_entered_in_error(record, reason="test", actor=clinician_carol)
    orm, chunk = _snapshots(patient_pat.pk)
    for kind in KINDS:
        assert getattr(orm, kind) == () and getattr(chunk, kind) == (), kind
    assert orm == chunk


@pytest.mark.postgresql
def test_the_benchmark_floor_reads_the_same_rows(recent, patient_pat, clinician_carol):
    from bench.floor import FLOOR_SQL, floor_params

    def floor_kinds() -> dict[int, int]:
        with connection.cursor() as cursor:
            cursor.execute(FLOOR_SQL, floor_params(timezone.now()))
            rows = cursor.fetchall()
        counts: dict[int, int] = {}
        for row in rows:
            if row[1] == patient_pat.pk and row[0] >= 3:
                counts[row[0]] = counts.get(row[0], 0) + 1
        return counts

    assert set(floor_kinds()) == set(range(3, 11))
    for record in recent:
        mark_entered_in_error(record, reason="test", actor=clinician_carol)
    assert floor_kinds() == {}
