"""Edits of labs, weights and symptom reports (pages and API): saved through the services
(validated, audited with the changed fields, re-assessed), refused edits change nothing, other
sites' staff get 404 and patients may not edit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ivigtrack.accounts.models import Site
from ivigtrack.audit.models import AuditEvent
from patients import services
from patients.models import LabResult, SymptomReport, WeightMeasurement
from risk.models import FlagReport, ReviewFlag, RiskAssessment
from tests.factories import token_client

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


def page(name, patient, record):
    return reverse(f"staff:{name}", kwargs={"patient_id": patient.public_id, "record_id": record.public_id})


def saved(response, patient) -> bool:
    return response.status_code == 302 and response["Location"] == reverse(
        "staff:patient_detail", kwargs={"patient_id": patient.public_id}
    )


def field_error(response, name) -> str:
    return " ".join(response.context["form"].errors.get(name, []))


@pytest.fixture
def lab(patient_pat, nurse_nina):
    at = timezone.now() - timedelta(hours=3)
    return services.lab_record(actor=nurse_nina, patient=patient_pat, test="d_dimer", value=0.4, collected_at=at)


@pytest.fixture
def weight(patient_pat):
    return patient_pat.weights.get(is_current=True)


@pytest.fixture
def report(patient_pat, nurse_nina):
    return services.symptom_report_submit(actor=nurse_nina, patient=patient_pat, symptoms=["other"], note="tired")


def snapshot(obj) -> dict:
    row = type(obj).objects.filter(pk=obj.pk).values().get()
    row.pop("updated_at")
    return row


# --- labs ---------------------------------------------------------------------------------------


def test_lab_edit_page_saves_and_audits(nina_client, patient_pat, lab):
    form = nina_client.get(page("lab_edit", patient_pat, lab)).content.decode()
    assert form.count("<h1") == 1 and 'value="0.4"' in form
    detail = nina_client.get(reverse("staff:patient_detail", kwargs={"patient_id": patient_pat.public_id}))
    assert page("lab_edit", patient_pat, lab) in detail.content.decode()
    when = timezone.localtime(lab.collected_at).strftime(FMT)
    response = nina_client.post(
        page("lab_edit", patient_pat, lab),
        {"test": "d_dimer", "value": "800", "unit": "ng/mL FEU", "collected_at": when},
    )
    assert saved(response, patient_pat)
    lab.refresh_from_db()
    assert lab.value == pytest.approx(0.8) and lab.entered_value == 800 and lab.entered_unit == "ng/mL FEU"
    event = AuditEvent.objects.filter(action="lab.update").latest("id")
    assert event.patient_id == patient_pat.pk
    assert set(event.detail["changes"]) == {"value", "entered_value", "entered_unit"}


@pytest.mark.parametrize(
    "change, field, words",
    [
        ({"value": "-1"}, "value", "plausible range"),
        ({"unit": "furlongs"}, "unit", "Unknown unit"),
        ({"collected_at": "future"}, "collected_at", "future"),
        ({"value": "5000", "test": "platelets"}, "value", "plausible range"),
    ],
)
def test_lab_edit_page_refuses_bad_input_and_changes_nothing(nina_client, patient_pat, lab, change, field, words):
    before = snapshot(lab)
    data = {"test": "d_dimer", "value": "0.4", "collected_at": timezone.localtime(lab.collected_at).strftime(FMT)}
    data.update(change)
    if data["collected_at"] == "future":
        data["collected_at"] = timezone.localtime(timezone.now() + timedelta(days=2)).strftime(FMT)
    response = nina_client.post(page("lab_edit", patient_pat, lab), data)
    assert response.status_code == 200
    assert words in field_error(response, field)
    assert snapshot(lab) == before
    assert not AuditEvent.objects.filter(action="lab.update").exists()


def test_lab_edit_refuses_a_duplicate_of_another_lab_but_not_of_itself(nurse_nina, patient_pat, lab):
    other = services.lab_record(
        actor=nurse_nina,
        patient=patient_pat,
        test="d_dimer",
        value=0.9,
        collected_at=lab.collected_at + timedelta(hours=1),
    )
    from patients import edits

    # the same values again: not its own duplicate
    edits.lab_update(actor=nurse_nina, lab=lab, value=0.4, collected_at=lab.collected_at)
    with pytest.raises(Exception, match="already recorded"):
        edits.lab_update(actor=nurse_nina, lab=lab, value=0.9, collected_at=other.collected_at)
    lab.refresh_from_db()
    assert lab.value == 0.4


def test_lab_edit_api_patch_reverifies_and_converts(nina_api, patient_pat, lab):
    url = f"/api/v1/labs/{lab.public_id}/"
    response = nina_api.patch(url, {"test": "platelets", "value": 1200}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["test"] == "platelets" and body["needs_verification"] is True and body["verification_reason"]
    response = nina_api.patch(url, {"value": 250}, format="json")
    assert response.json()["needs_verification"] is False
    response = nina_api.patch(url, {"value": 250, "unit": "bogus"}, format="json")
    assert response.status_code == 400 and "unit" in response.json()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = nina_api.patch(url, {"collected_at": future}, format="json")
    assert response.status_code == 400 and "collected_at" in response.json()
    lab.refresh_from_db()
    assert lab.value == 250 and lab.test == "platelets"


def test_lab_edit_api_put_and_egfr_follows_creatinine(nina_api, patient_pat, nurse_nina):
    at = timezone.now() - timedelta(hours=1)
    creat = services.lab_record(actor=nurse_nina, patient=patient_pat, test="creatinine", value=0.8, collected_at=at)
    url = f"/api/v1/labs/{creat.public_id}/"
    before = nina_api.get(url).json()["egfr"]["value"]
    body = {"patient": str(patient_pat.public_id), "test": "creatinine", "value": 300, "unit": "umol/L",
            "collected_at": at.isoformat()}  # fmt: skip
    response = nina_api.put(url, body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["value"] == pytest.approx(300 / 88.4) and data["unit"] == "mg/dL"
    assert data["egfr"]["value"] < before


def _assessment(patient):
    return RiskAssessment.objects.get(patient=patient, is_current=True)


def test_edited_d_dimer_and_platelets_change_the_assessment(
    nina_api, patient_pat, clinician_carol, nurse_nina, django_capture_on_commit_callbacks
):
    at = timezone.now() - timedelta(hours=2)
    with django_capture_on_commit_callbacks(execute=True):
        services.condition_add(actor=clinician_carol, patient=patient_pat, code="acute_infection_or_sepsis")
        panel = services.lab_panel_record(
            actor=nurse_nina,
            patient=patient_pat,
            collected_at=at,
            results=[
                {"test": "platelets", "value": 150},
                {"test": "d_dimer", "value": 0.4},
                {"test": "pt", "value": 18},
                {"test": "fibrinogen", "value": 0.8},
            ],
        )
    by_test = {lab.test: lab for lab in panel}
    before = _assessment(patient_pat)
    assert not any("overt-DIC" in str(o) for o in before.overrides)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = nina_api.patch(f"/api/v1/labs/{by_test['d_dimer'].public_id}/", {"value": 3.0}, format="json")
    assert response.status_code == 200 and callbacks
    with django_capture_on_commit_callbacks(execute=True):
        response = nina_api.patch(f"/api/v1/labs/{by_test['platelets'].public_id}/", {"value": 40}, format="json")
    assert response.status_code == 200
    after = _assessment(patient_pat)
    assert after.pk != before.pk
    assert any("overt-DIC" in str(o) for o in after.overrides)


# --- weights ------------------------------------------------------------------------------------


def test_weight_edit_page_updates_the_current_weight(nina_client, patient_pat, weight):
    form = nina_client.get(page("weight_edit", patient_pat, weight)).content.decode()
    assert form.count("<h1") == 1 and 'value="70.0"' in form
    detail = nina_client.get(reverse("staff:patient_detail", kwargs={"patient_id": patient_pat.public_id}))
    assert page("weight_edit", patient_pat, weight) in detail.content.decode()
    response = nina_client.post(
        page("weight_edit", patient_pat, weight), {"weight_kg": "72.5", "measured_on": weight.measured_on.isoformat()}
    )
    assert saved(response, patient_pat)
    patient_pat.refresh_from_db()
    assert float(patient_pat.weight_kg) == 72.5
    event = AuditEvent.objects.filter(action="weight.update").latest("id")
    assert event.detail["changes"] == {"weight_kg": ["70.0", "72.5"]}


def test_weight_edit_to_an_older_date_makes_the_newer_weight_current(nurse_nina, patient_pat, weight):
    from patients import edits

    today = timezone.localdate()
    weight.measured_on = today - timedelta(days=5)
    weight.save(update_fields=["measured_on"])
    newer = services.weight_record(
        actor=nurse_nina, patient=patient_pat, weight_kg=75, measured_on=today - timedelta(days=2)
    )
    edits.weight_update(actor=nurse_nina, measurement=newer, measured_on=today - timedelta(days=10))
    patient_pat.refresh_from_db()
    assert float(patient_pat.weight_kg) == 70 and patient_pat.weight_measured_on == today - timedelta(days=5)
    assert list(patient_pat.weights.filter(is_current=True)) == [weight]


@pytest.mark.parametrize(
    "weight_kg, measured_on, field, words",
    [("0", None, "weight_kg", "2"), ("900", None, "weight_kg", "350"), ("70", "future", "measured_on", "future")],
)
def test_weight_edit_page_refuses_bad_input(nina_client, patient_pat, weight, weight_kg, measured_on, field, words):
    before = snapshot(weight)
    day = weight.measured_on if measured_on is None else timezone.localdate() + timedelta(days=3)
    response = nina_client.post(
        page("weight_edit", patient_pat, weight), {"weight_kg": weight_kg, "measured_on": day.isoformat()}
    )
    assert response.status_code == 200
    assert words in field_error(response, field)
    assert snapshot(weight) == before


def test_weight_service_refuses_implausible_weights(nurse_nina, weight):
    from django.core.exceptions import ValidationError

    from patients import edits

    for bad in (0, 900):
        with pytest.raises(ValidationError) as caught:
            edits.weight_update(actor=nurse_nina, measurement=weight, weight_kg=bad)
        assert "weight_kg" in caught.value.message_dict or "__all__" in caught.value.message_dict
    weight.refresh_from_db()
    assert float(weight.weight_kg) == 70


# --- symptom reports ----------------------------------------------------------------------------


def test_symptom_edit_page_raising_severity_raises_the_flag_at_once(nina_client, patient_pat, report):
    assert not ReviewFlag.objects.filter(patient=patient_pat, kind="symptom_alert").exists()
    form = nina_client.get(page("symptom_edit", patient_pat, report)).content.decode()
    assert form.count("<h1") == 1 and "tired" in form
    detail = nina_client.get(reverse("staff:patient_detail", kwargs={"patient_id": patient_pat.public_id}))
    assert page("symptom_edit", patient_pat, report) in detail.content.decode()
    response = nina_client.post(
        page("symptom_edit", patient_pat, report), {"symptoms": ["other", "chest_pain"], "note": "tired, chest pain"}
    )
    assert saved(response, patient_pat)
    report.refresh_from_db()
    assert report.triage == "emergency" and "emergency services" in report.advice
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert", status="open")
    assert flag.priority == "emergency" and FlagReport.objects.get(report=report).flag == flag
    event = AuditEvent.objects.filter(action="symptom_report.update").latest("id")
    assert event.detail["previous_triage"] == "routine" and "symptoms" in event.detail["changes"]


def test_symptom_edit_escalates_its_flag_and_a_lower_triage_never_lowers_it(nina_api, patient_pat, nurse_nina):
    urgent = services.symptom_report_submit(actor=nurse_nina, patient=patient_pat, symptoms=["limb_pain_swelling"])
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    assert flag.priority == "urgent"
    url = f"/api/v1/symptom-reports/{urgent.public_id}/"
    response = nina_api.patch(url, {"symptoms": ["limb_pain_swelling", "sudden_breathlessness"]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["triage"] == "emergency" and response.json()["flag"] == str(flag.public_id)
    flag.refresh_from_db()
    assert flag.priority == "emergency" and flag.escalated_at is not None
    assert ReviewFlag.objects.filter(patient=patient_pat, kind="symptom_alert").count() == 1
    response = nina_api.patch(url, {"symptoms": ["other"]}, format="json")
    assert response.json()["triage"] == "routine"
    flag.refresh_from_db()
    assert flag.priority == "emergency" and flag.status == "open"


def test_symptom_edit_on_a_resolved_flag_raises_a_new_one(nina_api, patient_pat, nurse_nina, clinician_carol):
    urgent = services.symptom_report_submit(actor=nurse_nina, patient=patient_pat, symptoms=["limb_pain_swelling"])
    old = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    ReviewFlag.objects.filter(pk=old.pk).update(
        status="resolved", resolution="not_indicated", resolved_at=timezone.now()
    )
    response = nina_api.patch(
        f"/api/v1/symptom-reports/{urgent.public_id}/", {"symptoms": ["chest_pain"]}, format="json"
    )
    assert response.status_code == 200
    new = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert", status="open")
    assert new.pk != old.pk and new.priority == "emergency"
    assert response.json()["flag"] == str(new.public_id)


def test_symptom_edit_refuses_bad_input(nina_api, nina_client, patient_pat, report):
    before = snapshot(report)
    url = f"/api/v1/symptom-reports/{report.public_id}/"
    response = nina_api.patch(url, {"symptoms": ["no_such_symptom"]}, format="json")
    assert response.status_code == 400 and "symptoms" in response.json()
    response = nina_api.patch(url, {"symptoms": []}, format="json")
    assert response.status_code == 400 and "symptoms" in response.json()
    future = (timezone.now() + timedelta(days=1)).isoformat()
    response = nina_api.patch(url, {"reported_at": future}, format="json")
    assert response.status_code == 400 and "reported_at" in response.json()
    response = nina_client.post(page("symptom_edit", patient_pat, report), {"note": "x"})
    assert response.status_code == 200 and field_error(response, "symptoms")
    assert snapshot(report) == before


def test_symptom_put_keeps_its_kind(nina_api, patient_pat, report):
    body = {"patient": str(patient_pat.public_id), "symptoms": ["severe_headache"], "note": "headache"}
    response = nina_api.put(f"/api/v1/symptom-reports/{report.public_id}/", body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["triage"] == "urgent" and response.json()["kind"] == "report"


# --- who may edit --------------------------------------------------------------------------------


def test_patients_may_not_edit(pat_api, pat_client, patient_pat, lab, weight, report):
    assert pat_api.patch(f"/api/v1/labs/{lab.public_id}/", {"value": 0.5}, format="json").status_code == 403
    response = pat_api.patch(
        f"/api/v1/symptom-reports/{report.public_id}/", {"symptoms": ["chest_pain"]}, format="json"
    )
    assert response.status_code == 403
    for name, record in (("lab_edit", lab), ("weight_edit", weight), ("symptom_edit", report)):
        assert pat_client.get(page(name, patient_pat, record)).status_code in (403, 404)
    report.refresh_from_db()
    assert report.triage == "routine"


def test_staff_of_another_site_get_404(make_user, patient_pat, lab, weight, report):
    elsewhere = Site.objects.create(name="Elsewhere", code="ELSE")
    stranger = make_user("stranger", "clinician", sites=[elsewhere])
    api = token_client(stranger)
    assert api.patch(f"/api/v1/labs/{lab.public_id}/", {"value": 0.5}, format="json").status_code == 404
    assert api.patch(f"/api/v1/symptom-reports/{report.public_id}/", {"note": "x"}, format="json").status_code == 404
    from django.test import Client

    browser = Client()
    browser.force_login(stranger)
    for name, record in (("lab_edit", lab), ("weight_edit", weight), ("symptom_edit", report)):
        assert browser.get(page(name, patient_pat, record)).status_code == 404
        assert browser.post(page(name, patient_pat, record), {}).status_code == 404
    assert LabResult.objects.get(pk=lab.pk).value == 0.4


def test_edit_queries_do_not_grow_with_history(nina_api, nina_client, patient_pat, nurse_nina, lab, report,
                                               django_assert_max_num_queries):  # fmt: skip
    def counts():
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as api_ctx:
            nina_api.patch(f"/api/v1/labs/{lab.public_id}/", {"value": 0.5}, format="json")
        with CaptureQueriesContext(connection) as page_ctx:
            nina_client.get(page("symptom_edit", patient_pat, report))
        return len(api_ctx), len(page_ctx)

    first = counts()
    base = timezone.now() - timedelta(days=2)
    for i in range(15):
        at = base - timedelta(hours=i)
        services.lab_record(actor=nurse_nina, patient=patient_pat, test="d_dimer", value=0.3, collected_at=at)
        services.symptom_report_submit(actor=nurse_nina, patient=patient_pat, symptoms=["other"], reported_at=at)
    LabResult.objects.filter(pk=lab.pk).update(value=0.4, entered_value=0.4)
    lab.refresh_from_db()
    second = counts()
    assert second == first
    with django_assert_max_num_queries(60):
        nina_api.patch(f"/api/v1/labs/{lab.public_id}/", {"value": 0.6}, format="json")
    assert SymptomReport.objects.filter(patient=patient_pat).count() == 16
    assert WeightMeasurement.objects.filter(patient=patient_pat).count() == 1
