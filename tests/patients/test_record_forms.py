"""Every record form: a valid post saves through the service and returns to the patient page;
a refused one shows the service's message on the field it names and stores nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from infusions.models import Infusion, MedicationCourse, Product, Regimen
from ivigtrack.audit.models import AuditEvent
from patients.models import Condition, LabResult, Patient, SymptomReport, ThrombosisEvent, VascularAccess
from risk.models import ReviewFlag
from tests.records import full_history

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


def url(name, patient, record=None):
    kwargs = {"patient_id": patient.public_id}
    if record is not None:
        kwargs["record_id"] = record.public_id
    return reverse(f"staff:{name}", kwargs=kwargs)


def field_error(response, field: str) -> str:
    """The errors the form shows on one field (empty when none)."""
    form = response.context["form"]
    return " ".join(form.errors.get(field, []))


def saved(response, patient) -> bool:
    return response.status_code == 302 and response["Location"] == url("patient_detail", patient)


# --- patient ---------------------------------------------------------------------------------


def test_create_patient(nina_client, make_user):
    login = make_user("newpat", "patient")
    response = nina_client.post(
        reverse("staff:patient_create"),
        {"mrn": "MRN-NEW", "given_name": "Nia", "family_name": "New", "date_of_birth": "1980-02-03",
         "sex": "female", "height_cm": "170", "diagnosis": "itp", "user": login.pk, "weight_kg": "64.5"},
    )  # fmt: skip
    patient = Patient.objects.get(mrn="MRN-NEW")
    assert saved(response, patient)
    assert patient.user == login and float(patient.weight_kg) == 64.5
    assert patient.weight_measured_on == timezone.localdate()
    assert AuditEvent.objects.filter(action="patient.create", patient_id=patient.pk).exists()


def test_create_patient_errors_are_on_their_fields(nina_client, patient_pat):
    page = nina_client.get(reverse("staff:patient_create")).content.decode()
    assert 'for="id_mrn"' in page and 'inputmode="numeric"' in page and "Format dd/mm/yyyy" in page
    future = (timezone.localdate() + timedelta(days=2)).isoformat()
    response = nina_client.post(
        reverse("staff:patient_create"),
        {"mrn": "MRN-PAT", "given_name": "X", "family_name": "Y", "date_of_birth": future, "sex": "male",
         "diagnosis": "cidp", "height_cm": "300"},
    )  # fmt: skip
    assert response.status_code == 200
    assert "230" in field_error(response, "height_cm")
    content = response.content.decode()
    assert 'class="error-summary" role="alert"' in content
    # the form's own checks pass first; the service then names the duplicate MRN and the future date
    response = nina_client.post(
        reverse("staff:patient_create"),
        {"mrn": "MRN-PAT", "given_name": "X", "family_name": "Y", "date_of_birth": future, "sex": "male",
         "diagnosis": "cidp"},
    )  # fmt: skip
    assert "cannot be in the future" in field_error(response, "date_of_birth")
    response = nina_client.post(
        reverse("staff:patient_create"),
        {"mrn": "MRN-PAT", "given_name": "X", "family_name": "Y", "date_of_birth": "1990-01-01", "sex": "male",
         "diagnosis": "cidp"},
    )  # fmt: skip
    assert "already exists" in field_error(response, "mrn")
    assert Patient.objects.count() == 1


def test_edit_patient(nina_client, patient_pat):
    page = nina_client.get(url("patient_edit", patient_pat)).content.decode()
    assert 'value="MRN-PAT"' in page
    response = nina_client.post(
        url("patient_edit", patient_pat),
        {"mrn": "MRN-PAT", "given_name": "Patricia", "family_name": "Doe", "date_of_birth": "1970-05-01",
         "sex": "female", "height_cm": "165", "diagnosis": "cidp", "user": patient_pat.user.pk, "active": "on"},
    )  # fmt: skip
    assert saved(response, patient_pat)
    patient_pat.refresh_from_db()
    assert patient_pat.given_name == "Patricia"
    event = AuditEvent.objects.filter(action="patient.update").latest("id")
    assert event.detail["changes"] == {"given_name": ["Pat", "Patricia"]}


def test_record_weight(nina_client, patient_pat):
    response = nina_client.post(url("weight_add", patient_pat), {"weight_kg": "500", "measured_on": "2024-01-01"})
    assert "350" in field_error(response, "weight_kg")
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    response = nina_client.post(url("weight_add", patient_pat), {"weight_kg": "72", "measured_on": future})
    assert "future" in field_error(response, "measured_on")
    response = nina_client.post(
        url("weight_add", patient_pat), {"weight_kg": "72", "measured_on": timezone.localdate().isoformat()}
    )
    assert saved(response, patient_pat)
    patient_pat.refresh_from_db()
    assert float(patient_pat.weight_kg) == 72


# --- history records ---------------------------------------------------------------------------


def test_add_and_edit_condition(nina_client, patient_pat):
    response = nina_client.post(
        url("condition_add", patient_pat),
        {"code": "smoking", "onset_date": "2020-01-01", "resolved_date": "2019-01-01"},
    )
    assert "resolved date cannot be before the onset" in response.content.decode()
    assert not Condition.objects.exists()
    response = nina_client.post(url("condition_add", patient_pat), {"code": "smoking", "onset_date": "2020-01-01"})
    assert saved(response, patient_pat)
    condition = Condition.objects.get()
    response = nina_client.post(
        url("condition_edit", patient_pat, condition),
        {"code": "smoking", "onset_date": "2020-01-01", "resolved_date": "2023-06-01", "note": "stopped"},
    )
    assert saved(response, patient_pat)
    condition.refresh_from_db()
    assert str(condition.resolved_date) == "2023-06-01" and condition.note == "stopped"


def test_add_and_edit_line(nina_client, patient_pat):
    future = (timezone.localdate() + timedelta(days=5)).isoformat()
    response = nina_client.post(
        url("access_add", patient_pat), {"kind": "port", "vein": "subclavian", "side": "right", "inserted_on": future}
    )
    assert "future" in field_error(response, "inserted_on")
    response = nina_client.post(
        url("access_add", patient_pat),
        {"kind": "port", "vein": "subclavian", "side": "right", "inserted_on": "2025-01-10"},
    )
    assert saved(response, patient_pat)
    access = VascularAccess.objects.get()
    response = nina_client.post(
        url("access_edit", patient_pat, access),
        {
            "kind": "port",
            "vein": "subclavian",
            "side": "right",
            "inserted_on": "2025-01-10",
            "removed_on": "2025-06-01",
        },
    )
    assert saved(response, patient_pat)
    access.refresh_from_db()
    assert str(access.removed_on) == "2025-06-01"


def test_add_and_edit_thrombosis_event(nina_client, patient_pat, patient_quinn, clinician_carol):
    quinn_line = full_history(patient_quinn, clinician_carol)["access"]
    page = nina_client.get(url("event_add", patient_pat)).content.decode()
    assert "PICC" not in page  # only pat's own lines are offered (pat has none)
    response = nina_client.post(
        url("event_add", patient_pat),
        {"kind": "pe", "status": "confirmed", "diagnosed_on": "2025-03-01", "provocation": "unprovoked",
         "vascular_access": quinn_line.pk},
    )  # fmt: skip
    assert "valid choice" in field_error(response, "vascular_access")
    response = nina_client.post(
        url("event_add", patient_pat),
        {"kind": "pe", "status": "suspected", "diagnosed_on": "2025-03-01", "provocation": "unprovoked"},
    )
    assert saved(response, patient_pat)
    event = ThrombosisEvent.objects.get(patient=patient_pat)
    response = nina_client.post(
        url("event_edit", patient_pat, event),
        {"kind": "pe", "status": "ruled_out", "diagnosed_on": "2025-03-01", "provocation": "unprovoked"},
    )
    assert saved(response, patient_pat)
    event.refresh_from_db()
    assert event.status == "ruled_out"


def test_add_lab_with_unit_conversion_and_plausibility(nina_client, patient_pat):
    now = timezone.localtime().strftime(FMT)
    page = nina_client.get(url("lab_add", patient_pat)).content.decode()
    assert '<datalist id="lab-units">' in page and "µmol/L" in page
    response = nina_client.post(
        url("lab_add", patient_pat), {"test": "platelets", "value": "5000", "collected_at": now}
    )
    assert "outside the plausible range" in field_error(response, "value")
    response = nina_client.post(
        url("lab_add", patient_pat), {"test": "creatinine", "value": "80", "unit": "furlongs", "collected_at": now}
    )
    assert "Unknown unit" in field_error(response, "unit")
    assert not LabResult.objects.exists()
    response = nina_client.post(
        url("lab_add", patient_pat), {"test": "creatinine", "value": "88.4", "unit": "µmol/L", "collected_at": now}
    )
    assert saved(response, patient_pat)
    lab = LabResult.objects.get()
    assert lab.unit == "mg/dL" and abs(lab.value - 1.0) < 1e-9


def test_doubtful_lab_is_saved_with_a_warning(nina_client, patient_pat):
    now = timezone.localtime().strftime(FMT)
    response = nina_client.post(
        url("lab_add", patient_pat), {"test": "platelets", "value": "1200", "collected_at": now}, follow=True
    )
    assert "needs verification before it counts" in response.content.decode()


def test_staff_symptom_report_raises_the_flag(nina_client, patient_pat):
    page = nina_client.get(url("symptom_add", patient_pat)).content.decode()
    assert 'data-triage="emergency"' in page and "Coughing up blood" in page
    response = nina_client.post(url("symptom_add", patient_pat), {"note": "nothing ticked"})
    assert "Tick at least one symptom" in response.content.decode()
    response = nina_client.post(url("symptom_add", patient_pat), {"symptoms": ["limb_pain_swelling"]}, follow=True)
    assert "Urgent: Seek medical care today" in response.content.decode()
    report = SymptomReport.objects.get()
    assert report.triage == "urgent" and report.source == "staff"
    assert ReviewFlag.objects.get(patient=patient_pat).rule == "SYM-URGENT"


# --- what is given -----------------------------------------------------------------------------


def test_regimen_add_and_edit_by_clinician(carol_client, patient_pat):
    product = Product.objects.get(name="Privigen 10%")
    form = {"product": product.pk, "indication": "cidp", "days_per_course": "5", "interval_days": "3",
            "dosing_weight": "actual", "start_date": "2026-01-05", "setting": "outpatient"}  # fmt: skip
    response = carol_client.post(url("regimen_add", patient_pat), form)
    content = response.content.decode()
    assert "Give the dose in g/kg/day or in grams per day." in content
    assert "The interval cannot be shorter than the course." in content
    assert not Regimen.objects.exists()
    response = carol_client.post(
        url("regimen_add", patient_pat), {**form, "interval_days": "28", "dose_g_per_kg_per_day": "0.4"}
    )
    assert saved(response, patient_pat)
    regimen = Regimen.objects.get()
    response = carol_client.post(
        url("regimen_edit", patient_pat, regimen),
        {**form, "interval_days": "21", "dose_g_per_kg_per_day": "0.4", "max_rate_mg_kg_min": "3.3"},
    )
    assert saved(response, patient_pat)
    regimen.refresh_from_db()
    assert regimen.interval_days == 21 and float(regimen.max_rate_mg_kg_min) == 3.3


def test_nurse_cannot_post_a_regimen(nina_client, patient_pat):
    response = nina_client.post(url("regimen_add", patient_pat), {"dose_g_per_kg_per_day": "0.4"})
    assert response.status_code == 403
    assert not Regimen.objects.exists()


def test_record_and_edit_infusion(nina_client, patient_pat):
    product = Product.objects.get(name="Privigen 10%")
    future = (timezone.localtime() + timedelta(days=1)).strftime(FMT)
    form = {"product": product.pk, "started_at": future, "dose_grams": "30", "status": "administered",
            "hydration_given": "true", "iga_override_reason": "IgA awaited"}  # fmt: skip
    response = nina_client.post(url("infusion_add", patient_pat), form)
    assert "cannot start in the future" in field_error(response, "started_at")
    assert not Infusion.objects.exists()
    response = nina_client.post(url("infusion_add", patient_pat), {**form, "status": "planned"})
    assert saved(response, patient_pat)
    infusion = Infusion.objects.get()
    assert infusion.status == "planned" and infusion.source == "staff" and infusion.hydration_given is True
    past = (timezone.localtime() - timedelta(hours=3)).strftime(FMT)
    response = nina_client.post(
        url("infusion_edit", patient_pat, infusion), {**form, "started_at": past, "max_rate_mg_kg_min": "4"}
    )
    assert saved(response, patient_pat)
    infusion.refresh_from_db()
    assert infusion.status == "administered" and float(infusion.max_rate_mg_kg_min) == 4


def test_infusion_needs_a_product_or_regimen(nina_client, patient_pat):
    response = nina_client.post(
        url("infusion_add", patient_pat),
        {"started_at": timezone.localtime().strftime(FMT), "dose_grams": "30", "status": "administered"},
    )
    assert "Choose the product" in field_error(response, "product")


def test_add_and_edit_medication(nina_client, patient_pat):
    form = {"drug": "Eliquis", "dose": "10", "route": "oral", "start_date": "2026-01-01"}
    response = nina_client.post(url("medication_add", patient_pat), form)
    assert "prophylactic, therapeutic or extended" in field_error(response, "intensity")
    response = nina_client.post(url("medication_add", patient_pat), {**form, "drug": "prednisolne"})
    assert "Did you mean: prednisolone" in field_error(response, "drug")
    response = nina_client.post(url("medication_add", patient_pat), {**form, "route": ""})
    assert field_error(response, "route")
    assert MedicationCourse.objects.count() == 0
    page = nina_client.get(url("medication_add", patient_pat)).content.decode()
    assert 'list="drug-dictionary"' in page and '<option value="Eliquis">' in page  # type-ahead without JS
    response = nina_client.post(url("medication_add", patient_pat), {**form, "intensity": "therapeutic"})
    assert saved(response, patient_pat)
    course = MedicationCourse.objects.get()
    assert course.drug.name == "apixaban" and course.category == "anticoagulant"
    assert course.indication == "vte_treatment"  # the default
    response = nina_client.post(
        url("medication_edit", patient_pat, course),
        {**form, "intensity": "extended", "indication": "atrial_fibrillation", "end_date": "2026-06-01"},
    )
    assert saved(response, patient_pat)
    course.refresh_from_db()
    assert course.intensity == "extended" and str(course.end_date) == "2026-06-01"
    assert course.indication == "atrial_fibrillation"


def test_free_text_medication_is_recorded_as_other_and_shown_as_needing_coding(nina_client, patient_pat):
    form = {"drug": "bananas", "route": "oral", "start_date": "2026-01-01"}
    response = nina_client.post(url("medication_add", patient_pat), form)
    assert "Unknown drug" in field_error(response, "drug")
    response = nina_client.post(url("medication_add", patient_pat), {**form, "free_text": "on"})
    assert saved(response, patient_pat)
    course = MedicationCourse.objects.get()
    assert course.category == "other" and course.drug is None and course.drug_name == "bananas"
    page = nina_client.get(f"/staff/patients/{patient_pat.public_id}/").content.decode()
    assert "needs coding" in page and "Recorded, not scored" in page


def test_forms_are_accessible(nina_client, patient_pat):
    """Every input has a label; errors are announced and linked to their field."""
    import re

    for name in ("condition_add", "access_add", "event_add", "lab_add", "infusion_add", "medication_add"):
        content = nina_client.get(url(name, patient_pat)).content.decode()
        for input_id in re.findall(r'<(?:input|select|textarea)[^>]*\bid="([^"]+)"', content):
            if input_id.startswith("id_"):
                assert f'for="{input_id}"' in content, (name, input_id)
    response = nina_client.post(url("condition_add", patient_pat), {})
    content = response.content.decode()
    assert 'role="alert"' in content and 'href="#id_code"' in content
    assert 'aria-invalid="true"' in content
