"""The worklist in Chromium: keyboard focus survives the 30-second refresh, the refresh waits
while boxes are ticked, and "Acknowledge selected" acknowledges the ticked flags."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from risk.models import ReviewFlag
from tests.factories import make_flag

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _refresh(page) -> None:
    """What the 30-second timer does (hx-trigger="every 30s, refresh"), now, and wait for the swap."""
    page.evaluate(
        """() => new Promise(resolve => {
            document.body.addEventListener("htmx:afterSettle", () => resolve(), {once: true});
            htmx.trigger(document.getElementById("worklist"), "refresh");
        })"""
    )


def test_focus_is_kept_across_a_refresh(open_page, clinician_carol, patient_pat, patient_quinn):
    flags = [
        make_flag(patient_pat),
        make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT", priority="urgent"),
    ]
    watched = open_page("carol")
    log_in(watched, "carol")
    page = watched.page
    button = page.locator(f"#ack-{flags[0].public_id}")
    button.focus()
    before = page.locator("#worklist .summary").inner_text()
    page.wait_for_timeout(1100)  # the list's "updated HH:MM:SS" moves on by a second
    _refresh(page)
    assert page.locator("#worklist .summary").inner_text() != before  # the list really was swapped
    assert page.evaluate("document.activeElement && document.activeElement.id") == f"ack-{flags[0].public_id}"


def test_ticked_boxes_pause_the_refresh_and_bulk_acknowledge(open_page, nurse_nina, patient_pat, patient_quinn):
    flags = [
        make_flag(patient_pat),
        make_flag(patient_quinn, kind="symptom_alert", rule="SYM-URGENT", priority="urgent"),
    ]
    watched = open_page("nina")
    log_in(watched, "nina")
    page = watched.page
    for flag in flags:
        page.locator(f"#select-{flag.public_id}").check()
    requests = []
    page.on("request", lambda request: requests.append(request.url) if "/staff/?" in request.url else None)
    page.evaluate('htmx.trigger(document.getElementById("worklist"), "refresh")')
    page.wait_for_timeout(500)
    assert requests == []  # skipped: a swap would have unticked the boxes
    assert all(page.locator(f"#select-{flag.public_id}").is_checked() for flag in flags)
    page.get_by_label("Note for the ticked flags").fill("both seen")
    page.get_by_role("button", name="Acknowledge selected").click()
    expect(page.locator(".messages")).to_contain_text("Acknowledged 2 flags.")
    assert set(ReviewFlag.objects.values_list("status", flat=True)) == {"acknowledged"}
    watched.screenshot("worklist-bulk-acknowledged", full_page=False)
