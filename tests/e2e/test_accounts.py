"""End to end in Chromium: a clinician sets up and then uses two-factor sign-in (TOTP codes made
with pyotp, as a phone would); a patient accepts an e-mailed invitation, chooses a password and
reads "who looked at my record"."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from django.core import mail
from django.test import Client
from playwright.sync_api import expect

from patients.invitations import patient_invite

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_clinician_signs_in_with_totp(open_page, clinician_carol, settings):
    settings.IVIGTRACK_STAFF_MFA = "required"
    first = open_page("clinician-mfa-setup")
    log_in(first, "carol")
    page = first.page
    expect(page.get_by_role("heading", name="Set up two-factor sign-in")).to_be_visible()
    assert page.locator("img[alt^='QR code']").evaluate("img => img.naturalWidth > 0")
    secret = page.locator(".otp-secret").inner_text().replace(" ", "")
    first.screenshot("mfa-setup")
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_role("heading", name="Two-factor sign-in is on")).to_be_visible()
    assert page.locator(".recovery-codes li").count() == 10
    page.get_by_role("link", name="Continue").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()

    # another day, another browser: password, then the code
    second = open_page("clinician-mfa-verify")
    log_in(second, "carol")
    page = second.page
    expect(page.get_by_role("heading", name="Enter your code")).to_be_visible()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).at(time.time() + 30))  # the next code: each works once
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Worklist")).to_be_visible()
    assert page.url.endswith("/staff/")


def test_a_patient_accepts_an_invitation_and_sees_who_looked(open_page, live_server, clinician_carol, patient_pat):
    from patients.models import Patient

    patient = Patient.objects.get(pk=patient_pat.pk)
    patient.user = None
    patient.save(update_fields=["user"])
    patient_invite(actor=clinician_carol, patient=patient, email="pat.doe@example.org", base_url=live_server.url)
    assert len(mail.outbox) == 1
    link = re.search(r"(https?://\S+/accounts/invite/\S+/)", mail.outbox[0].body).group(1)
    staff = Client()
    staff.force_login(clinician_carol)
    assert staff.get(f"/staff/patients/{patient.public_id}/").status_code == 200  # a staff read

    phone = open_page("patient-invited", width=390, height=844)
    page = phone.page
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("Password", exact=True).fill("my-own-long-passphrase")
    page.get_by_label("Password again").fill("my-own-long-passphrase")
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_load_state("networkidle")
    assert "/portal/" in page.url
    page.get_by_role("link", name="Who looked").click()
    expect(page.get_by_role("heading", name="Who looked at my record")).to_be_visible()
    row = page.locator("table.access-log tbody tr").first
    expect(row).to_contain_text("Clinician")
    expect(row).to_contain_text("Opened your record")
    expect(page.locator("table.access-log")).not_to_contain_text("Carol")
    phone.screenshot("portal-access-log")
