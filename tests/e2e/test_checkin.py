"""End to end in Chromium at 375 x 812: the patient gets the day-1 check-in after an infusion,
answers "leg swelling", sees the advice and a tap-to-call link; the staff worklist shows the flag
due within 4 hours (inside the venous window, moderate tier). A clinician reads the chair check."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from demo import vignettes
from infusions.models import Infusion, Product
from risk.models import ReviewFlag
from risk.services.sweep import sweep_inline
from tests.factories import make_assessment

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_patient_answers_the_day_1_check_in_with_leg_swelling(open_page, patient_pat, nurse_nina):
    site = patient_pat.site  # the numbers the portal shows are the patient's own clinic's
    site.phone, site.emergency_number = "+44 20 7946 0000", "999"
    site.save()
    yesterday = timezone.localdate() - timedelta(days=1)
    started = timezone.make_aware(datetime.combine(yesterday, datetime.min.time())) + timedelta(hours=9)
    Infusion.objects.create(
        patient=patient_pat, product=Product.objects.get(name="Privigen 10%"), started_at=started,
        dose_grams=Decimal("28"),
    )  # fmt: skip
    make_assessment(patient_pat, score=5, tier="moderate")

    phone = open_page("patient-checkin", width=375, height=812)
    log_in(phone, "pat")
    page = phone.page
    card = page.locator(".checkin-due")
    expect(card).to_contain_text("How are you since your infusion?")
    expect(card).to_contain_text("Day 1 after your infusion")
    expect(page.locator("#watch-day")).to_contain_text("1 of 14")
    phone.screenshot("portal-home-checkin")
    card.get_by_role("link", name="Answer the check-in").click()
    expect(page.get_by_role("heading", name="How are you since your infusion?")).to_be_visible()
    expect(page.get_by_role("button", name="I feel fine")).to_be_visible()
    phone.screenshot("portal-checkin")
    page.get_by_label("Pain or swelling in an arm or leg, often warm").check()
    page.get_by_label("Anything you want to add").fill("Left calf swollen since this morning")
    page.get_by_role("button", name="Send to the clinic").click()

    expect(page.get_by_role("heading", name="Seek medical care today")).to_be_visible()
    call = page.locator('a[href="tel:+442079460000"]').first
    expect(call).to_be_visible()
    expect(page.locator('a[href="tel:999"]').first).to_be_visible()
    expect(page.locator(".clinic-did")).to_contain_text("alerted")
    phone.screenshot("portal-checkin-advice")
    no_sideways = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways

    flag = ReviewFlag.objects.get(patient=patient_pat, kind="symptom_alert")
    report = flag.reports.get()
    assert report.kind == "checkin" and report.symptoms == ["limb_pain_swelling"]
    assert flag.due_at == report.reported_at + timedelta(hours=4)

    nurse = open_page("nurse-worklist")
    log_in(nurse, "nina")
    row = nurse.page.locator(f"#flag-{flag.public_id}")
    expect(row).to_contain_text("day 1 after IVIG")
    expect(row).to_contain_text("Arrange an assessment within 4 hours")
    nurse.screenshot("staff-worklist-checkin", full_page=False)


def test_clinician_reads_the_chair_check(open_page, clinician_carol):
    patient = vignettes.v01(clinician_carol, timezone.now(), event=False)
    sweep_inline(full=True)
    infusion = patient.infusions.filter(status="administered").order_by("started_at").first()
    clinician = open_page("clinician-chair")
    log_in(clinician, "carol")
    page = clinician.page
    page.goto(f"/staff/patients/{patient.public_id}/infusions/{infusion.public_id}/edit/")
    box = page.locator("#chair-check")
    expect(box).to_contain_text("Maximum rate: 3.3 mg/kg/min = 190.1 mL/h")
    expect(box).to_contain_text("Risk at this infusion")
    box.scroll_into_view_if_needed()
    clinician.screenshot("staff-chair-check")
