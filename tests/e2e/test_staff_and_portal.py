"""End to end in Chromium: a nurse works the worklist and reads a patient's chart; a patient on
a phone logs an infusion and reports chest pain, and the emergency flag reaches the staff."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from risk.models import ReviewFlag
from risk.services.assessment import patient_assess
from tests.records import full_history

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _image_loaded(page, selector: str) -> bool:
    image = page.locator(selector)
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    return image.evaluate("img => img.naturalWidth > 0 && img.naturalHeight > 0")


def test_nurse_acknowledges_a_flag_and_reads_the_chart(open_page, nurse_nina, patient_pat, clinician_carol):
    full_history(patient_pat, clinician_carol)
    patient_assess(patient_pat)
    # IVIG given, no creatinine or IgA on file: the assessment raised PRE-IVIG, and it stays open
    flag = ReviewFlag.objects.get(patient=patient_pat, kind="pre_ivig_labs", status="open")

    nurse = open_page("nurse")
    log_in(nurse, "nina")
    page = nurse.page
    assert page.url.endswith("/staff/")
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    expect(page.locator(".whoami")).to_contain_text("nurse")
    nurse.screenshot("staff-worklist")

    row = page.locator(f"#flag-{flag.public_id}")
    expect(row).to_contain_text("IgA on file although IVIG has already been given")
    row.get_by_role("button", name="Acknowledge").click()
    # the row is swapped in place (htmx): no page load, the outcome in the row
    expect(page.locator(f"#flag-{flag.public_id}")).to_contain_text("Acknowledged by Nina")
    expect(page.locator(f"#flag-{flag.public_id} .row-msg")).to_have_text("Acknowledged.")
    flag.refresh_from_db()
    assert flag.status == "acknowledged" and flag.acknowledged_by == nurse_nina
    nurse.screenshot("staff-worklist-acknowledged", full_page=False)

    page.locator(f"#patient-{patient_pat.public_id}").get_by_role("link", name="Doe, Pat").click()
    expect(page.locator("#risk-h")).to_contain_text("Clot risk")
    assert _image_loaded(page, "#charts img[src$='timeline.svg']")
    assert _image_loaded(page, "#charts img[src$='score.svg']")
    expect(page.locator("#risk .fda-note")).to_contain_text("Clots can occur without any risk factor.")
    nurse.screenshot("staff-patient")

    page.get_by_role("link", name="Patients", exact=True).click()
    expect(page.get_by_role("link", name="Doe, Pat")).to_be_visible()
    nurse.screenshot("staff-patients")
    page.get_by_role("link", name="Sweeps").click()
    expect(page.get_by_role("heading", name="Review sweeps")).to_be_visible()
    nurse.screenshot("staff-sweeps")


def test_clinician_snoozes_and_resolves_in_the_dialog(open_page, clinician_carol, patient_pat, patient_quinn):
    now = timezone.now()
    snooze_me, resolve_me = (
        ReviewFlag.objects.create(
            patient=patient, site_id=patient.site_id, kind="clotting_studies", rule="CLOT-BASELINE", priority="routine",
            priority_rank=2,
            reason=reason, raised_at=now - timedelta(hours=1), due_at=now + timedelta(days=1),
        )
        for patient, reason in ((patient_pat, "Snooze this one."), (patient_quinn, "Resolve this one."))
    )  # fmt: skip

    clinician = open_page("clinician")
    log_in(clinician, "carol")
    page = clinician.page
    dialog = page.locator("#flag-dialog")

    page.locator(f"#flag-{snooze_me.public_id}").get_by_role("link", name="Snooze…").click()
    expect(dialog).to_be_visible()
    expect(dialog.get_by_role("heading", name="Snooze flag")).to_be_visible()
    expect(dialog).to_contain_text("Snooze this one.")
    dialog.get_by_label("Snooze for").select_option("3d")
    # v2 (DESIGN §6a): a reason, and past the due date (tomorrow) only when ticked
    dialog.get_by_label("Reason").fill("Waiting for the GP's letter.")
    dialog.get_by_label("Snooze past the flag's due date: I mean it").check()
    clinician.screenshot("staff-snooze-dialog", full_page=False)
    dialog.get_by_role("button", name="Snooze").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#flag-{snooze_me.public_id} .row-msg")).to_have_text("Snoozed.")
    expect(page.locator(f"#flag-{snooze_me.public_id}")).to_contain_text("Snoozed until")

    row = page.locator(f"#flag-{resolve_me.public_id}")
    row.get_by_role("link", name="Resolve…").click()
    expect(dialog).to_be_visible()
    dialog.get_by_role("link", name="Cancel").click()  # closes the dialog, changes nothing
    expect(dialog).to_be_hidden()
    row.get_by_role("link", name="Resolve…").click()
    dialog.get_by_label("Outcome").select_option("completed")
    dialog.get_by_label("Note").fill("Seen in clinic today.")
    dialog.get_by_role("button", name="Resolve").click()
    expect(dialog).to_be_hidden()
    expect(page.locator(f"#flag-{resolve_me.public_id} .row-msg")).to_have_text("Resolved.")
    expect(page.locator(f"#flag-{resolve_me.public_id} .row-msg")).to_be_focused()

    snooze_me.refresh_from_db()
    resolve_me.refresh_from_db()
    assert snooze_me.status == "snoozed"
    assert (resolve_me.status, resolve_me.resolution, resolve_me.note) == (
        "resolved",
        "completed",
        "Seen in clinic today.",
    )


def test_patient_on_a_phone_logs_an_infusion_and_reports_chest_pain(open_page, patient_pat, nurse_nina):
    phone = open_page("patient", width=375, height=812)
    log_in(phone, "pat")
    page = phone.page
    expect(page.get_by_role("heading", name="Hello, Pat")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # no sideways scrolling
    phone.screenshot("portal-home")

    page.get_by_role("link", name="Log an infusion").click()
    started = (timezone.localtime() - timedelta(hours=3)).strftime("%d/%m/%Y %H:%M")  # typed as the site writes it
    page.get_by_label("When did it start?").fill(started)
    page.get_by_label("Product").select_option(label="Privigen 10%")
    page.get_by_label("How many grams?").fill("30")
    page.get_by_label("Lot number").fill("P-2026-17")
    page.get_by_label("Any reactions?").fill("Slight headache")
    phone.screenshot("portal-log-infusion")
    page.get_by_role("button", name="Save infusion").click()
    expect(page.get_by_role("status")).to_contain_text("Thank you: your infusion of 30 g Privigen 10%")
    assert patient_pat.infusions.get().source == "patient"

    page.get_by_role("link", name="Report symptoms").first.click()
    emergency_box = page.locator("#emergency-now")
    expect(emergency_box).to_be_hidden()
    page.get_by_label("Chest pain or pressure").check()
    # shown at once, before the form is sent (js/symptoms.js)
    expect(emergency_box).to_be_visible()
    expect(emergency_box).to_contain_text("Call emergency services now")
    phone.screenshot("portal-symptoms-ticked", full_page=False)
    page.get_by_role("button", name="Send to the clinic").click()

    advice = page.locator(".emergency")
    expect(advice).to_contain_text("Call emergency services now")
    expect(advice).to_contain_text("Reason: Chest pain or pressure")
    title_box = page.locator(".emergency-title").bounding_box()
    assert title_box["y"] < page.get_by_role("heading", name="What you reported").bounding_box()["y"]
    assert page.evaluate("parseFloat(getComputedStyle(document.querySelector('.emergency-title')).fontSize)") >= 28
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    phone.screenshot("portal-emergency-advice")

    # The clinic sees it at once: a nurse opens the worklist in a second browser context.
    nurse = open_page("nurse")
    log_in(nurse, "nina")
    row = nurse.page.locator(f"#patient-{patient_pat.public_id} tr.flag-row.priority-emergency")
    expect(row).to_be_visible()
    expect(row).to_contain_text("chest pain")
    nurse.screenshot("staff-worklist-emergency", full_page=False)


def test_api_docs_load_under_the_content_security_policy(open_page, clinician_carol):
    """Swagger UI (served offline by drf-spectacular-sidecar) with no CSP violation or console error."""
    reader = open_page("api-docs")
    log_in(reader, "carol")
    page = reader.page
    page.goto("/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ivigtrack")
    expect(page.locator(".opblock-tag-section").first).to_be_visible()
    reader.screenshot("api-docs", full_page=False)
