"""A patient sees their own records only: another patient's id is a 404 everywhere (details,
?patient= filters, actions), never a hint that it exists; flags are staff-only (403)."""

from __future__ import annotations

import pytest

from infusions.models import Infusion
from patients.models import SymptomReport
from tests import payloads

pytestmark = pytest.mark.django_db

PATIENT_READABLE = [
    "patients",
    "conditions",
    "vascular-access",
    "thrombosis-events",
    "labs",
    "symptom-reports",
    "regimens",
    "infusions",
    "medications",
    "assessments",
]
FILTERABLE = [name for name in PATIENT_READABLE if name != "patients"] + ["flags"]


@pytest.mark.parametrize("name", PATIENT_READABLE)
def test_another_patients_record_is_404(name, pat_api, quinn_records):
    assert pat_api.get(f"/api/v1/{name}/{quinn_records[name].public_id}/").status_code == 404


@pytest.mark.parametrize("name", PATIENT_READABLE)
def test_list_shows_only_own_rows(name, pat_api, quinn_api, quinn_records, patient_pat):
    rows = pat_api.get(f"/api/v1/{name}/").json()["results"]
    ids = {row["id"] for row in rows}
    assert str(quinn_records[name].public_id) not in ids
    if name != "patients":
        assert all(row["patient"] == str(patient_pat.public_id) for row in rows)
    # and quinn sees theirs
    theirs = quinn_api.get(f"/api/v1/{name}/").json()["results"]
    assert str(quinn_records[name].public_id) in {row["id"] for row in theirs}


@pytest.mark.parametrize("name", [n for n in FILTERABLE if n != "flags"])
def test_filtering_by_another_patient_is_404(name, pat_api, quinn_records, patient_quinn, patient_pat):
    response = pat_api.get(f"/api/v1/{name}/", {"patient": str(patient_quinn.public_id)})
    assert response.status_code == 404
    assert pat_api.get(f"/api/v1/{name}/", {"patient": str(patient_pat.public_id)}).status_code == 200


def test_flags_are_staff_only(pat_api, quinn_records, nina_api):
    flag = quinn_records["flags"]
    assert pat_api.get("/api/v1/flags/").status_code == 403
    assert pat_api.get(f"/api/v1/flags/{flag.public_id}/").status_code == 403
    assert pat_api.post(f"/api/v1/flags/{flag.public_id}/acknowledge/", {}, format="json").status_code == 403
    assert nina_api.get(f"/api/v1/flags/{flag.public_id}/").status_code == 200


def test_patient_actions_on_another_patient_are_404(pat_api, patient_quinn):
    assert pat_api.get(f"/api/v1/patients/{patient_quinn.public_id}/risk/").status_code == 404
    # assess is staff-only: refused before any lookup
    assert pat_api.post(f"/api/v1/patients/{patient_quinn.public_id}/assess/").status_code == 403


@pytest.mark.parametrize(
    "name", ["conditions", "vascular-access", "thrombosis-events", "labs", "regimens", "medications"]
)
def test_patient_cannot_write_staff_records(name, pat_api, patient_pat, product):
    body = payloads.for_resource(name, patient_id=patient_pat.public_id, product_id=product.public_id)
    assert pat_api.post(f"/api/v1/{name}/", body, format="json").status_code == 403


def test_patient_logs_own_infusion_without_naming_themself(pat_api, patient_pat, product):
    body = payloads.for_resource("infusions", patient_id=patient_pat.public_id, product_id=product.public_id)
    body.pop("patient")
    response = pat_api.post("/api/v1/infusions/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["patient"] == str(patient_pat.public_id)
    assert response.json()["source"] == "patient"
    infusion = Infusion.objects.get(public_id=response.json()["id"])
    assert infusion.source == "patient" and infusion.recorded_by == patient_pat.user
    # naming themself is fine too; a sent "source" is ignored (the server sets it)
    # (another start time: the same patient, product and minute would be a duplicate, a 409)
    body.update(patient=str(patient_pat.public_id), source="staff", started_at="2024-06-02T10:00:00Z")
    again = pat_api.post("/api/v1/infusions/", body, format="json")
    assert again.status_code == 201 and again.json()["source"] == "patient"
    # but corrections are the clinic's
    assert pat_api.patch(f"/api/v1/infusions/{infusion.public_id}/", {"note": "x"}, format="json").status_code == 403


def test_patient_reports_own_symptoms(pat_api, patient_pat):
    response = pat_api.post("/api/v1/symptom-reports/", {"symptoms": ["chest_pain"]}, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["patient"] == str(patient_pat.public_id)
    assert body["source"] == "patient" and body["triage"] == "emergency"
    assert "Call emergency services now" in body["advice"]
    assert SymptomReport.objects.get(public_id=body["id"]).source == "patient"


def test_a_patient_login_without_a_record_sees_nothing_and_logs_nothing(make_user, as_user, product):
    client = as_user(make_user("orphan", "patient"))
    assert client.get("/api/v1/patients/").json()["count"] == 0
    response = client.post("/api/v1/symptom-reports/", {"symptoms": ["other"]}, format="json")
    assert response.status_code == 400 and "patient" in response.json()


def test_staff_see_everyone(carol_api, quinn_records, patient_pat):
    assert carol_api.get("/api/v1/patients/").json()["count"] == 2
    assert carol_api.get(f"/api/v1/patients/{quinn_records['patients'].public_id}/").status_code == 200
