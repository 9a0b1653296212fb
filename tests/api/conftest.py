"""The API's small world: one record of every kind for quinn, the patient pat must never see."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from infusions import services as infusion_services
from patients import services as patient_services
from tests.factories import make_urgent_flag


@pytest.fixture
def quinn_records(patient_quinn, clinician_carol, product):
    """One record of every kind for quinn (the other patient): pat must never see these."""
    actor = clinician_carol
    access = patient_services.vascular_access_add(
        actor=actor, patient=patient_quinn, kind="port", vein="subclavian", inserted_on=date(2024, 1, 2)
    )
    records = {
        "patients": patient_quinn,
        "conditions": patient_services.condition_add(
            actor=actor, patient=patient_quinn, code="hypertension", onset_date=date(2020, 1, 1)
        ),
        "vascular-access": access,
        "thrombosis-events": patient_services.thrombosis_event_record(
            actor=actor, patient=patient_quinn, kind="dvt", status="suspected", diagnosed_on=date(2024, 6, 1)
        ),
        "labs": patient_services.lab_record(
            actor=actor,
            patient=patient_quinn,
            test="platelets",
            value=250,
            collected_at=datetime(2024, 6, 1, tzinfo=UTC),
        ),
        "symptom-reports": patient_services.symptom_report_submit(
            actor=actor, patient=patient_quinn, symptoms=["other"]
        ),
        "regimens": infusion_services.regimen_create(
            actor=actor,
            patient=patient_quinn,
            product=product,
            dose_g_per_kg_per_day="0.4",
            days_per_course=1,
            interval_days=21,
            start_date=date(2024, 1, 1),
        ),
        "infusions": infusion_services.infusion_record(
            actor=actor,
            patient=patient_quinn,
            product=product,
            started_at=datetime(2024, 6, 1, 10, tzinfo=UTC),
            dose_grams="32",
        ),
        "medications": infusion_services.medication_record(
            actor=actor, patient=patient_quinn, category="diuretic", drug="furosemide", start_date=date(2024, 1, 1)
        ),
    }
    from risk.services.assessment import patient_assess

    records["assessments"] = patient_assess(patient_quinn)
    records["flags"] = make_urgent_flag(patient_quinn)
    return records
