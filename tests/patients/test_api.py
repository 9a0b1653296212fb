"""patients/: the record, derived sizes, current risk, filters, weights, roles and audit."""

from __future__ import annotations

from datetime import date

import pytest

from ivigtrack.audit.models import AuditEvent
from patients.models import Patient, WeightMeasurement
from risk.services.assessment import patient_assess
from tests import payloads

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_clinician_creates_a_patient_with_derived_sizes(carol_api):
    response = carol_api.post("/api/v1/patients/", payloads.patient(), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    patient = Patient.objects.get(public_id=body["id"])
    assert body["mrn"] == "MRN-NEW"
    assert body["weight_kg"] == 71.5
    assert body["bmi"] == round(71.5 / 1.68**2, 1)
    assert body["ideal_body_weight"] == round(patient.ideal_body_weight, 1)
    assert body["adjusted_body_weight"] == round(patient.adjusted_body_weight, 1)
    assert isinstance(body["age"], int)
    assert "risk" in body
    # the weight history starts with the first weight
    assert WeightMeasurement.objects.filter(patient=patient, is_current=True).count() == 1
    assert AuditEvent.objects.filter(action="patient.create", patient_id=patient.pk).exists()


def test_retrieve_shows_current_risk_and_is_audited(carol_api, clinician_carol, patient_pat):
    assessment = patient_assess(patient_pat)
    response = carol_api.get(f"/api/v1/patients/{patient_pat.public_id}/")
    assert response.status_code == 200
    risk = response.json()["risk"]
    assert risk["score"] == assessment.score
    assert risk["tier"] == assessment.tier
    assert risk["provisional"] == assessment.provisional
    assert risk["assessed_at"]
    view = AuditEvent.objects.get(action="patient.view", patient_id=patient_pat.pk)
    assert view.actor == clinician_carol
    assert view.detail["via"] == "api"


def test_risk_is_null_before_any_assessment(carol_api, patient_pat):
    assert carol_api.get(f"/api/v1/patients/{patient_pat.public_id}/").json()["risk"] is None


def test_list_is_ordered_filtered_and_writes_one_audit_row(carol_api, patient_pat, patient_quinn):
    patient_assess(patient_pat)
    before = AuditEvent.objects.count()
    body = carol_api.get("/api/v1/patients/").json()
    assert AuditEvent.objects.count() == before + 1
    assert AuditEvent.objects.latest("id").action == "patient.list"
    assert body["count"] == 2 and body["previous"] is None and body["next"] is None
    assert [p["family_name"] for p in body["results"]] == ["Doe", "Roe"]
    tier = body["results"][0]["risk"]["tier"]
    by_tier = carol_api.get(f"/api/v1/patients/?tier={tier}").json()["results"]
    assert [p["mrn"] for p in by_tier] == ["MRN-PAT"]
    assert carol_api.get("/api/v1/patients/?q=roe").json()["results"][0]["mrn"] == "MRN-QUINN"
    assert carol_api.get("/api/v1/patients/?q=MRN-P").json()["count"] == 1
    assert carol_api.get("/api/v1/patients/?active=false").json()["count"] == 0
    assert carol_api.get("/api/v1/patients/?tier=extreme").status_code == 400


def test_pagination_shape(carol_api, patient_pat, patient_quinn):
    body = carol_api.get("/api/v1/patients/?page_size=1").json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert body["count"] == 2 and len(body["results"]) == 1 and "page=2" in body["next"]
    second = carol_api.get(body["next"]).json()
    assert second["results"][0]["mrn"] == "MRN-QUINN"
    assert carol_api.get("/api/v1/patients/?page=9").status_code == 404


def test_clinician_updates_record_and_weight_goes_to_the_history(carol_api, patient_pat):
    url = f"/api/v1/patients/{patient_pat.public_id}/"
    response = carol_api.patch(url, {"given_name": "Patricia", "weight_kg": 68}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["given_name"] == "Patricia"
    assert response.json()["weight_kg"] == 68.0
    # an older measurement goes into the history without replacing the current weight
    older = carol_api.patch(url, {"weight_kg": 66, "weight_measured_on": "2025-01-10"}, format="json")
    assert older.status_code == 200 and older.json()["weight_kg"] == 68.0
    assert WeightMeasurement.objects.filter(patient=patient_pat).count() == 3
    assert AuditEvent.objects.filter(action="weight.record", patient_id=patient_pat.pk).exists()


def test_a_weight_cannot_be_removed(carol_api, patient_pat):
    response = carol_api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"weight_kg": None}, format="json")
    assert response.status_code == 400
    assert "weight_kg" in response.json()


def test_a_rejected_update_changes_nothing(carol_api, patient_pat):
    """The name change and the (future-dated) weight go together or not at all."""
    url = f"/api/v1/patients/{patient_pat.public_id}/"
    response = carol_api.patch(
        url, {"given_name": "Changed", "weight_kg": 60, "weight_measured_on": "2099-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "weight_measured_on" in response.json()
    patient_pat.refresh_from_db()
    assert patient_pat.given_name == "Pat"
    assert WeightMeasurement.objects.filter(patient=patient_pat).count() == 1


def test_nurse_records_a_weight_but_not_the_record(nina_api, patient_pat):
    url = f"/api/v1/patients/{patient_pat.public_id}/"
    assert nina_api.patch(url, {"weight_kg": 69.5}, format="json").status_code == 200
    assert nina_api.patch(url, {"given_name": "X"}, format="json").status_code == 403
    assert nina_api.patch(url, {"weight_kg": 69, "given_name": "X"}, format="json").status_code == 403
    assert nina_api.post("/api/v1/patients/", payloads.patient(), format="json").status_code == 403
    assert nina_api.get(url).status_code == 200


def test_patient_sees_only_their_own_record(pat_api, patient_pat, patient_quinn):
    body = pat_api.get("/api/v1/patients/").json()
    assert [p["mrn"] for p in body["results"]] == ["MRN-PAT"]
    assert pat_api.get(f"/api/v1/patients/{patient_pat.public_id}/").status_code == 200
    assert pat_api.get(f"/api/v1/patients/{patient_quinn.public_id}/").status_code == 404
    assert pat_api.get(f"/api/v1/patients/{patient_quinn.public_id}/risk/").status_code == 404
    assert pat_api.get("/api/v1/patients/?q=roe").json()["count"] == 0
    # and writes nothing about a patient record
    assert (
        pat_api.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"weight_kg": 60}, format="json").status_code == 403
    )
    assert pat_api.post("/api/v1/patients/", payloads.patient(), format="json").status_code == 403
    # a patient's own reads are not "staff reads of a patient record"
    assert not AuditEvent.objects.filter(action="patient.view").exists()


def test_malformed_and_unknown_ids_are_404(carol_api):
    assert carol_api.get("/api/v1/patients/not-a-uuid/").status_code == 404
    assert carol_api.get("/api/v1/patients/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_assess_now_returns_the_current_assessment(carol_api, nina_api, pat_api, patient_pat):
    url = f"/api/v1/patients/{patient_pat.public_id}/assess/"
    response = carol_api.post(url)
    assert response.status_code == 200
    body = response.json()
    assert body["is_current"] is True and body["patient"] == str(patient_pat.public_id)
    assert body["ruleset"] and body["tier"] in ("low", "moderate", "high")
    assert "inputs" not in body and isinstance(body["factors"], list)  # not the whole input snapshot
    assert nina_api.post(url).status_code == 200
    assert pat_api.post(url).status_code == 403


def test_risk_as_of_is_computed_not_stored(carol_api, pat_api, patient_pat):
    from risk.models import RiskAssessment

    url = f"/api/v1/patients/{patient_pat.public_id}/risk/"
    response = carol_api.get(url, {"as_of": "2025-03-01T09:00:00Z"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["stored"] is False
    assert body["as_of"].startswith("2025-03-01T09:00:00")
    assert body["patient"] == str(patient_pat.public_id)
    assert {"score", "tier", "provisional", "factors", "components", "missing", "recommendations"} <= set(body)
    assert not RiskAssessment.objects.filter(patient=patient_pat).exists()
    assert carol_api.get(url).status_code == 200  # default: now
    assert pat_api.get(url).status_code == 200  # their own risk
    audit = AuditEvent.objects.filter(action="patient.view", patient_id=patient_pat.pk)
    assert audit.count() == 2 and audit.first().detail["resource"] == "risk"


@pytest.mark.parametrize(
    "as_of",
    ["yesterday", "2025-13-01T00:00:00Z", "1899-12-31T00:00:00Z", "9999-01-01T00:00:00Z", "1960-01-01T00:00:00Z"],
)
def test_risk_with_a_bad_as_of_is_400(carol_api, patient_pat, as_of):
    response = carol_api.get(f"/api/v1/patients/{patient_pat.public_id}/risk/", {"as_of": as_of})
    assert response.status_code == 400
    assert "as_of" in response.json()


def test_patients_are_never_deleted(carol_api, patient_pat):
    assert carol_api.delete(f"/api/v1/patients/{patient_pat.public_id}/").status_code == 405
    assert Patient.objects.filter(pk=patient_pat.pk).exists()


def test_born_today_is_fine_born_tomorrow_is_not(carol_api):
    from datetime import timedelta

    from django.utils import timezone

    today = timezone.localdate()
    ok = carol_api.post(
        "/api/v1/patients/",
        payloads.patient(mrn="A1", date_of_birth=str(today), weight_kg=None, weight_measured_on=None),
        format="json",
    )
    assert ok.status_code == 201, ok.json()
    late = carol_api.post(
        "/api/v1/patients/",
        payloads.patient(
            mrn="A2", date_of_birth=str(today + timedelta(days=1)), weight_kg=None, weight_measured_on=None
        ),
        format="json",
    )
    assert late.status_code == 400 and "date_of_birth" in late.json()
    assert date.fromisoformat(ok.json()["date_of_birth"]) == today


def test_clinician_links_a_portal_login(carol_api, make_user, nurse_nina):
    make_user("nora", "patient")
    created = carol_api.post("/api/v1/patients/", payloads.patient(user="nora"), format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["user"] == "nora"
    # only patient-role logins, and each at most once
    staff = carol_api.post("/api/v1/patients/", payloads.patient(mrn="B2", user="nina"), format="json")
    assert staff.status_code == 400 and "user" in staff.json()
    twice = carol_api.post("/api/v1/patients/", payloads.patient(mrn="B3", user="nora"), format="json")
    assert twice.status_code == 400 and "user" in twice.json()
