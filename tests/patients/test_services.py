"""Patient-record services: every bad input is a clear field error and leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from itrs import bodysize
from ivigtrack.audit.models import AuditEvent
from patients import services as svc
from patients.models import Condition, LabResult, Patient, SymptomReport, VascularAccess, WeightMeasurement

pytestmark = pytest.mark.django_db


def field_errors(exc: ValidationError) -> dict:
    return exc.message_dict


def test_patient_create_writes_audit_and_weight_history(clinician_carol):
    p = svc.patient_create(
        actor=clinician_carol,
        mrn="M1",
        given_name="A",
        family_name="B",
        date_of_birth=date(1960, 1, 1),
        sex="male",
        height_cm=178,
        diagnosis="cidp",
        weight_kg=96,
    )
    assert AuditEvent.objects.filter(action="patient.create", patient_id=p.pk, actor=clinician_carol).count() == 1
    assert WeightMeasurement.objects.get(patient=p).is_current


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"sex": "dragon"}, "sex"),
        ({"diagnosis": "flu"}, "diagnosis"),
        ({"height_cm": 300}, "height_cm"),
        ({"height_cm": 95}, "height_cm"),  # a child's height, refused for an adult
        ({"date_of_birth": date(2999, 1, 1)}, "date_of_birth"),
        ({"mrn": ""}, "mrn"),
    ],
)
def test_patient_create_rejects_bad_input(clinician_carol, fields, bad_field):
    data = dict(mrn="M2", given_name="A", family_name="B", date_of_birth=date(1960, 1, 1), sex="male", diagnosis="cidp")
    data.update(fields)
    with pytest.raises(ValidationError) as err:
        svc.patient_create(actor=clinician_carol, **data)
    assert bad_field in field_errors(err.value)
    assert not Patient.objects.filter(mrn="M2").exists()
    assert not AuditEvent.objects.filter(action="patient.create").exists()


def test_implausible_weight_refused_and_nothing_written(clinician_carol):
    with pytest.raises(ValidationError) as err:
        svc.patient_create(
            actor=clinician_carol,
            mrn="M3",
            given_name="A",
            family_name="B",
            date_of_birth=date(1960, 1, 1),
            sex="male",
            diagnosis="cidp",
            weight_kg=900,
        )
    assert "Weight must be between 25 and 350 kg for an adult." in str(err.value)
    assert Patient.objects.count() == 0 and WeightMeasurement.objects.count() == 0


def test_duplicate_mrn_is_a_field_error(patient_pat, clinician_carol):
    with pytest.raises(ValidationError) as err:
        svc.patient_create(
            actor=clinician_carol,
            mrn="MRN-PAT",
            given_name="X",
            family_name="Y",
            date_of_birth=date(1960, 1, 1),
            sex="male",
            diagnosis="cidp",
        )
    assert "mrn" in field_errors(err.value)


def test_weight_record_keeps_one_current_weight(patient_pat, nurse_nina):
    svc.weight_record(actor=nurse_nina, patient=patient_pat, weight_kg=72, measured_on=timezone.localdate())
    svc.weight_record(
        actor=nurse_nina, patient=patient_pat, weight_kg=71, measured_on=timezone.localdate() - timedelta(days=400)
    )
    patient_pat.refresh_from_db()
    assert float(patient_pat.weight_kg) == 72
    assert WeightMeasurement.objects.filter(patient=patient_pat, is_current=True).count() == 1
    assert WeightMeasurement.objects.filter(patient=patient_pat).count() == 3


def test_access_removed_before_inserted_is_refused(patient_pat, nurse_nina):
    with pytest.raises(ValidationError) as err:
        svc.vascular_access_add(
            actor=nurse_nina,
            patient=patient_pat,
            kind="port",
            vein="subclavian",
            inserted_on=date(2024, 5, 1),
            removed_on=date(2024, 4, 1),
        )
    assert "The removal date cannot be before the insertion date." in str(err.value)
    assert VascularAccess.objects.count() == 0


def test_unknown_condition_code_refused(patient_pat, nurse_nina):
    with pytest.raises(ValidationError) as err:
        svc.condition_add(actor=nurse_nina, patient=patient_pat, code="vampirism")
    assert "code" in field_errors(err.value)
    assert Condition.objects.count() == 0


def test_condition_resolved_before_onset_refused(patient_pat, nurse_nina):
    with pytest.raises(ValidationError):
        svc.condition_add(
            actor=nurse_nina,
            patient=patient_pat,
            code="smoking",
            onset_date=date(2024, 1, 2),
            resolved_date=date(2024, 1, 1),
        )
    assert Condition.objects.count() == 0


def test_database_enforces_constraints_even_without_the_service(patient_pat):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        VascularAccess.objects.create(
            patient=patient_pat, kind="port", vein="arm", inserted_on=date(2024, 5, 1), removed_on=date(2024, 1, 1)
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        WeightMeasurement.objects.create(
            patient=patient_pat, weight_kg=60, measured_on=date(2024, 1, 1), is_current=True
        )


# --- labs ----------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("test", "value", "unit", "bad_field"),
    [
        ("platelets", 5000, None, "value"),
        ("inr", 40, None, "value"),
        ("creatinine", 1.0, "furlongs", "unit"),
        ("unobtainium", 1.0, None, "test"),
        ("d_dimer", 150, None, "value"),
    ],
)
def test_implausible_labs_refused(patient_pat, nurse_nina, test, value, unit, bad_field):
    with pytest.raises(ValidationError) as err:
        svc.lab_record(
            actor=nurse_nina,
            patient=patient_pat,
            test=test,
            value=value,
            unit=unit,
            collected_at=timezone.now() - timedelta(hours=1),
        )
    assert bad_field in field_errors(err.value)
    assert LabResult.objects.count() == 0


def test_lab_units_are_converted(patient_pat, nurse_nina):
    lab = svc.lab_record(
        actor=nurse_nina,
        patient=patient_pat,
        test="creatinine",
        value=88.4,
        unit="umol/L",
        collected_at=timezone.now() - timedelta(hours=1),
    )
    assert lab.unit == "mg/dL" and lab.value == pytest.approx(1.0)
    assert lab.entered_value == 88.4 and lab.entered_unit == "umol/L"


def test_doubtful_lab_is_stored_for_verification(patient_pat, nurse_nina, clinician_carol):
    t = timezone.now() - timedelta(days=2)
    svc.lab_record(actor=nurse_nina, patient=patient_pat, test="platelets", value=250, collected_at=t)
    # ITRS-v1: a real 8-fold fall (250 -> 30) enters the rules at once; a ratio of 1/1000
    # (per uL vs 10^9/L) is a unit-error signature; above 1,000 needs confirmation
    real = svc.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=30, collected_at=t + timedelta(hours=12)
    )
    assert not real.needs_verification
    svc.lab_record(actor=nurse_nina, patient=patient_pat, test="d_dimer", value=0.4, collected_at=t)
    jump = svc.lab_record(
        actor=nurse_nina, patient=patient_pat, test="d_dimer", value=0.82, collected_at=t + timedelta(days=1)
    )
    high = svc.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=1100, collected_at=t + timedelta(days=1, hours=1)
    )
    assert jump.needs_verification and "unit mix-up (FEU vs DDU)" in jump.verification_reason
    assert high.needs_verification and "1000" in high.verification_reason
    svc.lab_verify(actor=clinician_carol, lab=jump, confirmed=True)
    jump.refresh_from_db()
    assert not jump.needs_verification and jump.verified_by == clinician_carol


def test_future_lab_refused(patient_pat, nurse_nina):
    with pytest.raises(ValidationError) as err:
        svc.lab_record(
            actor=nurse_nina,
            patient=patient_pat,
            test="inr",
            value=1.0,
            collected_at=timezone.now() + timedelta(hours=2),
        )
    assert "collected_at" in field_errors(err.value)


# --- symptoms ------------------------------------------------------------------------------


def test_symptom_triage_and_advice(patient_pat, clinician_carol):
    emergency = svc.symptom_report_submit(
        actor=clinician_carol, patient=patient_pat, symptoms=["limb_pain_swelling", "chest_pain"]
    )
    assert emergency.triage == "emergency" and emergency.advice.startswith("Call emergency services now")
    urgent = svc.symptom_report_submit(actor=clinician_carol, patient=patient_pat, symptoms=["limb_pain_swelling"])
    assert urgent.triage == "urgent" and "Seek medical care today" in urgent.advice
    routine = svc.symptom_report_submit(
        actor=clinician_carol, patient=patient_pat, symptoms=["other"], note="mild headache"
    )
    assert routine.triage == "routine"


@pytest.mark.parametrize("symptoms", [[], ["sneezing"], ["chest_pain", 7]])
def test_bad_symptom_reports_refused(patient_pat, clinician_carol, symptoms):
    with pytest.raises(ValidationError) as err:
        svc.symptom_report_submit(actor=clinician_carol, patient=patient_pat, symptoms=symptoms)
    assert "symptoms" in field_errors(err.value)
    assert SymptomReport.objects.count() == 0


# --- arithmetic (worked examples of risk/README.md, dosing weight) ------------------------


def test_ibw_abw_worked_example():
    # 160 cm, 120 kg woman -> IBW 52.4 kg; ABW 79.4 kg; 2 g/kg course = 159 g
    ibw = bodysize.ideal_body_weight("female", 160)
    abw = bodysize.adjusted_body_weight("female", 160, 120)
    assert ibw == pytest.approx(52.4, abs=0.1)
    assert abw == pytest.approx(79.4, abs=0.1)
    assert round(2 * abw) == 159


def test_v01_body_size():
    assert bodysize.bmi(178, 96) == pytest.approx(30.3, abs=0.05)
    assert bodysize.ideal_body_weight("male", 178) == pytest.approx(73.2, abs=0.1)
    assert bodysize.adjusted_body_weight("male", 178, 96) == pytest.approx(82.3, abs=0.1)


def test_rate_conversions():
    # V01: 460 mL/h of a 10% product at 96 kg = 8.0 mg/kg/min; V07: 3.3 mg/kg/min at 72 kg = ~143 mL/h
    assert bodysize.mg_kg_min_from_ml_h(460, 10, 96) == pytest.approx(8.0, abs=0.05)
    assert bodysize.ml_h_from_mg_kg_min(3.3, 10, 72) == pytest.approx(142.6, abs=0.1)
    assert bodysize.age_years(date(1960, 3, 2), date(2025, 3, 1)) == 64


@pytest.mark.parametrize(
    ("age", "weight", "height", "ok"),
    [
        (3, 15, 95, True),  # a Kawasaki child
        (17, 24, 119, True),
        (3, 1.5, 95, False),  # under the children's 2 kg gate
        (3, 15, 40, False),  # under the children's 45 cm gate
        (18, 24, 170, False),  # the adult weight gate from 18
        (18, 60, 119, False),  # the adult height gate from 18
    ],
)
def test_children_have_their_own_weight_and_height_gates(clinician_carol, age, weight, height, ok):
    born = date(date.today().year - age, 1, 1)  # that age since 1 January
    data = dict(mrn="K1", given_name="K", family_name="C", date_of_birth=born, sex="female", diagnosis="kawasaki")
    if ok:
        p = svc.patient_create(actor=clinician_carol, weight_kg=weight, height_cm=height, **data)
        assert float(p.weight_kg) == weight and float(p.height_cm) == height
    else:
        with pytest.raises(ValidationError):
            svc.patient_create(actor=clinician_carol, weight_kg=weight, height_cm=height, **data)
        assert Patient.objects.count() == 0 and WeightMeasurement.objects.count() == 0
