"""Bad input: every case is a 400 naming the field, and nothing is written (not even an audit row)."""

from __future__ import annotations

from datetime import date

import pytest

from infusions.models import Infusion, MedicationCourse, Product, Regimen
from infusions.services import regimen_create
from ivigtrack.audit.models import AuditEvent
from patients.models import Condition, LabResult, Patient, SymptomReport, ThrombosisEvent, VascularAccess
from patients.services import vascular_access_add
from risk.models import ReviewFlag
from tests import payloads
from tests.factories import make_urgent_flag as make_flag

pytestmark = pytest.mark.django_db

MODELS = {
    "patients": Patient,
    "conditions": Condition,
    "vascular-access": VascularAccess,
    "thrombosis-events": ThrombosisEvent,
    "labs": LabResult,
    "symptom-reports": SymptomReport,
    "regimens": Regimen,
    "infusions": Infusion,
    "medications": MedicationCourse,
    "products": Product,
}
UNKNOWN = "00000000-0000-4000-8000-000000000000"
DROP = object()  # remove the field from the body

# (resource, changes to a valid body, the field the 400 must name)
CASES = [
    # patients
    ("patients", {"mrn": DROP}, "mrn"),
    ("patients", {"mrn": "MRN-PAT"}, "mrn"),  # taken
    ("patients", {"sex": "alien"}, "sex"),
    ("patients", {"diagnosis": "flu"}, "diagnosis"),
    ("patients", {"date_of_birth": "12/04/1975"}, "date_of_birth"),
    ("patients", {"date_of_birth": "2099-01-01"}, "date_of_birth"),
    ("patients", {"date_of_birth": "1800-01-01"}, "date_of_birth"),
    ("patients", {"weight_kg": -5}, "weight_kg"),
    ("patients", {"weight_kg": 1000}, "weight_kg"),
    ("patients", {"weight_kg": "heavy"}, "weight_kg"),
    ("patients", {"height_cm": 40}, "height_cm"),
    ("patients", {"weight_kg": None, "weight_measured_on": "2024-01-01"}, "weight_measured_on"),
    ("patients", {"weight_measured_on": "2099-01-01"}, "weight_measured_on"),
    ("patients", {"active": "perhaps"}, "active"),
    ("patients", {"given_name": ["a", "list"]}, "given_name"),
    ("patients", {"given_name": "x" * 101}, "given_name"),
    # conditions
    ("conditions", {"code": "gout"}, "code"),
    ("conditions", {"patient": DROP}, "patient"),
    ("conditions", {"patient": "not-a-uuid"}, "patient"),
    ("conditions", {"patient": UNKNOWN}, "patient"),
    ("conditions", {"patient": 12345}, "patient"),
    ("conditions", {"onset_date": "2099-01-01"}, "onset_date"),
    ("conditions", {"onset_date": "2020-01-01", "resolved_date": "2019-01-01"}, "non_field_errors"),
    # vascular access
    ("vascular-access", {"kind": "hickman"}, "kind"),
    ("vascular-access", {"vein": "aorta"}, "vein"),
    ("vascular-access", {"side": "middle"}, "side"),
    ("vascular-access", {"inserted_on": DROP}, "inserted_on"),
    ("vascular-access", {"inserted_on": "2099-01-01"}, "inserted_on"),
    # thrombosis events
    ("thrombosis-events", {"kind": "bruise"}, "kind"),
    ("thrombosis-events", {"status": "maybe"}, "status"),
    ("thrombosis-events", {"provocation": "bad luck"}, "provocation"),
    ("thrombosis-events", {"diagnosed_on": "2099-01-01"}, "diagnosed_on"),
    ("thrombosis-events", {"vascular_access": "QUINN_ACCESS"}, "vascular_access"),  # another patient's line
    ("thrombosis-events", {"vascular_access": UNKNOWN}, "vascular_access"),
    # labs
    ("labs", {"test": "glucose"}, "test"),
    ("labs", {"value": -1}, "value"),
    ("labs", {"value": 5000}, "value"),  # platelets outside the plausibility gate
    ("labs", {"value": "many"}, "value"),
    ("labs", {"value": DROP}, "value"),
    ("labs", {"unit": "furlongs"}, "unit"),
    ("labs", {"reference_unit": "furlongs", "reference_high": 400}, "reference_unit"),  # ITRS-v1
    ("labs", {"reference_high": 150, "reference_low": 400}, "reference_low"),
    ("labs", {"reference_low": -1}, "reference_low"),
    ("labs", {"collected_at": "yesterday"}, "collected_at"),
    ("labs", {"collected_at": "2099-01-01T00:00:00Z"}, "collected_at"),
    ("labs", {"reference_high": -2}, "reference_high"),
    ("labs", {"value": 1e400}, "value"),  # parses as infinity
    # symptom reports
    ("symptom-reports", {"symptoms": []}, "symptoms"),
    ("symptom-reports", {"symptoms": ["sneezing"]}, "symptoms"),
    ("symptom-reports", {"symptoms": "chest_pain"}, "symptoms"),
    ("symptom-reports", {"reported_at": "2099-01-01T00:00:00Z"}, "reported_at"),
    ("symptom-reports", {"patient": DROP}, "patient"),  # staff must say whose
    # regimens
    ("regimens", {"dose_g_per_kg_per_day": -1}, "dose_g_per_kg_per_day"),
    ("regimens", {"dose_g_per_kg_per_day": 3}, "dose_g_per_kg_per_day"),
    ("regimens", {"days_per_course": 9}, "days_per_course"),
    ("regimens", {"interval_days": 0}, "interval_days"),
    ("regimens", {"product": UNKNOWN}, "product"),
    ("regimens", {"product": DROP}, "product"),
    ("regimens", {"indication": "flu"}, "indication"),
    ("regimens", {"setting": "moon"}, "setting"),
    ("regimens", {"dosing_weight": "guess"}, "dosing_weight"),
    ("regimens", {"start_date": "2024-13-01"}, "start_date"),
    ("regimens", {"dose_g_per_kg_per_day": DROP}, "non_field_errors"),  # no dose at all
    ("regimens", {"days_per_course": 5, "interval_days": 3}, "non_field_errors"),
    # infusions
    ("infusions", {"dose_grams": -5}, "dose_grams"),
    ("infusions", {"dose_grams": 0}, "dose_grams"),
    ("infusions", {"dose_grams": "lots"}, "dose_grams"),
    ("infusions", {"dose_grams": 12.345}, "dose_grams"),
    ("infusions", {"started_at": "2099-01-01T10:00:00Z"}, "started_at"),  # administered in the future
    ("infusions", {"started_at": DROP}, "started_at"),
    ("infusions", {"status": "given"}, "status"),
    ("infusions", {"product": DROP}, "product"),
    ("infusions", {"product": "not-a-uuid"}, "product"),
    ("infusions", {"regimen": "QUINN_REGIMEN"}, "regimen"),
    ("infusions", {"vascular_access": "QUINN_ACCESS"}, "vascular_access"),
    ("infusions", {"max_rate_mg_kg_min": 50}, "max_rate_mg_kg_min"),
    ("infusions", {"hydration_given": "sort of"}, "hydration_given"),
    # ITRS-v1: a first infusion with no IgA on file and no reason
    ("infusions", {"iga_override_reason": DROP}, "iga_override_reason"),
    ("infusions", {"iga_override_reason": "   "}, "iga_override_reason"),
    ("infusions", {"iga_override_reason": "x" * 301}, "iga_override_reason"),
    # medications
    ("medications", {"category": "vitamin"}, "category"),
    ("medications", {"category": "anticoagulant", "drug": "apixaban"}, "intensity"),
    ("medications", {"category": "steroid", "drug": "unobtainium"}, "drug"),
    ("medications", {"dose_mg_per_day": -1}, "dose_mg_per_day"),
    ("medications", {"intensity": "heroic"}, "intensity"),
    ("medications", {"start_date": "2024-01-01", "end_date": "2023-01-01"}, "non_field_errors"),
    # products (as the superuser)
    ("products", {"name": DROP}, "name"),
    ("products", {"concentration_percent": 0}, "concentration_percent"),
    ("products", {"max_rate_mg_kg_min": -1}, "max_rate_mg_kg_min"),
    ("products", {"indication_max_rates": {"flu": 4}}, "indication_max_rates"),
    ("products", {"name": "Privigen 10%"}, "name"),  # taken
]


@pytest.fixture
def world(patient_pat, patient_quinn, clinician_carol, product):
    quinn_access = vascular_access_add(
        actor=clinician_carol, patient=patient_quinn, kind="port", vein="subclavian", inserted_on=date(2024, 1, 2)
    )
    quinn_regimen = regimen_create(
        actor=clinician_carol,
        patient=patient_quinn,
        product=product,
        dose_g_per_kg_per_day="1.0",
        start_date=date(2024, 1, 1),
    )
    return {"QUINN_ACCESS": str(quinn_access.public_id), "QUINN_REGIMEN": str(quinn_regimen.public_id)}


def valid_body(name, patient, product):
    if name == "patients":
        return payloads.patient()
    if name == "products":
        return {"name": "TestGam 5%", "concentration_percent": 5, "max_rate_mg_kg_min": 4}
    return payloads.for_resource(name, patient_id=patient.public_id, product_id=product.public_id)


def counts(model):
    return model.objects.count(), AuditEvent.objects.count()


@pytest.mark.parametrize("name, changes, field", CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_400_naming_the_field_and_writes_nothing(
    name, changes, field, world, patient_pat, product, carol_api, admin_api
):
    body = valid_body(name, patient_pat, product)
    for key, value in changes.items():
        if value is DROP:
            body.pop(key, None)
        else:
            body[key] = world.get(value, value) if isinstance(value, str) else value
    client = admin_api if name == "products" else carol_api
    model = MODELS[name]
    before = counts(model)
    # raw JSON so that 1e400 goes over the wire as written
    import json

    raw = json.dumps(body).replace("Infinity", "1e400")
    response = client.post(f"/api/v1/{name}/", raw, content_type="application/json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors, errors
    assert all(isinstance(messages, list | dict) for messages in errors.values())
    assert counts(model) == before


@pytest.mark.parametrize(
    "raw, content_type",
    [
        ("{not json", "application/json"),
        ("[1, 2, 3]", "application/json"),
        ('"a string"', "application/json"),
        ("null", "application/json"),
        ("mrn=1", "application/x-www-form-urlencoded"),
    ],
)
def test_malformed_bodies_are_400_or_415(carol_api, raw, content_type):
    before = counts(Patient)
    response = carol_api.post("/api/v1/patients/", raw, content_type=content_type)
    assert response.status_code in (400, 415)
    assert counts(Patient) == before


def test_patient_logging_for_someone_else_is_400(pat_api, patient_pat, patient_quinn, product):
    before = counts(Infusion)
    body = payloads.for_resource("infusions", patient_id=patient_quinn.public_id, product_id=product.public_id)
    response = pat_api.post("/api/v1/infusions/", body, format="json")
    assert response.status_code == 400 and "patient" in response.json()
    report = pat_api.post(
        "/api/v1/symptom-reports/", {"patient": str(patient_quinn.public_id), "symptoms": ["other"]}, format="json"
    )
    assert report.status_code == 400 and "patient" in report.json()
    assert counts(Infusion) == before


@pytest.mark.parametrize(
    "action, body, field",
    [
        ("snooze", {"until": "2000-01-01T00:00:00Z"}, "until"),
        ("snooze", {"until": "soon"}, "until"),
        ("snooze", {}, "until"),
        ("snooze", {"until": "2099-01-01T00:00:00Z"}, "until"),  # more than 180 days
        ("resolve", {"resolution": "done"}, "resolution"),
        ("resolve", {}, "resolution"),
        ("acknowledge", {"note": ["not", "text"]}, "note"),
    ],
)
def test_bad_flag_actions_are_400_and_change_nothing(carol_api, patient_pat, action, body, field):
    flag = make_flag(patient_pat, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine")
    before = AuditEvent.objects.count()
    response = carol_api.post(f"/api/v1/flags/{flag.public_id}/{action}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    flag.refresh_from_db()
    assert flag.status == "open"
    assert AuditEvent.objects.count() == before
    assert ReviewFlag.objects.count() == 1


def test_nul_bytes_in_query_strings_are_a_400_not_a_500(carol_api):
    response = carol_api.get("/api/v1/patients/?q=a%00b")
    assert response.status_code == 400
    assert "NUL" in response.json()["detail"]


def test_nul_byte_in_a_token_is_a_400_not_a_500(client):
    response = client.get("/api/v1/patients/", HTTP_AUTHORIZATION="Token abc\x00def")
    assert response.status_code == 400


def test_nul_byte_in_a_username_reference_is_a_400(carol_api):
    body = {
        "mrn": "NUL-1",
        "given_name": "A",
        "family_name": "B",
        "date_of_birth": "1960-01-01",
        "sex": "male",
        "diagnosis": "cidp",
        "user": "pa\x00t",
    }
    response = carol_api.post("/api/v1/patients/", body, format="json")
    assert response.status_code == 400 and "user" in response.json()
