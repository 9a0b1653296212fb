"""API test fixtures: token clients for the personas of tests/conftest.py, and a small world.

Tasks that services enqueue on commit run in-process here (CELERY_TASK_ALWAYS_EAGER): an API
test must never leave tasks in the real Redis broker with no worker to take them.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from infusions import services as infusion_services
from patients import services as patient_services
from risk.models import ReviewFlag

NOW = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True


@pytest.fixture
def anon():
    return APIClient()


def token_client(user) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def as_user():
    return token_client


@pytest.fixture
def carol_api(clinician_carol):
    return token_client(clinician_carol)


@pytest.fixture
def nina_api(nurse_nina):
    return token_client(nurse_nina)


@pytest.fixture
def pat_api(patient_pat):
    return token_client(patient_pat.user)


@pytest.fixture
def quinn_api(patient_quinn):
    return token_client(patient_quinn.user)


@pytest.fixture
def admin_user(make_user):
    return make_user("root", "clinician", is_superuser=True, is_staff=True)


@pytest.fixture
def admin_api(admin_user):
    return token_client(admin_user)


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
    from risk.services import patient_assess

    records["assessments"] = patient_assess(patient_quinn)
    records["flags"] = make_flag(patient_quinn)
    return records


def make_flag(patient, *, kind="hematology_review", rule="HEM-URGENT", priority="urgent", status="open", **extra):
    """A flag as the sweep would raise it (tests of the flag endpoints need one on demand)."""
    from django.utils import timezone

    rank = {"emergency": 0, "urgent": 1, "routine": 2}[priority]
    now = timezone.now()
    return ReviewFlag.objects.create(
        patient=patient,
        kind=kind,
        rule=rule,
        priority=priority,
        priority_rank=rank,
        status=status,
        reason=f"{rule} for the test.",
        evidence={"test": True},
        raised_at=now,
        due_at=now,
        **extra,
    )
