"""Shared fixtures: the personas every permission test uses (healthchecks style).

carol (clinician), nina (nurse), pat (a patient with a record), quinn (another patient),
and the anonymous client.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth import get_user_model

from patients import services as patient_services


@pytest.fixture
def make_user(db):
    def make(username: str, role: str, **extra):
        return get_user_model().objects.create_user(
            username=username, password="correct-horse-battery", role=role, email=f"{username}@clinic.test", **extra
        )

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
    """Transactional tests flush every table, the products the data migration seeded included;
    put them back so each such test starts from the same reference data as the others."""
    marker = request.node.get_closest_marker("django_db")
    transactional = marker is not None and (marker.kwargs.get("transaction") or (marker.args and marker.args[0]))
    if not transactional:
        return
    request.getfixturevalue("transactional_db")
    import importlib

    from django.apps import apps

    importlib.import_module("infusions.migrations.0002_seed_products").seed(apps, None)
