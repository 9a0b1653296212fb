"""End to end in Chromium: the alert governance page reads on a phone and a tablet (the table
stacks, nothing scrolls sideways), its chart loads under the CSP, and a bad period is a form
error."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import make_flag

from .conftest import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [375, 768, 1280])
def test_alerts_page_at_every_width(width, open_page, nurse_nina, patient_pat):
    now = timezone.now()
    make_flag(patient_pat, raised_at=now - timedelta(days=40), acknowledged_at=now - timedelta(days=40, hours=-3),
              status="resolved", resolution="not_indicated", resolved_at=now - timedelta(days=35))  # fmt: skip
    make_flag(patient_pat, raised_at=now - timedelta(days=20), due_at=now - timedelta(days=1))
    watched = open_page(f"alerts-{width}", width=width, height=900)
    log_in(watched, "nina")
    page = watched.page
    page.goto("/staff/alerts/")
    expect(page.get_by_role("heading", level=1, name="Alert governance")).to_be_visible()
    expect(page.get_by_role("rowheader", name="CLOT-BASELINE")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # no sideways scrolling
    image = page.locator("figure.chart img")
    image.scroll_into_view_if_needed()
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    watched.screenshot(f"alerts-{width}")

    page.get_by_label("From").fill("2026-03-01")
    page.get_by_label("To").fill("2026-02-01")
    page.get_by_role("button", name="Show").click()
    expect(page.locator(".error-summary")).to_contain_text("To: Must be on or after")
