"""Records entered in error through the API (``POST <resource>/{id}/entered-in-error/``): every
kind, the rules and scores they leave at once, the flags they raised, the duplicates they no
longer block, and the refusals (blank reason, twice, another site, a patient)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from infusions import services as infusion_services
from infusions.models import Infusion, MedicationCourse, Regimen
from ivigtrack.audit.models import AuditEvent
from ivigtrack.duplicates import DuplicateRecord
from patients import services as patient_services
from patients.models import Condition, LabResult, SymptomReport, ThrombosisEvent, VascularAccess
from risk.models import ReviewFlag, RiskAssessment
from risk.services.assessment import patient_assess
from tests import factories

pytestmark = pytest.mark.django_db

# resource -> (model, audit action prefix)
KINDS = {
    "conditions": (Condition, "condition"),
    "vascular-access": (VascularAccess, "vascular_access"),
    "thrombosis-events": (ThrombosisEvent, "thrombosis_event"),
    "labs": (LabResult, "lab"),
    "symptom-reports": (SymptomReport, "symptom_report"),
    "regimens": (Regimen, "regimen"),
    "infusions": (Infusion, "infusion"),
    "medications": (MedicationCourse, "medication"),
}


def mark(client, resource, record, reason="Recorded on the wrong patient"):
    return client.post(f"/api/v1/{resource}/{record.public_id}/entered-in-error/", {"reason": reason}, format="json")


def current(patient) -> RiskAssessment:
    return RiskAssessment.objects.get(patient=patient, is_current=True)


def factor_codes(assessment) -> set[str]:
    return {f["code"] for f in assessment.factors}


@pytest.mark.parametrize("resource", list(KINDS))
def test_every_kind_is_marked_audited_and_still_listed(resource, carol_api, pat_records, patient_pat):
    model, action = KINDS[resource]
    record = pat_records[resource]
    response = mark(carol_api, resource, record)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["entered_in_error"] is True
    assert body["entered_in_error_reason"] == "Recorded on the wrong patient"
    assert body["entered_in_error_by"] == "carol" and body["entered_in_error_at"]
    # gone from every read the rules make, kept in the table and in the resource's list
    assert not model.objects.filter(pk=record.pk).exists()
    assert model.all_objects.filter(pk=record.pk, entered_in_error=True).exists()
    listed = carol_api.get(f"/api/v1/{resource}/", {"patient": str(patient_pat.public_id)}).json()["results"]
    shown = {row["id"]: row for row in listed}
    assert shown[str(record.public_id)]["entered_in_error"] is True
    event = AuditEvent.objects.get(action=f"{action}.entered_in_error", object_id=str(record.public_id))
    assert event.detail["reason"] == "Recorded on the wrong patient" and event.patient_id == patient_pat.pk


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(reason, carol_api, pat_records):
    lab = pat_records["labs"]
    response = mark(carol_api, "labs", lab, reason=reason)
    assert response.status_code == 400
    assert "reason" in response.json()
    assert LabResult.objects.filter(pk=lab.pk).exists()
    missing = carol_api.post(f"/api/v1/labs/{lab.public_id}/entered-in-error/", {}, format="json")
    assert missing.status_code == 400 and "reason" in missing.json()


def test_marking_twice_is_a_conflict_that_changes_nothing(carol_api, nina_api, pat_records):
    lab = pat_records["labs"]
    assert mark(carol_api, "labs", lab, "wrong tube").status_code == 200
    again = mark(nina_api, "labs", lab, "second try")
    assert again.status_code == 409
    assert "already marked entered in error" in again.json()["detail"]
    lab = LabResult.all_objects.get(pk=lab.pk)
    assert lab.entered_in_error_reason == "wrong tube" and lab.entered_in_error_by.username == "carol"
    assert AuditEvent.objects.filter(action="lab.entered_in_error").count() == 1


def test_another_sites_staff_get_404_and_a_patient_403(nurse_fay, pat_api, pat_records):
    lab = pat_records["labs"]
    assert mark(factories.token_client(nurse_fay), "labs", lab).status_code == 404
    assert mark(pat_api, "labs", lab).status_code == 403
    assert mark(pat_api, "symptom-reports", pat_records["symptom-reports"]).status_code == 403
    assert mark(pat_api, "infusions", pat_records["infusions"]).status_code == 403
    assert LabResult.objects.filter(pk=lab.pk).exists()


def test_a_record_entered_in_error_cannot_be_edited(carol_api, pat_records):
    condition = pat_records["conditions"]
    mark(carol_api, "conditions", condition)
    response = carol_api.patch(f"/api/v1/conditions/{condition.public_id}/", {"note": "x"}, format="json")
    assert response.status_code == 400
    assert "entered in error" in str(response.json())
    lab = pat_records["labs"]
    mark(carol_api, "labs", lab)
    edited = carol_api.patch(f"/api/v1/labs/{lab.public_id}/", {"value": 260}, format="json")
    assert edited.status_code == 400 and LabResult.all_objects.get(pk=lab.pk).value == 250


def test_a_corrected_lab_leaves_the_isth_dic_score(
    carol_api, clinician_carol, patient_pat, django_capture_on_commit_callbacks
):
    now = timezone.now() - timedelta(hours=2)
    patient_services.condition_add(
        actor=clinician_carol, patient=patient_pat, code="acute_infection_or_sepsis", onset_date=now.date()
    )
    labs = {
        test: patient_services.lab_record(
            actor=clinician_carol, patient=patient_pat, test=test, value=value, collected_at=now
        )
        for test, value in (("platelets", 40), ("d_dimer", 3.0), ("pt", 15.0), ("fibrinogen", 2.0))
    }
    patient_assess(patient_pat)
    before = current(patient_pat)
    assert before.dic_score == 5 and "e" in {o["code"] for o in before.overrides}
    with django_capture_on_commit_callbacks(execute=True):
        assert mark(carol_api, "labs", labs["platelets"], "Clumped sample").status_code == 200
    after = current(patient_pat)
    assert after.pk != before.pk
    assert after.dic_score != 5 and "e" not in {o["code"] for o in after.overrides}


def test_a_corrected_infusion_leaves_t2(
    carol_api, clinician_carol, patient_pat, product, django_capture_on_commit_callbacks
):
    infusion = infusion_services.infusion_record(
        actor=clinician_carol,
        patient=patient_pat,
        product=product,
        started_at=timezone.now() - timedelta(hours=3),
        dose_grams="40",
        iga_override_reason="IgA requested, result awaited",
    )
    patient_assess(patient_pat)
    assert "T2" in factor_codes(current(patient_pat))
    with django_capture_on_commit_callbacks(execute=True):
        assert mark(carol_api, "infusions", infusion, "Another patient's infusion").status_code == 200
    assert "T2" not in factor_codes(current(patient_pat))
    watch = carol_api.get(f"/api/v1/infusions/{infusion.public_id}/").json()["watch"]
    assert watch is None  # no watch window from an infusion that was not given


def test_a_corrected_line_removes_the_central_line_factor(
    carol_api, clinician_carol, patient_pat, django_capture_on_commit_callbacks
):
    line = patient_services.vascular_access_add(
        actor=clinician_carol, patient=patient_pat, kind="picc", vein="arm", inserted_on=timezone.localdate()
    )
    patient_assess(patient_pat)
    assert "E1" in factor_codes(current(patient_pat))
    with django_capture_on_commit_callbacks(execute=True):
        assert mark(carol_api, "vascular-access", line, "No line: a peripheral cannula").status_code == 200
    assert "E1" not in factor_codes(current(patient_pat))


def test_an_emergency_alert_raised_only_by_a_report_in_error_is_superseded(carol_api, clinician_carol, patient_pat):
    report = patient_services.symptom_report_submit(actor=clinician_carol, patient=patient_pat, symptoms=["chest_pain"])
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.priority == "emergency" and flag.status == "open"
    assert mark(carol_api, "symptom-reports", report, "Typed into the wrong record").status_code == 200
    flag.refresh_from_db()
    assert flag.status == "resolved" and flag.resolution == "superseded"
    assert "entered in error" in flag.note and "Typed into the wrong record" in flag.note
    assert AuditEvent.objects.filter(action="flag.resolve", object_id=str(flag.public_id)).exists()


def test_an_alert_with_another_urgent_report_stays_open(carol_api, clinician_carol, patient_pat):
    first = patient_services.symptom_report_submit(
        actor=clinician_carol, patient=patient_pat, symptoms=["limb_pain_swelling"]
    )
    wrong = patient_services.symptom_report_submit(actor=clinician_carol, patient=patient_pat, symptoms=["chest_pain"])
    assert mark(carol_api, "symptom-reports", wrong, "Wrong patient").status_code == 200
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.status == "open" and flag.priority == "emergency"  # never downgraded
    assert first.reported_at.strftime("%H:%M") in flag.reason or "limb" in flag.reason.lower()


def test_a_lab_entered_in_error_no_longer_blocks_the_correct_one(carol_api, clinician_carol, patient_pat):
    when = timezone.now() - timedelta(hours=1)
    lab = patient_services.lab_record(
        actor=clinician_carol, patient=patient_pat, test="platelets", value=210, collected_at=when
    )
    with pytest.raises(DuplicateRecord):
        patient_services.lab_record(
            actor=clinician_carol, patient=patient_pat, test="platelets", value=210, collected_at=when
        )
    mark(carol_api, "labs", lab, "Sample mislabelled: re-entering it")
    again = patient_services.lab_record(
        actor=clinician_carol, patient=patient_pat, test="platelets", value=210, collected_at=when
    )
    assert again.pk != lab.pk and not again.entered_in_error


def test_an_infusion_entered_in_error_no_longer_blocks_the_correct_one(carol_api, patient_pat, product):
    body = {
        "patient": str(patient_pat.public_id),
        "product": str(product.public_id),
        "started_at": (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0).isoformat(),
        "dose_grams": 30,
        "status": "administered",
        "iga_override_reason": "IgA requested, result awaited",
    }
    first = carol_api.post("/api/v1/infusions/", body, format="json")
    assert first.status_code == 201, first.content
    assert carol_api.post("/api/v1/infusions/", body, format="json").status_code == 409
    infusion = Infusion.objects.get(public_id=first.json()["id"])
    assert mark(carol_api, "infusions", infusion, "Wrong product").status_code == 200
    assert carol_api.post("/api/v1/infusions/", body, format="json").status_code == 201


def test_fhir_shows_the_status_entered_in_error(carol_api, pat_records):
    lab, infusion = pat_records["labs"], pat_records["infusions"]
    mark(carol_api, "labs", lab, "Haemolysed")
    mark(carol_api, "infusions", infusion, "Never given")
    observation = carol_api.get(f"/fhir/Observation/{lab.public_id}").json()
    assert observation["status"] == "entered-in-error"
    assert any("Haemolysed" in note["text"] for note in observation["note"])
    administration = carol_api.get(f"/fhir/MedicationAdministration/{infusion.public_id}").json()
    assert administration["status"] == "entered-in-error"


def test_the_schema_documents_the_action_and_its_errors(carol_api):
    schema = carol_api.get("/api/schema/", {"format": "json"}).json()
    for resource in KINDS:
        post = schema["paths"][f"/api/v1/{resource}/{{id}}/entered-in-error/"]["post"]
        assert {"200", "400", "403", "404", "409"} <= set(post["responses"])
        assert post["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith("EnteredInErrorRequest")
