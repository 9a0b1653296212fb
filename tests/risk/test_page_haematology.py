"""Haematology on the staff pages: the review form (patient page and the flag's resolve dialog),
the guidance per VTE, and the printable summary (every section, only this patient, audited)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from demo import vignettes
from infusions import services as infusion_services
from ivigtrack.audit.models import AuditEvent
from risk.models import HaematologyReview, ReviewFlag
from risk.services.assessment import patient_assess
from tests.factories import make_urgent_flag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
HTMX = {"HTTP_HX_REQUEST": "true"}

SECTIONS = [
    "Patient",
    "IVIG regimen and the last",
    "Current clot risk",
    "Thrombosis events",
    "Anticoagulation duration and thrombophilia testing: guidance",
    "Anticoagulant and antiplatelet history",
    "Steroid and estrogen exposure",
    "Labs of the last 12 months",
    "Previous haematology reviews",
    "Open review flags",
    "Sources",
]


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def v01(clinician_carol):
    clock = timezone.now().replace(microsecond=0)
    patient = vignettes.v01(clinician_carol, clock, labs=True)
    infusion_services.medication_record(
        actor=clinician_carol,
        patient=patient,
        category="anticoagulant",
        drug="apixaban",
        dose_mg_per_day="20",
        route="oral",
        intensity="therapeutic",
        start_date=clock.date(),
    )
    infusion_services.medication_record(
        actor=clinician_carol,
        patient=patient,
        category="antiplatelet",
        drug="aspirin",
        dose_mg_per_day="75",
        route="oral",
        start_date=clock.date() - timedelta(days=400),
    )
    infusion_services.medication_record(
        actor=clinician_carol,
        patient=patient,
        category="steroid",
        drug="prednisolone",
        dose_mg_per_day="10",
        route="oral",
        start_date=clock.date() - timedelta(days=60),
    )
    patient_assess(patient)
    return patient


def test_summary_of_v01_has_every_section_and_nothing_of_another_patient(
    carol_client, nurse_nina, v01, clinician_carol
):
    other = vignettes.v02(clinician_carol, timezone.now(), mrn="OTHER")
    infusion_services.medication_record(
        actor=clinician_carol,
        patient=other,
        category="anticoagulant",
        drug="warfarin",
        dose_mg_per_day="5",
        route="oral",
        intensity="therapeutic",
        start_date=timezone.localdate(),
    )
    patient_assess(other)
    response = carol_client.get(reverse("staff:patient_summary", args=[v01.public_id]))
    assert response.status_code == 200
    text = _text(response.content.decode())
    for heading in SECTIONS:
        assert heading in text, heading
    assert "BENSON, Arthur" in text and "V01" in text
    # demographics, regimen, infusions with g/kg and rate, events with provocation
    assert "0.40 g/kg/day × 5 days" in text and "0.42" in text and "8 mg/kg/min" in text
    assert "provocation: minor transient" in text
    # guidance per VTE, with its sources; the aspirin note; steroid exposure
    assert "CHEST 2021 suggests stopping after 3 months" in text
    assert "falsely positive" in text and "Bright PD" in text
    assert "Recorded; no evidence that it lowers IVIG thrombosis risk" in text
    assert "prednisolone" in text
    # labs with H marks (D-dimer above its upper limit)
    assert re.search(r"D-dimer 5.80 mg/L FEU H 0.50", text)
    # open flags of this patient, and nothing of the other one
    assert "HEM-URGENT" in text
    assert "OTHER" not in text and "warfarin" not in text and other.family_name not in text


def test_summary_read_is_audited_and_the_pdf_path_prints(carol_client, clinician_carol, v01):
    url = reverse("staff:patient_summary", args=[v01.public_id])
    assert carol_client.get(url).status_code == 200
    pdf = carol_client.get(url, {"format": "pdf"})
    assert pdf.status_code == 200 and pdf["Cache-Control"] == "no-store"
    assert b"js/print.js" in pdf.content  # opens the browser's print dialog ("Save as PDF")
    rows = AuditEvent.objects.filter(action="patient.summary", patient_id=v01.pk, actor=clinician_carol)
    assert sorted(r.detail["format"] for r in rows) == ["html", "pdf"]


def test_summary_is_staff_only(pat_client, anon, v01):
    url = reverse("staff:patient_summary", args=[v01.public_id])
    assert pat_client.get(url).status_code in (302, 403)
    assert anon.get(url).status_code in (302, 403)


def test_the_patient_page_shows_reviews_and_guidance(carol_client, clinician_carol, v01):
    carol_client.post(
        reverse("staff:haematology_review_add", args=[v01.public_id]),
        {
            "reviewed_on": timezone.localdate().isoformat(),
            "reviewer_name": "Dr Outside",
            "anticoagulation_plan": "treatment_3_months",
            "ivig_plan": "slow_rate",
            "thrombophilia_testing": "deferred_after_ivig",
            "review_note": "3 months of apixaban",
        },
    )
    review = HaematologyReview.objects.get(patient=v01)
    assert review.reviewer_name == "Dr Outside" and review.note == "3 months of apixaban"
    text = _text(carol_client.get(reverse("staff:patient_detail", args=[v01.public_id])).content.decode())
    assert "Haematology reviews" in text and "Dr Outside" in text
    assert "anticoagulation: Treatment for 3 months, then review" in text
    assert "Decision support, not a decision." in text and "CHEST 2021" in text


def test_the_review_form_refuses_bad_input_and_writes_nothing(carol_client, v01):
    response = carol_client.post(
        reverse("staff:haematology_review_add", args=[v01.public_id]),
        {"reviewed_on": (timezone.localdate() + timedelta(days=2)).isoformat(), "anticoagulation_plan": "x"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not HaematologyReview.objects.exists()


def test_the_resolve_dialog_of_a_haematology_flag_records_the_review(carol_client, clinician_carol, patient_pat):
    flag = make_urgent_flag(patient_pat)
    url = reverse("staff:flag_resolve", args=[flag.public_id])
    form = carol_client.get(url, **HTMX).content.decode()
    assert 'name="anticoagulation_plan"' in form and "falsely positive" in form
    missing = carol_client.post(url, {"resolution": "completed"}, **HTMX).content.decode()
    assert "Required to complete a haematology review" in missing
    flag.refresh_from_db()
    assert flag.status == "open"
    done = carol_client.post(
        url,
        {
            "resolution": "completed",
            "reviewed_on": timezone.localdate().isoformat(),
            "anticoagulation_plan": "treatment_3_months",
            "ivig_plan": "slow_rate",
            "thrombophilia_testing": "deferred_after_ivig",
        },
        **HTMX,
    ).content.decode()
    assert "Resolved." in done
    flag.refresh_from_db()
    review = HaematologyReview.objects.get(patient=patient_pat)
    assert (flag.status, flag.resolution, review.flag_id, review.reviewer) == (
        "resolved",
        "completed",
        flag.pk,
        clinician_carol,
    )
    # not indicated needs no review, as before
    other = make_urgent_flag(patient_pat)
    carol_client.post(
        reverse("staff:flag_resolve", args=[other.public_id]),
        {"resolution": "not_indicated", "note": "seen elsewhere"},
        **HTMX,
    )
    other.refresh_from_db()
    assert other.resolution == "not_indicated" and HaematologyReview.objects.count() == 1
    assert ReviewFlag.objects.filter(status="open").count() == 0
