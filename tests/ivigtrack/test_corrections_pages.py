"""Records entered in error through the staff pages and the admin: the confirm page (reason
required, once only), the patient page and the portal history that strike them through with a
constant number of queries, the weight history that picks its current weight again, and the
rule flags the re-assessment closes."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from ivigtrack.corrections import mark_entered_in_error
from patients import services as patient_services
from patients.models import LabResult, Patient, ThrombosisEvent, WeightMeasurement
from risk.models import ReviewFlag
from risk.services.assessment import patient_assess
from tests import factories

pytestmark = pytest.mark.django_db

# staff URL name prefix -> records_of key
PAGE_KINDS = {
    "condition": "conditions",
    "access": "vascular-access",
    "event": "thrombosis-events",
    "lab": "labs",
    "symptom": "symptom-reports",
    "regimen": "regimens",
    "infusion": "infusions",
    "medication": "medications",
}


def eie_url(kind: str, record) -> str:
    return reverse(
        f"staff:{kind}_entered_in_error", kwargs={"patient_id": record.patient.public_id, "record_id": record.public_id}
    )


def detail_url(patient) -> str:
    return reverse("staff:patient_detail", kwargs={"patient_id": patient.public_id})


@pytest.mark.parametrize("kind", list(PAGE_KINDS))
def test_the_confirm_page_marks_each_kind_and_returns_to_the_patient(kind, carol_client, pat_records, patient_pat):
    record = pat_records[PAGE_KINDS[kind]]
    page = carol_client.get(eie_url(kind, record))
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<h1") == 1 and 'name="reason"' in html and "csrfmiddlewaretoken" in html
    response = carol_client.post(eie_url(kind, record), {"reason": "Entered on the wrong patient"})
    assert response.status_code == 302 and response["Location"] == detail_url(patient_pat)
    record = type(record).all_objects.get(pk=record.pk)
    assert record.entered_in_error and record.entered_in_error_reason == "Entered on the wrong patient"
    followed = carol_client.get(detail_url(patient_pat)).content.decode()
    assert "marked entered in error" in followed  # the message
    assert "Entered in error:</strong> Entered on the wrong patient" in followed


def test_a_blank_reason_is_a_form_error_and_changes_nothing(nina_client, pat_records):
    lab = pat_records["labs"]
    response = nina_client.post(eie_url("lab", lab), {"reason": "  "})
    assert response.status_code == 200
    assert "Say why this record was entered in error." in response.content.decode()
    assert LabResult.objects.filter(pk=lab.pk).exists()
    assert not AuditEvent.objects.filter(action="lab.entered_in_error").exists()


def test_marking_twice_on_the_page_is_a_form_error(nina_client, clinician_carol, pat_records):
    lab = pat_records["labs"]
    mark_entered_in_error(lab, reason="first", actor=clinician_carol)
    response = nina_client.post(eie_url("lab", lab), {"reason": "second"})
    assert response.status_code == 200
    assert "already marked entered in error" in response.content.decode()
    assert LabResult.all_objects.get(pk=lab.pk).entered_in_error_reason == "first"


def test_a_nurse_may_not_correct_a_regimen_and_other_sites_see_nothing(nina_client, nurse_fay, pat_records):
    assert nina_client.get(eie_url("regimen", pat_records["regimens"])).status_code == 403
    far = factories.session_client(nurse_fay)
    assert far.get(eie_url("lab", pat_records["labs"])).status_code == 404
    assert far.post(eie_url("lab", pat_records["labs"]), {"reason": "x"}).status_code == 404
    assert LabResult.objects.filter(pk=pat_records["labs"].pk).exists()


def test_the_patient_page_strikes_every_correction_through_in_constant_queries(
    nina_client, clinician_carol, pat_records, patient_pat, product
):
    patient_assess(patient_pat)
    with CaptureQueriesContext(connection) as before:
        assert nina_client.get(detail_url(patient_pat)).status_code == 200
    for key in PAGE_KINDS.values():
        mark_entered_in_error(pat_records[key], reason=f"wrong {key}", actor=clinician_carol)
    mark_entered_in_error(pat_records["weights"], reason="wrong weight", actor=clinician_carol)
    with CaptureQueriesContext(connection) as after:
        html = nina_client.get(detail_url(patient_pat)).content.decode()
    assert len(after.captured_queries) <= len(before.captured_queries)
    for key in [*PAGE_KINDS.values(), "weight"]:
        assert f"Entered in error:</strong> wrong {key}" in html
    assert html.count('class="entered-in-error"') + html.count(" entered-in-error") >= 9
    condition = pat_records["conditions"]
    edit = reverse(
        "staff:condition_edit", kwargs={"patient_id": patient_pat.public_id, "record_id": condition.public_id}
    )
    assert edit not in html  # a record entered in error is not edited
    assert eie_url("condition", condition) not in html  # nor marked again


def test_the_portal_history_strikes_corrections_through(pat_client, clinician_carol, pat_records):
    mark_entered_in_error(pat_records["infusions"], reason="not given", actor=clinician_carol)
    mark_entered_in_error(pat_records["symptom-reports"], reason="wrong patient", actor=clinician_carol)
    html = pat_client.get(reverse("portal:history")).content.decode()
    assert html.count('class="entered-in-error"') == 2
    assert "your clinic corrected this record" in html
    assert "wrong patient" not in html  # staff's words stay with staff
    result = reverse("portal:symptom_result", kwargs={"report_id": pat_records["symptom-reports"].public_id})
    assert result not in html  # no link to a report that no longer counts


def test_a_current_weight_entered_in_error_hands_current_back(carol_client, clinician_carol, patient_pat):
    newest = patient_services.weight_record(
        actor=clinician_carol, patient=patient_pat, weight_kg=95, measured_on=timezone.localdate()
    )
    assert Patient.objects.get(pk=patient_pat.pk).weight_kg == 95
    response = carol_client.post(eie_url("weight", newest), {"reason": "Typo: 59 kg"})
    assert response.status_code == 302
    patient = Patient.objects.get(pk=patient_pat.pk)
    assert patient.weight_kg == 70
    assert WeightMeasurement.objects.get(patient=patient, is_current=True).weight_kg == 70
    assert not WeightMeasurement.all_objects.get(pk=newest.pk).is_current
    assert AuditEvent.objects.filter(action="weight.entered_in_error", object_id=str(newest.public_id)).exists()


def test_a_rule_flag_whose_only_reason_was_the_record_lapses(
    clinician_carol, patient_pat, django_capture_on_commit_callbacks
):
    event = patient_services.thrombosis_event_record(
        actor=clinician_carol,
        patient=patient_pat,
        kind="dvt",
        status="suspected",
        diagnosed_on=timezone.localdate() - timedelta(days=3),
    )
    patient_assess(patient_pat)
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="hematology_review")
    assert flag.rule == "HEM-URGENT" and flag.status == "open"
    with django_capture_on_commit_callbacks(execute=True):
        mark_entered_in_error(event, reason="Scan was of another patient", actor=clinician_carol)
    flag.refresh_from_db()
    assert flag.status == "resolved" and flag.resolution == "lapsed"
    assert not ThrombosisEvent.objects.filter(pk=event.pk).exists()


def test_a_rejected_doubtful_lab_is_kept_as_entered_in_error(nina_client, nurse_nina, patient_pat):
    doubtful = patient_services.lab_record(
        actor=nurse_nina, patient=patient_pat, test="platelets", value=1300, collected_at=timezone.now()
    )
    assert doubtful.needs_verification
    url = reverse("staff:lab_verify", args=[patient_pat.public_id, doubtful.public_id])
    nina_client.post(url, {"decision": "reject"})
    kept = LabResult.all_objects.get(pk=doubtful.pk)
    assert kept.entered_in_error and kept.entered_in_error_reason.startswith("Rejected at verification")
    assert AuditEvent.objects.filter(action="lab.reject", object_id=str(kept.public_id)).exists()
    assert "Rejected at verification" in nina_client.get(detail_url(patient_pat)).content.decode()


# --- admin -----------------------------------------------------------------------------------


@pytest.fixture
def root_client(admin_user):
    client = Client()
    client.force_login(admin_user)
    return client


def test_the_admin_action_asks_for_a_reason_and_goes_through_the_service(root_client, pat_records, patient_pat):
    lab = pat_records["labs"]
    changelist = reverse("admin:patients_labresult_changelist")
    picked = {"action": "mark_entered_in_error", "_selected_action": [lab.pk]}
    asked = root_client.post(changelist, picked)
    assert asked.status_code == 200 and 'name="reason"' in asked.content.decode()
    blank = root_client.post(changelist, {**picked, "apply": "1", "reason": ""})
    assert blank.status_code == 200 and "Say why this record was entered in error." in blank.content.decode()
    assert LabResult.objects.filter(pk=lab.pk).exists()
    done = root_client.post(changelist, {**picked, "apply": "1", "reason": "Duplicate import"})
    assert done.status_code == 302
    lab = LabResult.all_objects.get(pk=lab.pk)
    assert lab.entered_in_error and lab.entered_in_error_reason == "Duplicate import"
    assert AuditEvent.objects.get(action="lab.entered_in_error").detail == {"reason": "Duplicate import"}
    listing = root_client.get(changelist).content.decode()
    assert str(lab.value).rstrip("0").rstrip(".") in listing  # still listed in the admin
    assert (
        root_client.post(reverse("admin:patients_labresult_delete", args=[lab.pk]), {"post": "yes"}).status_code == 403
    )
    assert LabResult.all_objects.filter(pk=lab.pk).exists()


def test_the_admin_refuses_to_change_a_record_entered_in_error(root_client, clinician_carol, pat_records):
    condition = pat_records["conditions"]
    mark_entered_in_error(condition, reason="wrong", actor=clinician_carol)
    url = reverse("admin:patients_condition_change", args=[condition.pk])
    response = root_client.post(url, {"code": "smoking", "onset_date": date(2020, 1, 1).isoformat()})
    assert response.status_code == 403
    assert type(condition).all_objects.get(pk=condition.pk).code == "hypertension"
