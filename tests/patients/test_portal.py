"""The patient portal: my next infusion, log an infusion, report symptoms (emergency advice
first, in large type), my history. The patient always comes from the login."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from infusions.models import Infusion, Product, Regimen
from patients.models import SymptomReport
from risk.models import ReviewFlag

pytestmark = pytest.mark.django_db
FMT = "%Y-%m-%dT%H:%M"


@pytest.fixture
def privigen():
    return Product.objects.get(name="Privigen 10%")


def test_home_shows_my_next_infusion(pat_client, patient_pat, privigen):
    start = timezone.localdate() + timedelta(days=4)
    Regimen.objects.create(
        patient=patient_pat, product=privigen, indication="cidp", dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=5, interval_days=28, start_date=start,
    )  # fmt: skip
    content = pat_client.get(reverse("portal:home")).content.decode()
    assert "Hello, Pat" in content
    assert start.strftime("%A %d/%m/%Y") in content  # the site's format (day first), with the year
    assert "5 days in a row" in content and "Privigen 10%" in content
    assert "Call emergency services now" in content  # the warning signs are always on the home page


def test_home_prefers_an_earlier_planned_infusion(pat_client, patient_pat, privigen, nurse_nina):
    from infusions.services import infusion_record

    Regimen.objects.create(
        patient=patient_pat, product=privigen, indication="cidp", dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=1, interval_days=28, start_date=timezone.localdate() + timedelta(days=10),
    )  # fmt: skip
    when = timezone.now() + timedelta(days=2)
    infusion_record(actor=nurse_nina, patient=patient_pat, product=privigen, dose_grams=Decimal("25"),
                    started_at=when, status="planned")  # fmt: skip
    content = pat_client.get(reverse("portal:home")).content.decode()
    assert timezone.localtime(when).strftime("%A %d/%m/%Y") in content and "25.0 g" in content


def test_home_without_a_plan(pat_client):
    assert "No infusion is planned on your record" in pat_client.get(reverse("portal:home")).content.decode()


def test_log_an_infusion(pat_client, patient_pat, privigen):
    page = pat_client.get(reverse("portal:infusion_log")).content.decode()
    assert 'name="started_at"' in page and "dd/mm/yyyy hh:mm" in page and "Privigen 10%" in page
    started = (timezone.localtime() - timedelta(hours=2)).strftime("%d/%m/%Y %H:%M")  # the site's format
    response = pat_client.post(
        reverse("portal:infusion_log"),
        {"started_at": started, "product": privigen.pk, "dose_grams": "30", "lot_number": "LOT-9",
         "reactions": "mild headache"},
        follow=True,
    )  # fmt: skip
    assert response.redirect_chain[-1][0] == reverse("portal:home")
    assert "Thank you: your infusion of 30 g Privigen 10%" in response.content.decode()
    infusion = Infusion.objects.get()
    assert (infusion.patient, infusion.source, infusion.status, infusion.lot_number, infusion.reactions) == (
        patient_pat, "patient", "administered", "LOT-9", "mild headache"
    )  # fmt: skip
    assert infusion.recorded_by == patient_pat.user


def test_logged_infusion_counts_toward_the_matching_regimen(pat_client, patient_pat, privigen):
    regimen = Regimen.objects.create(
        patient=patient_pat, product=privigen, indication="cidp", dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=5, interval_days=28, start_date=timezone.localdate() - timedelta(days=1),
    )  # fmt: skip
    pat_client.post(
        reverse("portal:infusion_log"),
        {"started_at": timezone.localtime().strftime(FMT), "product": privigen.pk, "dose_grams": "28"},
    )
    assert Infusion.objects.get().regimen == regimen


def test_future_administered_infusion_is_refused_on_its_field(pat_client, privigen):
    tomorrow = (timezone.localtime() + timedelta(days=1)).strftime(FMT)
    response = pat_client.post(
        reverse("portal:infusion_log"), {"started_at": tomorrow, "product": privigen.pk, "dose_grams": "30"}
    )
    assert response.status_code == 200
    assert "cannot start in the future" in " ".join(response.context["form"].errors["started_at"])
    assert 'href="#id_started_at"' in response.content.decode()
    assert not Infusion.objects.exists()


def test_friendly_errors_for_missing_or_silly_values(pat_client):
    response = pat_client.post(reverse("portal:infusion_log"), {"dose_grams": "900"})
    errors = response.context["form"].errors
    assert set(errors) == {"started_at", "product", "dose_grams"}
    assert "250" in " ".join(errors["dose_grams"])


def test_symptom_checklist_in_plain_language(pat_client):
    content = pat_client.get(reverse("portal:symptom_report")).content.decode()
    assert "Chest pain or pressure" in content and "A severe new headache" in content
    assert 'id="emergency-now"' in content and "hidden" in content
    assert 'data-triage="emergency"' in content and "/static/js/symptoms.js" in content


def test_emergency_report_says_call_emergency_services_first(pat_client, patient_pat):
    response = pat_client.post(
        reverse("portal:symptom_report"), {"symptoms": ["chest_pain", "rapid_pulse"], "note": "sharp"}, follow=True
    )
    report = SymptomReport.objects.get()
    assert response.redirect_chain[-1][0] == reverse("portal:symptom_result", args=[report.public_id])
    content = response.content.decode()
    main = content[content.index('<main id="main"') :]
    # the emergency box is the first thing on the page, before anything else
    first = main.index('<div class="emergency" role="alert">')
    assert first < main.index("What you reported")
    assert main.index("Call emergency services now") < main.index("What you reported")
    assert "can be a sign of a blood clot" in main  # the reason
    assert "Chest pain or pressure" in main and "The clinic has been alerted." in main
    assert report.source == "patient" and report.reported_by == patient_pat.user
    flag = ReviewFlag.objects.get(patient=patient_pat)
    assert flag.priority == "emergency" and flag.status == "open"


def test_urgent_report_says_seek_care_today(pat_client, patient_pat):
    response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["limb_pain_swelling"]}, follow=True)
    content = response.content.decode()
    assert "Seek medical care today" in content
    assert "The clinic has been alerted" in content
    assert "Call emergency services now</p>" not in content
    assert ReviewFlag.objects.get(patient=patient_pat).priority == "urgent"


def test_routine_report_thanks(pat_client, patient_pat):
    response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["other"], "note": "tired"}, follow=True)
    content = response.content.decode()
    assert "Thank you" in content and "Seek medical care today" not in content
    assert not ReviewFlag.objects.filter(patient=patient_pat).exists()


def test_report_needs_a_symptom(pat_client):
    response = pat_client.post(reverse("portal:symptom_report"), {"note": "hmm"})
    assert "Tick at least one symptom" in response.content.decode()
    assert 'value="' in response.content.decode()
    assert not SymptomReport.objects.exists()


def test_unknown_symptom_code_is_refused(pat_client):
    response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["bogus"]})
    assert "valid choice" in response.content.decode()
    assert not SymptomReport.objects.exists()


def test_ticked_boxes_stay_ticked_after_an_error(pat_client):
    response = pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["chest_pain", "bogus"]})
    assert 'value="chest_pain" id="id_symptoms_chest_pain" data-triage="emergency" checked' in response.content.decode()


def test_history_lists_my_infusions_and_reports(pat_client, patient_pat, privigen):
    pat_client.post(
        reverse("portal:infusion_log"),
        {"started_at": timezone.localtime().strftime(FMT), "product": privigen.pk, "dose_grams": "30",
         "lot_number": "LOT-77"},
    )  # fmt: skip
    pat_client.post(reverse("portal:symptom_report"), {"symptoms": ["severe_headache"]})
    content = pat_client.get(reverse("portal:history")).content.decode()
    assert "LOT-77" in content and "logged by you" in content
    assert "A severe new headache" in content and "Urgent" in content


def test_history_empty_state(pat_client):
    content = pat_client.get(reverse("portal:history")).content.decode()
    assert "No infusions yet." in content and "No symptom reports." in content


def test_portal_takes_no_patient_id(pat_client, patient_quinn, privigen):
    """Even a tampered form cannot write to another patient: there is no field for it."""
    pat_client.post(
        reverse("portal:infusion_log"),
        {"started_at": timezone.localtime().strftime(FMT), "product": privigen.pk, "dose_grams": "30",
         "patient": patient_quinn.pk, "patient_id": patient_quinn.public_id},
    )  # fmt: skip
    assert not Infusion.objects.filter(patient=patient_quinn).exists()
    assert Infusion.objects.get().patient.user.username == "pat"
