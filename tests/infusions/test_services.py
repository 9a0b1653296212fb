"""Regimens, infusions and medications: validation, database constraints, schedules, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from infusions import services as svc
from infusions.models import Infusion, MedicationCourse, Product, Regimen
from ivigtrack.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _iga_on_file(request):
    """pat has an IgA result, so the first-infusion IgA gate stays out of the tests of other
    things; the gate's own tests ask for ``no_iga``."""
    if "no_iga" in request.fixturenames:
        return
    pat = request.getfixturevalue("patient_pat") if "patient_pat" in request.fixturenames else None
    if pat is not None:
        from patients.services import lab_record

        nurse = request.getfixturevalue("nurse_nina")
        lab_record(actor=nurse, patient=pat, test="iga", value=150, collected_at=timezone.now() - timedelta(days=30))


@pytest.fixture
def no_iga():
    return None


def _given(patient, actor, product, *, hours_ago: int = 2, **extra):
    return svc.infusion_record(
        actor=actor,
        patient=patient,
        product=product,
        dose_grams=30,
        started_at=timezone.now() - timedelta(hours=hours_ago),
        status="administered",
        **extra,
    )


def test_first_infusion_without_iga_needs_a_reason(no_iga, patient_pat, nurse_nina, product):
    with pytest.raises(ValidationError) as err:
        _given(patient_pat, nurse_nina, product)
    assert "iga_override_reason" in err.value.message_dict
    assert Infusion.objects.count() == 0
    first = _given(patient_pat, nurse_nina, product, iga_override_reason="IgA awaited; GBS cannot wait")
    audit = AuditEvent.objects.get(action="infusion.record", object_id=str(first.public_id))
    assert audit.detail["iga_override_reason"] == "IgA awaited; GBS cannot wait"
    # the second (a day later: the same minute would be a duplicate) is not gated
    assert _given(patient_pat, nurse_nina, product, hours_ago=26).iga_override_reason == ""


def test_planned_first_infusion_is_not_gated_but_administering_it_is(no_iga, patient_pat, nurse_nina, product):
    planned = svc.infusion_record(
        actor=nurse_nina,
        patient=patient_pat,
        product=product,
        dose_grams=30,
        started_at=timezone.now() + timedelta(days=1),
        status="planned",
    )
    with pytest.raises(ValidationError) as err:
        svc.infusion_update(
            actor=nurse_nina, infusion=planned, status="administered", started_at=timezone.now() - timedelta(hours=1)
        )
    assert "iga_override_reason" in err.value.message_dict
    planned.refresh_from_db()
    assert planned.status == "planned"


def test_patient_logged_home_infusion_is_not_gated(no_iga, patient_pat, nurse_nina, product):
    logged = svc.infusion_record(
        actor=patient_pat.user,
        patient=patient_pat,
        product=product,
        dose_grams=30,
        started_at=timezone.now() - timedelta(hours=2),
        status="administered",
        source="patient",
    )
    assert logged.pk and logged.iga_override_reason == ""


def test_products_are_seeded_with_label_rates():
    assert Product.objects.get(name="Gamunex-C 10%").label_max_rate("cidp") == 8.0
    assert Product.objects.get(name="Privigen 10%").label_max_rate("itp") == 4.0
    assert Product.objects.get(name="Gammagard Liquid 10%").label_max_rate("mmn") == 9.0
    assert float(Product.objects.get(name="Octagam 5%").concentration_percent) == 5.0


def test_administered_infusion_in_the_future_is_refused(patient_pat, nurse_nina, product):
    with pytest.raises(ValidationError) as err:
        svc.infusion_record(
            actor=nurse_nina,
            patient=patient_pat,
            product=product,
            dose_grams=30,
            started_at=timezone.now() + timedelta(days=10),
            status="administered",
        )
    assert "started_at" in err.value.message_dict
    assert Infusion.objects.count() == 0


def test_clock_skew_of_three_minutes_is_accepted(patient_pat, nurse_nina, product):
    infusion = svc.infusion_record(
        actor=nurse_nina,
        patient=patient_pat,
        product=product,
        dose_grams=30,
        started_at=timezone.now() + timedelta(minutes=3),
        status="administered",
    )
    assert infusion.pk and float(infusion.weight_kg_used) == 70.0
    assert infusion.dose_g_per_kg == pytest.approx(30 / 70)


def test_planned_infusion_may_be_in_the_future_and_deleted(patient_pat, nurse_nina, product):
    infusion = svc.infusion_record(
        actor=nurse_nina,
        patient=patient_pat,
        product=product,
        dose_grams=30,
        started_at=timezone.now() + timedelta(days=10),
        status="planned",
    )
    svc.infusion_delete(actor=nurse_nina, infusion=infusion)
    assert Infusion.objects.count() == 0
    assert AuditEvent.objects.filter(action="infusion.delete").exists()


def test_administered_infusion_cannot_be_deleted(patient_pat, nurse_nina, product):
    infusion = svc.infusion_record(
        actor=nurse_nina,
        patient=patient_pat,
        product=product,
        dose_grams=30,
        started_at=timezone.now() - timedelta(hours=1),
    )
    with pytest.raises(ValidationError):
        svc.infusion_delete(actor=nurse_nina, infusion=infusion)
    assert Infusion.objects.count() == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dose_grams": -5}, "The dose must be more than 0"),
        ({"dose_grams": 0}, "The dose must be more than 0"),
        ({"max_rate_mg_kg_min": 50}, "at most 20 mg/kg/min"),
        ({"status": "given"}, "status"),
    ],
)
def test_bad_infusions_refused(patient_pat, nurse_nina, product, fields, message):
    data = {"product": product, "dose_grams": 30, "started_at": timezone.now() - timedelta(hours=1)}
    data.update(fields)
    with pytest.raises(ValidationError) as err:
        svc.infusion_record(actor=nurse_nina, patient=patient_pat, **data)
    assert message in str(err.value)
    assert Infusion.objects.count() == 0


def test_regimen_from_another_patient_refused(patient_pat, patient_quinn, clinician_carol, product):
    regimen = svc.regimen_create(
        actor=clinician_carol,
        patient=patient_quinn,
        product=product,
        dose_g_per_kg_per_day=1,
        days_per_course=1,
        interval_days=21,
        start_date=date(2025, 1, 1),
    )
    with pytest.raises(ValidationError) as err:
        svc.infusion_record(
            actor=clinician_carol,
            patient=patient_pat,
            regimen=regimen,
            dose_grams=30,
            started_at=timezone.now() - timedelta(hours=1),
        )
    assert "regimen" in err.value.message_dict


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"dose_g_per_kg_per_day": None}, "Give the dose in g/kg/day or in grams per day."),
        ({"dose_g_per_kg_per_day": -1}, "The dose must be more than 0"),
        ({"end_date": date(2024, 1, 1)}, "The end date cannot be before the start date."),
        ({"days_per_course": 9}, "A course lasts 1 to 7 consecutive days."),
        ({"interval_days": 2, "days_per_course": 5}, "The interval cannot be shorter than the course."),
    ],
)
def test_bad_regimens_refused(patient_pat, clinician_carol, product, fields, message):
    data = {
        "product": product,
        "dose_g_per_kg_per_day": 1,
        "days_per_course": 1,
        "interval_days": 21,
        "start_date": date(2025, 1, 1),
    }
    data.update(fields)
    with pytest.raises(ValidationError) as err:
        svc.regimen_create(actor=clinician_carol, patient=patient_pat, **data)
    assert message in str(err.value)
    assert Regimen.objects.count() == 0


def test_regimen_next_course_dates(patient_pat, clinician_carol, product):
    regimen = svc.regimen_create(
        actor=clinician_carol,
        patient=patient_pat,
        product=product,
        dose_g_per_kg_per_day=0.5,
        days_per_course=2,
        interval_days=28,
        start_date=date(2025, 1, 1),
    )
    assert regimen.course_starts(date(2025, 1, 1), 2) == [date(2025, 1, 1), date(2025, 1, 29)]
    assert regimen.course_starts(date(2025, 1, 2), 1) == [date(2025, 1, 29)]
    assert regimen.next_course_dates(date(2025, 2, 1), 1) == [[date(2025, 2, 26), date(2025, 2, 27)]]
    one_off = svc.regimen_create(
        actor=clinician_carol,
        patient=patient_pat,
        product=product,
        dose_g_per_kg_per_day=0.4,
        days_per_course=5,
        interval_days=None,
        start_date=date(2025, 3, 10),
    )
    assert one_off.course_starts(date(2025, 3, 1), 3) == [date(2025, 3, 10)]
    assert one_off.course_starts(date(2025, 3, 11), 3) == []


def test_steroids_convert_to_prednisolone_equivalents(patient_pat, clinician_carol):
    course = svc.medication_record(
        actor=clinician_carol,
        patient=patient_pat,
        category="steroid",
        drug="Dexamethasone",
        dose_mg_per_day=6,
        route="oral",
        start_date=date(2025, 1, 1),
    )
    assert float(course.prednisolone_eq_mg_per_day) == pytest.approx(40.0)


def test_anticoagulant_needs_intensity_and_unknown_steroid_refused(patient_pat, clinician_carol):
    with pytest.raises(ValidationError) as err:
        svc.medication_record(
            actor=clinician_carol,
            patient=patient_pat,
            category="anticoagulant",
            drug="apixaban",
            route="oral",
            start_date=date(2025, 1, 1),
        )
    assert "intensity" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        svc.medication_record(
            actor=clinician_carol,
            patient=patient_pat,
            category="steroid",
            drug="unicornisone",
            route="oral",
            start_date=date(2025, 1, 1),
        )
    assert "drug" in err.value.message_dict
    assert MedicationCourse.objects.count() == 0
