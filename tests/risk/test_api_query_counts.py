"""patients/ (with risk) and flags/ lists read a fixed number of queries, whatever their size."""

from __future__ import annotations

from datetime import date

import pytest

from ivigtrack.accounts.models import Site
from patients.models import Patient
from risk.models import ReviewFlag
from risk.services.assessment import process_patients
from tests.factories import make_urgent_flag as make_flag

pytestmark = pytest.mark.django_db

# token lookup, the caller's sites, COUNT, the page (risk annotated by subqueries), the care
# teams (one prefetch), one audit row and one bulk insert of the patients it showed
# (ivigtrack.audit.AuditEventPatient): 3 rows or 30 alike
BOUND = 7


def make_patients(n: int) -> list[Patient]:
    site = Site.objects.default()
    patients = Patient.objects.bulk_create(
        Patient(
            mrn=f"QC-{i:03d}",
            given_name=f"Given{i}",
            family_name=f"Family{i:03d}",
            date_of_birth=date(1960 + i % 40, 1, 1),
            sex="female" if i % 2 else "male",
            height_cm=170,
            weight_kg=70,
            weight_measured_on=date(2025, 1, 1),
            diagnosis="cidp",
            site=site,
        )
        for i in range(n)
    )
    process_patients([p.pk for p in patients])  # every patient gets a current assessment
    return patients


@pytest.mark.parametrize("n", [3, 30])
def test_patient_list_with_risk_is_constant(n, carol_api, django_assert_max_num_queries):
    make_patients(n)
    carol_api.get("/api/v1/patients/")  # warm the token and content types
    with django_assert_max_num_queries(BOUND):
        body = carol_api.get("/api/v1/patients/").json()
    assert body["count"] == n
    assert all(row["risk"] is not None for row in body["results"])
    with django_assert_max_num_queries(BOUND):
        assert (
            carol_api.get("/api/v1/patients/", {"tier": body["results"][0]["risk"]["tier"], "q": "Family"}).status_code
            == 200
        )


@pytest.mark.parametrize("n", [3, 30])
def test_flag_list_is_constant(n, carol_api, nurse_nina, django_assert_max_num_queries):
    from django.utils import timezone

    for patient in make_patients(n):
        make_flag(patient, acknowledged_by=nurse_nina, acknowledged_at=timezone.now(), status="acknowledged")
    carol_api.get("/api/v1/flags/")
    with django_assert_max_num_queries(BOUND):
        body = carol_api.get("/api/v1/flags/").json()
    assert body["count"] == ReviewFlag.objects.count() >= n
    assert all(row["acknowledged_by"] == "nina" for row in body["results"] if row["status"] == "acknowledged")
