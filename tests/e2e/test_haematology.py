"""End to end in Chromium: a clinician completes a haematology flag from its resolve dialog by
recording the review, then opens the printable summary; the print stylesheet hides the
navigation and the browser's print makes a PDF of at least one page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from risk.models import HaematologyReview
from tests.factories import make_urgent_flag

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_clinician_records_a_review_from_the_flag_dialog_and_prints_the_summary(
    open_page, clinician_carol, patient_pat
):
    flag = make_urgent_flag(patient_pat, reason="Confirmed pulmonary embolism and no haematology review since.")
    clinician = open_page("haematology")
    log_in(clinician, "carol")
    page = clinician.page
    dialog = page.locator("#flag-dialog")
    row = page.locator(f"#flag-{flag.public_id}")
    row.get_by_role("link", name="Resolve…").click()
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("falsely positive")  # the thrombophilia caveat, shown where the review is asked
    dialog.get_by_label("Outcome").select_option("completed")
    dialog.get_by_label("Reviewer").fill("Dr H. Ematology")
    dialog.get_by_label("Anticoagulation plan").select_option("treatment_3_months")
    dialog.get_by_label("IVIG plan").select_option("slow_rate")
    dialog.get_by_label("Thrombophilia testing").select_option("deferred_after_ivig")
    dialog.get_by_label("What the haematologist advised").fill("Apixaban 3 months; slower rate.")
    clinician.screenshot("haematology-resolve-dialog", full_page=False)
    dialog.get_by_role("button", name="Resolve").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#flag-{flag.public_id} .row-msg")).to_have_text("Resolved.")
    review = HaematologyReview.objects.get(patient=patient_pat)
    assert review.flag_id == flag.pk and review.reviewer_name == "Dr H. Ematology"

    page.goto(f"/staff/patients/{patient_pat.public_id}/summary/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Haematology summary")
    expect(page.locator("#s-reviews")).to_contain_text("Dr H. Ematology")
    nav = page.get_by_role("navigation", name="Main")
    expect(nav).to_be_visible()
    page.emulate_media(media="print")
    expect(nav).to_be_hidden()
    expect(page.locator("#print-summary")).to_be_hidden()
    expect(page.locator("#s-reviews")).to_be_visible()
    clinician.screenshot("haematology-summary-print")
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 1
