"""The read-only FHIR R4 view: resources validate with fhir.resources (R4B models, the R4
line), searchset Bundles page with _count, scoping and roles as in the REST API."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.clinicalimpression import ClinicalImpression
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.medicationadministration import MedicationAdministration
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.riskassessment import RiskAssessment

from infusions.services import infusion_record
from ivigtrack.audit.models import AuditEvent
from patients.services import lab_record
from risk.services.assessment import patient_assess
from tests.factories import make_urgent_flag as make_flag

pytestmark = pytest.mark.django_db

MODELS = {
    "Patient": FhirPatient,
    "RiskAssessment": RiskAssessment,
    "Flag": Flag,
    "MedicationAdministration": MedicationAdministration,
    "Observation": Observation,
    "ClinicalImpression": ClinicalImpression,
}


def fhir_json(response, status=200):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def searchset(response) -> dict:
    data = fhir_json(response)
    bundle = Bundle.model_validate(data)
    assert bundle.type == "searchset"
    for entry in data["entry"]:
        MODELS[entry["resource"]["resourceType"]].model_validate(entry["resource"])
    return data


@pytest.fixture
def history(patient_pat, clinician_carol, product):
    """Three administered infusions, one planned; three labs (one doubtful); an assessment; flags."""
    start = datetime(2024, 1, 1, 9, tzinfo=UTC)
    for k in range(3):
        infusion_record(
            actor=clinician_carol,
            patient=patient_pat,
            product=product,
            started_at=start + timedelta(days=21 * k),
            dose_grams="28",
            max_rate_mg_kg_min="3.0",
            lot_number=f"LOT-{k}",
            iga_override_reason="" if k else "IgA requested, result awaited",  # first-infusion IgA gate
        )
    infusion_record(
        actor=clinician_carol,
        patient=patient_pat,
        product=product,
        started_at=datetime(2099, 1, 1, tzinfo=UTC),
        dose_grams="28",
        status="planned",
    )
    lab_record(
        actor=clinician_carol, patient=patient_pat, test="d_dimer", value=0.4, collected_at=start, reference_high=0.5
    )
    lab_record(actor=clinician_carol, patient=patient_pat, test="inr", value=1.0, collected_at=start)
    lab_record(actor=clinician_carol, patient=patient_pat, test="platelets", value=1200, collected_at=start)  # doubtful
    patient_assess(patient_pat)
    make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine")
    return patient_pat


def test_patient_read(carol_api, patient_pat):
    data = fhir_json(carol_api.get(f"/fhir/Patient/{patient_pat.public_id}"))
    patient = FhirPatient.model_validate(data)
    assert patient.id == str(patient_pat.public_id)
    assert patient.gender == "female" and str(patient.birthDate) == "1970-05-01"
    assert patient.identifier[0].value == "MRN-PAT"
    assert AuditEvent.objects.filter(action="patient.view", patient_id=patient_pat.pk, detail__via="fhir").exists()


def test_patient_search_by_identifier(carol_api, patient_pat, patient_quinn):
    data = searchset(carol_api.get("/fhir/Patient", {"identifier": "urn:ivigtrack:mrn|MRN-QUINN"}))
    assert data["total"] == 1 and data["entry"][0]["resource"]["id"] == str(patient_quinn.public_id)
    assert searchset(carol_api.get("/fhir/Patient"))["total"] == 2


def test_medication_administrations_one_per_administered_infusion_paged(carol_api, history):
    first = searchset(carol_api.get("/fhir/MedicationAdministration", {"patient": str(history.public_id), "_count": 2}))
    assert first["total"] == 3 and len(first["entry"]) == 2
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "next" in links and "previous" not in links
    second = searchset(carol_api.get(links["next"]))
    assert second["total"] == 3 and len(second["entry"]) == 1
    assert "next" not in {link["relation"] for link in second["link"]}
    seen = {e["resource"]["id"] for e in first["entry"] + second["entry"]}
    assert len(seen) == 3
    resource = first["entry"][0]["resource"]
    coding = resource["medicationCodeableConcept"]["coding"][0]
    assert (coding["system"], coding["code"]) == ("http://www.whocc.no/atc", "J06BA02")
    assert resource["status"] == "completed" and resource["subject"]["reference"] == f"Patient/{history.public_id}"
    assert resource["dosage"]["dose"] == {
        "value": 28.0,
        "unit": "g",
        "system": "http://unitsofmeasure.org",
        "code": "g",
    }
    # every entry's fullUrl resolves
    read = fhir_json(carol_api.get(first["entry"][0]["fullUrl"]))
    MedicationAdministration.model_validate(read)


def test_observations_are_loinc_coded_labs(carol_api, history):
    data = searchset(carol_api.get("/fhir/Observation", {"patient": f"Patient/{history.public_id}"}))
    assert data["total"] == 3
    by_code = {e["resource"]["code"]["coding"][0]["code"]: e["resource"] for e in data["entry"]}
    assert set(by_code) == {"48065-7", "6301-6", "777-3"}
    assert all(e["resource"]["code"]["coding"][0]["system"] == "http://loinc.org" for e in data["entry"])
    d_dimer = by_code["48065-7"]
    assert d_dimer["valueQuantity"]["value"] == 0.4 and d_dimer["valueQuantity"]["unit"] == "mg/L FEU"
    assert d_dimer["referenceRange"][0]["high"]["value"] == 0.5
    assert by_code["777-3"]["status"] == "preliminary"  # needs verification
    assert by_code["777-3"]["valueQuantity"]["code"] == "10*9/L"


def test_risk_assessments_and_flags(carol_api, history):
    risk = searchset(carol_api.get("/fhir/RiskAssessment", {"patient": str(history.public_id)}))
    assert risk["total"] == 1
    prediction = risk["entry"][0]["resource"]["prediction"][0]
    assert prediction["qualitativeRisk"]["coding"][0]["code"] in ("low", "moderate", "high")
    flags = searchset(carol_api.get("/fhir/Flag", {"patient": str(history.public_id)}))
    kinds = {e["resource"]["code"]["coding"][0]["code"] for e in flags["entry"]}
    assert "clotting_studies" in kinds
    assert all(e["resource"]["status"] == "active" for e in flags["entry"])


def test_count_zero_gives_only_the_total(carol_api, history):
    data = searchset(carol_api.get("/fhir/Observation", {"_count": 0}))
    assert data["total"] == 3 and "entry" not in data or data.get("entry") == []


@pytest.mark.parametrize("params", [{"_count": "many"}, {"_count": 999}, {"_page": 0}])
def test_bad_paging_is_400_operation_outcome(carol_api, params):
    data = fhir_json(carol_api.get("/fhir/Observation", params), status=400)
    OperationOutcome.model_validate(data)
    assert data["issue"][0]["code"] == "invalid"


def test_patient_sees_own_not_others_and_no_flags(pat_api, history, patient_quinn):
    own = searchset(pat_api.get("/fhir/Observation"))
    assert own["total"] == 3
    assert fhir_json(pat_api.get(f"/fhir/Patient/{history.public_id}"))["id"] == str(history.public_id)
    for url in (f"/fhir/Patient/{patient_quinn.public_id}", "/fhir/Patient/not-a-uuid"):
        outcome = fhir_json(pat_api.get(url), status=404)
        assert OperationOutcome.model_validate(outcome).issue[0].code == "not-found"
    fhir_json(pat_api.get("/fhir/Observation", {"patient": str(patient_quinn.public_id)}), status=404)
    fhir_json(pat_api.get("/fhir/MedicationAdministration", {"patient": str(patient_quinn.public_id)}), status=404)
    assert searchset(pat_api.get("/fhir/Patient"))["total"] == 1
    fhir_json(pat_api.get("/fhir/Flag"), status=403)


def test_anonymous_is_401_and_writes_are_refused(anon, carol_api, patient_pat):
    outcome = fhir_json(anon.get(f"/fhir/Patient/{patient_pat.public_id}"), status=401)
    assert outcome["issue"][0]["code"] == "login"
    assert carol_api.post("/fhir/Patient", {"resourceType": "Patient"}, format="json").status_code == 405
    assert carol_api.delete(f"/fhir/Patient/{patient_pat.public_id}").status_code == 405


def test_capability_statement(carol_api):
    data = fhir_json(carol_api.get("/fhir/metadata"))
    statement = CapabilityStatement.model_validate(data)
    assert {r.type for r in statement.rest[0].resource} == set(MODELS)


def test_fhir_json_whatever_the_accept_header(carol_api, patient_pat):
    response = carol_api.get(f"/fhir/Patient/{patient_pat.public_id}", HTTP_ACCEPT="application/json")
    assert response["Content-Type"].startswith("application/fhir+json")
    assert date.fromisoformat(response.json()["birthDate"]) == date(1970, 5, 1)


def test_a_creatinine_observation_carries_its_egfr_as_a_component_and_a_note(carol_api, patient_pat, clinician_carol):
    patient_pat.date_of_birth = date(1975, 3, 1)
    patient_pat.sex = "female"
    patient_pat.save(update_fields=["date_of_birth", "sex"])
    lab_record(
        actor=clinician_carol,
        patient=patient_pat,
        test="creatinine",
        value=88.4,
        unit="umol/L",
        collected_at=datetime(2025, 3, 1, 8, tzinfo=UTC),
    )
    data = searchset(carol_api.get("/fhir/Observation", {"patient": f"Patient/{patient_pat.public_id}"}))
    (obs,) = [e["resource"] for e in data["entry"]]
    assert obs["valueQuantity"]["value"] == pytest.approx(1.0)
    # woman aged 50, creatinine 1.0 mg/dL: CKD-EPI 2021 = 68.6 by hand (tests/itrs/test_v1_renal_iga.py)
    (component,) = obs["component"]
    assert component["code"]["coding"][0]["code"] == "98979-8"
    assert component["valueQuantity"]["value"] == 69
    assert "eGFR 69 mL/min/1.73 m2 (CKD-EPI 2021)" in obs["note"][0]["text"]


def test_haematology_reviews_are_clinical_impressions(carol_api, pat_api, quinn_api, clinician_carol, patient_pat):
    from django.utils import timezone

    from risk.services.haematology import haematology_review_record

    flag = make_flag(patient_pat)
    review = haematology_review_record(
        actor=clinician_carol,
        patient=patient_pat,
        reviewed_on=timezone.localdate(),
        reviewer_name="Dr Outside",
        anticoagulation_plan="treatment_3_months",
        ivig_plan="slow_rate",
        thrombophilia_testing="deferred_after_ivig",
        next_review_on=timezone.localdate() + timedelta(days=90),
        note="Apixaban 3 months.",
        flag=flag,
    )
    bundle = fhir_json(carol_api.get("/fhir/ClinicalImpression", {"patient": str(patient_pat.public_id)}))
    Bundle.model_validate(bundle)
    assert bundle["total"] == 1
    resource = bundle["entry"][0]["resource"]
    ClinicalImpression.model_validate(resource)
    assert resource["id"] == str(review.public_id) and resource["assessor"]["display"] == "Dr Outside"
    codes = {f["itemCodeableConcept"]["coding"][0]["code"] for f in resource["finding"]}
    assert codes == {"treatment_3_months", "slow_rate", "deferred_after_ivig"}
    assert resource["supportingInfo"][0]["reference"] == f"Flag/{flag.public_id}"
    assert fhir_json(pat_api.get("/fhir/ClinicalImpression"))["total"] == 1  # their own
    assert fhir_json(quinn_api.get("/fhir/ClinicalImpression"))["total"] == 0
