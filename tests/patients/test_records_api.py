"""The record resources: create, read, update, list, filter as staff; role limits; deletes."""

from __future__ import annotations

import pytest

from infusions.models import Infusion, MedicationCourse, Product, Regimen
from ivigtrack.audit.models import AuditEvent
from patients.models import Condition, LabResult, SymptomReport, ThrombosisEvent, VascularAccess
from risk.models import ReviewFlag
from tests import payloads
from tests.payloads import RECORD_RESOURCES

pytestmark = pytest.mark.django_db

MODELS = {
    "conditions": Condition,
    "vascular-access": VascularAccess,
    "thrombosis-events": ThrombosisEvent,
    "labs": LabResult,
    "symptom-reports": SymptomReport,
    "regimens": Regimen,
    "infusions": Infusion,
    "medications": MedicationCourse,
}
# field, value for a PATCH (resources without an update service are create-only)
UPDATES = {
    "conditions": ("note", "since the 2019 check-up"),
    "vascular-access": ("removed_on", "2024-12-01"),
    "thrombosis-events": ("status", "ruled_out"),
    "regimens": ("interval_days", 28),
    "infusions": ("lot_number", "LOT-42"),
    "medications": ("dose_mg_per_day", 40),
}
CLINICIAN_ONLY = {"conditions", "thrombosis-events", "regimens", "medications"}


def body(name, patient, product, **overrides):
    return payloads.for_resource(name, patient_id=patient.public_id, product_id=product.public_id, **overrides)


@pytest.mark.parametrize("name", RECORD_RESOURCES)
def test_clinician_creates_reads_lists_and_filters(name, carol_api, patient_pat, patient_quinn, product):
    model = MODELS[name]
    created = carol_api.post(f"/api/v1/{name}/", body(name, patient_pat, product), format="json")
    assert created.status_code == 201, created.json()
    data = created.json()
    assert data["patient"] == str(patient_pat.public_id)
    obj = model.objects.get(public_id=data["id"])
    assert obj.patient_id == patient_pat.pk
    assert AuditEvent.objects.filter(patient_id=patient_pat.pk, object_id=data["id"]).exists()
    # one for the other patient, to see the filter work
    assert carol_api.post(f"/api/v1/{name}/", body(name, patient_quinn, product), format="json").status_code == 201

    assert carol_api.get(f"/api/v1/{name}/{data['id']}/").json()["id"] == data["id"]
    listed = carol_api.get(f"/api/v1/{name}/").json()
    assert listed["count"] == model.objects.count() >= 2
    mine = carol_api.get(f"/api/v1/{name}/", {"patient": str(patient_pat.public_id)}).json()
    assert [row["id"] for row in mine["results"]] == [data["id"]]
    # the staff read of one patient's records is audited against that patient
    assert AuditEvent.objects.filter(action="patient.view", patient_id=patient_pat.pk, detail__via="api").exists()
    assert carol_api.get(f"/api/v1/{name}/", {"patient": "not-a-uuid"}).status_code == 400
    unknown = carol_api.get(f"/api/v1/{name}/", {"patient": "00000000-0000-0000-0000-000000000000"})
    assert unknown.status_code == 404


@pytest.mark.parametrize("name", sorted(UPDATES))
def test_clinician_updates(name, carol_api, patient_pat, product):
    created = carol_api.post(f"/api/v1/{name}/", body(name, patient_pat, product), format="json").json()
    field, value = UPDATES[name]
    response = carol_api.patch(f"/api/v1/{name}/{created['id']}/", {field: value}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()[field] == value
    # sending the same patient again is harmless; moving the record to another patient is not
    same = carol_api.patch(f"/api/v1/{name}/{created['id']}/", {"patient": str(patient_pat.public_id)}, format="json")
    assert same.status_code == 200
    full = carol_api.put(
        f"/api/v1/{name}/{created['id']}/", body(name, patient_pat, product, **{field: value}), format="json"
    )
    assert full.status_code == 200, full.json()


def test_a_record_cannot_move_to_another_patient(carol_api, patient_pat, patient_quinn, product):
    created = carol_api.post("/api/v1/conditions/", body("conditions", patient_pat, product), format="json").json()
    moved = carol_api.patch(
        f"/api/v1/conditions/{created['id']}/", {"patient": str(patient_quinn.public_id)}, format="json"
    )
    assert moved.status_code == 400 and "patient" in moved.json()
    assert Condition.objects.get(public_id=created["id"]).patient_id == patient_pat.pk


@pytest.mark.parametrize("name", RECORD_RESOURCES)
def test_nurse_writes_what_nurses_record(name, nina_api, patient_pat, product):
    response = nina_api.post(f"/api/v1/{name}/", body(name, patient_pat, product), format="json")
    if name in CLINICIAN_ONLY:
        assert response.status_code == 403
        assert not MODELS[name].objects.exists()
    else:
        assert response.status_code == 201, response.json()
    assert nina_api.get(f"/api/v1/{name}/").status_code == 200


def test_nurse_cannot_create_or_update_a_regimen(nina_api, carol_api, patient_pat, product):
    created = carol_api.post("/api/v1/regimens/", body("regimens", patient_pat, product), format="json").json()
    assert nina_api.post("/api/v1/regimens/", body("regimens", patient_pat, product), format="json").status_code == 403
    assert nina_api.patch(f"/api/v1/regimens/{created['id']}/", {"interval_days": 14}, format="json").status_code == 403
    assert Regimen.objects.get(public_id=created["id"]).interval_days == 21


def test_regimen_shows_next_courses_and_defaults_the_indication(carol_api, patient_pat, product):
    created = carol_api.post("/api/v1/regimens/", body("regimens", patient_pat, product), format="json").json()
    assert created["indication"] == "cidp"
    assert created["product"] == str(product.public_id) and created["product_name"] == product.name
    assert len(created["next_course_dates"]) == 3 and len(created["next_course_dates"][0]) == 1


def test_infusion_from_a_regimen_takes_its_product(carol_api, patient_pat, product):
    regimen = carol_api.post("/api/v1/regimens/", body("regimens", patient_pat, product), format="json").json()
    payload = body("infusions", patient_pat, product, regimen=regimen["id"])
    payload.pop("product")
    created = carol_api.post("/api/v1/infusions/", payload, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["product"] == str(product.public_id)
    assert created.json()["source"] == "staff"
    assert created.json()["dose_g_per_kg"] == round(32 / 70, 3)


def test_infusion_filters(carol_api, patient_pat, product):
    for started, status in (
        ("2024-06-01T10:00:00Z", "administered"),
        ("2024-07-01T10:00:00Z", "administered"),
        ("2099-01-01T10:00:00Z", "planned"),
    ):
        payload = body("infusions", patient_pat, product, started_at=started, status=status)
        assert carol_api.post("/api/v1/infusions/", payload, format="json").status_code == 201
    get = lambda **q: [r["started_at"][:10] for r in carol_api.get("/api/v1/infusions/", q).json()["results"]]  # noqa: E731
    assert get() == ["2099-01-01", "2024-07-01", "2024-06-01"]  # newest first
    assert get(status="planned") == ["2099-01-01"]
    assert get(**{"from": "2024-06-15"}) == ["2099-01-01", "2024-07-01"]
    assert get(**{"to": "2024-07-01"}) == ["2024-07-01", "2024-06-01"]  # a date includes the whole day
    assert get(**{"from": "2024-06-01T10:00:00Z", "to": "2024-06-01T10:00:00Z"}) == ["2024-06-01"]
    bad = carol_api.get("/api/v1/infusions/", {"from": "last week"})
    assert bad.status_code == 400 and "from" in bad.json()


def test_date_filters_on_labs_symptoms_and_assessments(carol_api, patient_pat, product):
    carol_api.post(
        "/api/v1/labs/", body("labs", patient_pat, product, collected_at="2024-01-01T08:00:00Z"), format="json"
    )
    carol_api.post(
        "/api/v1/labs/", body("labs", patient_pat, product, collected_at="2024-03-01T08:00:00Z"), format="json"
    )
    assert carol_api.get("/api/v1/labs/", {"from": "2024-02-01"}).json()["count"] == 1
    assert carol_api.get("/api/v1/labs/", {"to": "2024-02-01", "test": "platelets"}).json()["count"] == 1
    carol_api.post(
        "/api/v1/symptom-reports/",
        body("symptom-reports", patient_pat, product, reported_at="2024-01-01T08:00:00Z"),
        format="json",
    )
    assert carol_api.get("/api/v1/symptom-reports/", {"to": "2024-01-02"}).json()["count"] == 1
    assert carol_api.get("/api/v1/assessments/", {"from": "2000-01-01", "to": "2000-01-02"}).json()["count"] == 0


def test_medication_category_filter_and_steroid_equivalent(carol_api, patient_pat, product):
    carol_api.post("/api/v1/medications/", body("medications", patient_pat, product), format="json")
    steroid = body("medications", patient_pat, product, category="steroid", drug="prednisone", dose_mg_per_day=60)
    created = carol_api.post("/api/v1/medications/", steroid, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["prednisolone_eq_mg_per_day"] == 60
    steroids = carol_api.get("/api/v1/medications/", {"category": "steroid"}).json()["results"]
    assert [m["drug"] for m in steroids] == ["prednisone"]


def test_lab_in_another_unit_is_stored_canonical_with_loinc(carol_api, patient_pat, product):
    created = carol_api.post(
        "/api/v1/labs/", body("labs", patient_pat, product, test="creatinine", value=88.4, unit="umol/L"), format="json"
    ).json()
    assert created["value"] == pytest.approx(1.0) and created["unit"] == "mg/dL"
    assert created["entered_value"] == 88.4 and created["entered_unit"] == "umol/L"
    assert created["loinc"] == "2160-0"


def test_doubtful_lab_is_verified_through_the_api(carol_api, nina_api, pat_api, patient_pat, product):
    created = carol_api.post("/api/v1/labs/", body("labs", patient_pat, product, value=1200), format="json").json()
    assert created["needs_verification"] is True
    url = f"/api/v1/labs/{created['id']}/verify/"
    assert pat_api.post(url, {"confirmed": True}, format="json").status_code == 403
    assert nina_api.post(url, {"confirmed": "maybe"}, format="json").status_code == 400
    confirmed = nina_api.post(url, {"confirmed": True}, format="json")
    assert confirmed.status_code == 200 and confirmed.json()["needs_verification"] is False
    assert nina_api.post(url, {"confirmed": True}, format="json").status_code == 400  # nothing left to verify
    other = carol_api.post("/api/v1/labs/", body("labs", patient_pat, product, value=1300), format="json").json()
    assert carol_api.post(f"/api/v1/labs/{other['id']}/verify/", {"confirmed": False}, format="json").status_code == 204
    assert not LabResult.objects.filter(public_id=other["id"]).exists()


def test_urgent_symptom_report_is_triaged_and_raises_its_flag_at_once(nina_api, patient_pat, product):
    payload = body("symptom-reports", patient_pat, product, symptoms=["limb_pain_swelling"])
    created = nina_api.post("/api/v1/symptom-reports/", payload, format="json")
    assert created.status_code == 201
    assert created.json()["triage"] == "urgent" and created.json()["source"] == "staff"
    assert "Seek medical care today" in created.json()["advice"]
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.rule == "SYM-URGENT"


def test_only_planned_infusions_can_be_deleted(carol_api, pat_api, patient_pat, product):
    given = carol_api.post("/api/v1/infusions/", body("infusions", patient_pat, product), format="json").json()
    planned = carol_api.post(
        "/api/v1/infusions/",
        body("infusions", patient_pat, product, status="planned", started_at="2099-01-01T09:00:00Z"),
        format="json",
    ).json()
    refused = carol_api.delete(f"/api/v1/infusions/{given['id']}/")
    assert refused.status_code == 400 and "status" in refused.json()
    assert pat_api.delete(f"/api/v1/infusions/{planned['id']}/").status_code == 403
    assert carol_api.delete(f"/api/v1/infusions/{planned['id']}/").status_code == 204
    assert list(Infusion.objects.values_list("public_id", flat=True)) == [Infusion.objects.get().public_id]
    assert str(Infusion.objects.get().public_id) == given["id"]


@pytest.mark.parametrize(
    "name", ["conditions", "labs", "symptom-reports", "medications", "regimens", "vascular-access", "thrombosis-events"]
)
def test_records_other_than_planned_infusions_are_never_deleted(name, carol_api, patient_pat, product):
    created = carol_api.post(f"/api/v1/{name}/", body(name, patient_pat, product), format="json").json()
    assert carol_api.delete(f"/api/v1/{name}/{created['id']}/").status_code == 405


def test_products_read_by_all_written_by_a_superuser(carol_api, pat_api, admin_api, product):
    listed = pat_api.get("/api/v1/products/").json()["results"]
    assert product.name in [p["name"] for p in listed]
    new = {
        "name": "TestGam 5%",
        "concentration_percent": 5,
        "max_rate_mg_kg_min": 4,
        "indication_max_rates": {"itp": 3},
    }
    assert carol_api.post("/api/v1/products/", new, format="json").status_code == 403
    assert pat_api.post("/api/v1/products/", new, format="json").status_code == 403
    created = admin_api.post("/api/v1/products/", new, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["indication_max_rates"] == {"itp": 3.0}
    changed = admin_api.patch(f"/api/v1/products/{created.json()['id']}/", {"active": False}, format="json")
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert Product.objects.get(name="TestGam 5%").active is False
    assert carol_api.get("/api/v1/products/", {"active": "false"}).json()["count"] == 1
    assert AuditEvent.objects.filter(action="product.create").exists()


def test_an_inactive_product_cannot_be_given(carol_api, admin_api, patient_pat, product):
    admin_api.patch(f"/api/v1/products/{product.public_id}/", {"active": False}, format="json")
    response = carol_api.post("/api/v1/infusions/", body("infusions", patient_pat, product), format="json")
    assert response.status_code == 400 and "product" in response.json()
