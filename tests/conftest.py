"""Shared fixtures: the personas every permission test uses (healthchecks style), and their
clients: ``*_api`` authenticate with a token (REST and FHIR), ``*_client`` are logged-in
browsers (pages).

carol (clinician), nina (nurse), pat (a patient with a record), quinn (another patient),
root (a superuser), and the anonymous client.

Tasks that services enqueue on commit run in-process (settings_test: CELERY_TASK_ALWAYS_EAGER),
so no test leaves tasks in the real Redis broker with no worker to take them; the worker
tests switch it off and start a worker of their own.

Tests marked `sqlite` also run in the SQLite leg of `make test` (ivigtrack/settings_sqlite_test.py);
tests marked `postgresql` are skipped on any other database.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from infusions import services as infusion_services
from ivigtrack.accounts.models import Site
from patients import services as patient_services
from tests import factories


@pytest.fixture
def make_user(db):
    """A user; staff join the default site (where patients without a named site live) unless
    ``sites`` names others."""

    def make(username: str, role: str, sites=None, **extra):
        user = get_user_model().objects.create_user(
            username=username, password="correct-horse-battery", role=role, email=f"{username}@clinic.test", **extra
        )
        if role != "patient" and not extra.get("is_superuser"):
            user.sites.set(sites if sites is not None else [Site.objects.default()])
        return user

    return make


@pytest.fixture
def clinician_carol(make_user):
    return make_user("carol", "clinician", first_name="Carol")


@pytest.fixture
def nurse_nina(make_user):
    return make_user("nina", "nurse", first_name="Nina")


@pytest.fixture
def patient_pat(make_user, clinician_carol):
    user = make_user("pat", "patient", first_name="Pat")
    return patient_services.patient_create(
        actor=clinician_carol,
        mrn="MRN-PAT",
        given_name="Pat",
        family_name="Doe",
        date_of_birth=date(1970, 5, 1),
        sex="female",
        height_cm=165,
        diagnosis="cidp",
        user=user,
        weight_kg=70,
    )


@pytest.fixture
def patient_quinn(make_user, clinician_carol):
    user = make_user("quinn", "patient", first_name="Quinn")
    return patient_services.patient_create(
        actor=clinician_carol,
        mrn="MRN-QUINN",
        given_name="Quinn",
        family_name="Roe",
        date_of_birth=date(1980, 1, 1),
        sex="male",
        height_cm=180,
        diagnosis="mmn",
        user=user,
        weight_kg=80,
    )


@pytest.fixture
def product(db):
    from infusions.models import Product

    return Product.objects.get(name="Privigen 10%")


@pytest.fixture(autouse=True)
def _seeded_products_in_transactional_tests(request):
    """Transactional tests flush every table, the products and drugs the data migrations seeded included;
    put them back so each such test starts from the same reference data as the others."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    importlib.import_module("infusions.migrations.0002_seed_products").seed(apps, None)
    importlib.import_module("infusions.migrations.0006_seed_drugs_code_courses").seed_and_code(apps, None)


def pytest_runtest_setup(item):
    """Tests marked `postgresql` (threads sharing one database, COPY, lz4) skip on SQLite."""
    if item.get_closest_marker("postgresql") is not None:
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.skip(f"needs PostgreSQL, not {connection.vendor}")


@pytest.fixture
def admin_user(make_user):
    return make_user("root", "clinician", is_superuser=True, is_staff=True)


# --- clients ----------------------------------------------------------------------------------


@pytest.fixture
def anon():
    return APIClient()


@pytest.fixture
def as_user():
    return factories.token_client


@pytest.fixture
def carol_api(clinician_carol):
    return factories.token_client(clinician_carol)


@pytest.fixture
def nina_api(nurse_nina):
    return factories.token_client(nurse_nina)


@pytest.fixture
def pat_api(patient_pat):
    return factories.token_client(patient_pat.user)


@pytest.fixture
def quinn_api(patient_quinn):
    return factories.token_client(patient_quinn.user)


@pytest.fixture
def admin_api(admin_user):
    return factories.token_client(admin_user)


@pytest.fixture
def carol_client(clinician_carol):
    return factories.session_client(clinician_carol)


@pytest.fixture
def nina_client(nurse_nina):
    return factories.session_client(nurse_nina)


@pytest.fixture
def pat_client(patient_pat):
    return factories.session_client(patient_pat.user)


@pytest.fixture
def quinn_client(patient_quinn):
    return factories.session_client(patient_quinn.user)


# --- rows on demand ---------------------------------------------------------------------------


@pytest.fixture
def make_flag(db):
    return factories.make_flag


@pytest.fixture
def make_assessment(db):
    return factories.make_assessment


def records_of(patient, actor, product) -> dict:
    """One record of every kind for this patient, keyed by the API's resource name."""
    access = patient_services.vascular_access_add(
        actor=actor, patient=patient, kind="port", vein="subclavian", inserted_on=date(2024, 1, 2)
    )
    records = {
        "patients": patient,
        "conditions": patient_services.condition_add(
            actor=actor, patient=patient, code="hypertension", onset_date=date(2020, 1, 1)
        ),
        "vascular-access": access,
        "thrombosis-events": patient_services.thrombosis_event_record(
            actor=actor, patient=patient, kind="dvt", status="suspected", diagnosed_on=date(2024, 6, 1)
        ),
        "labs": patient_services.lab_record(
            actor=actor,
            patient=patient,
            test="platelets",
            value=250,
            collected_at=datetime(2024, 6, 1, tzinfo=UTC),
        ),
        "symptom-reports": patient_services.symptom_report_submit(actor=actor, patient=patient, symptoms=["other"]),
        "regimens": infusion_services.regimen_create(
            actor=actor,
            patient=patient,
            product=product,
            dose_g_per_kg_per_day="0.4",
            days_per_course=1,
            interval_days=21,
            start_date=date(2024, 1, 1),
        ),
        "infusions": infusion_services.infusion_record(
            actor=actor,
            patient=patient,
            product=product,
            started_at=datetime(2024, 6, 1, 10, tzinfo=UTC),
            dose_grams="32",
            iga_override_reason="IgA requested, result awaited",  # the first-infusion IgA gate
        ),
        "medications": infusion_services.medication_record(
            actor=actor,
            patient=patient,
            category="diuretic",
            drug="furosemide",
            route="oral",
            start_date=date(2024, 1, 1),
        ),
        # an earlier weight in the history (no API resource: the staff pages and the admin)
        "weights": patient_services.weight_record(
            actor=actor, patient=patient, weight_kg=71, measured_on=date(2024, 1, 2)
        ),
    }
    from risk.services.assessment import patient_assess

    records["assessments"] = patient_assess(patient)
    records["flags"] = factories.make_urgent_flag(patient)
    from risk.services.haematology import haematology_review_record

    records["haematology-reviews"] = haematology_review_record(
        actor=actor,
        patient=patient,
        reviewed_on=date(2024, 6, 20),
        anticoagulation_plan="treatment_3_months",
        ivig_plan="slow_rate",
        thrombophilia_testing="deferred_after_ivig",
    )
    return records


@pytest.fixture
def quinn_records(patient_quinn, clinician_carol, product):
    """One record of every kind for quinn (the other patient): pat must never see these."""
    return records_of(patient_quinn, clinician_carol, product)


@pytest.fixture
def pat_records(patient_pat, clinician_carol, product):
    return records_of(patient_pat, clinician_carol, product)


@pytest.fixture
def fred_records(patient_fred, clinician_finn, product):
    """One record of every kind for fred, of the far site: main-site staff must never see these."""
    return records_of(patient_fred, clinician_finn, product)


# --- sites (a second clinic of the network) ---------------------------------------------------


@pytest.fixture
def main_site(db):
    """The default site: where carol, nina, pat and quinn are."""
    return Site.objects.default()


@pytest.fixture
def far_site(db):
    return Site.objects.create(
        name="Far clinic",
        code="FAR",
        time_zone="Australia/Sydney",
        phone="+61 2 5550 1234",
        emergency_number="000",
        alert_emails="far-oncall@clinic.test",
    )


@pytest.fixture
def nurse_fay(make_user, far_site):
    """A nurse of the far site only: she must never see the main site's patients."""
    return make_user("fay", "nurse", sites=[far_site], first_name="Fay")


@pytest.fixture
def clinician_finn(make_user, far_site):
    return make_user("finn", "clinician", sites=[far_site], first_name="Finn")


@pytest.fixture
def patient_fred(make_user, clinician_finn, far_site):
    """A patient of the far site (with a portal login)."""
    user = make_user("fred", "patient", first_name="Fred")
    return patient_services.patient_create(
        actor=clinician_finn,
        mrn="MRN-FRED",
        given_name="Fred",
        family_name="Far",
        date_of_birth=date(1975, 3, 3),
        sex="male",
        height_cm=175,
        diagnosis="cidp",
        user=user,
        weight_kg=75,
    )
