"""Small page promises the accessibility review asked for: a favicon, one h1 where a page had
none, and a staff symptom form that speaks to staff, not to the patient."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_favicon_ico_leads_to_the_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("favicon.svg")


def test_staff_symptom_form_is_worded_for_staff(client, nurse_nina, patient_pat):
    client.force_login(nurse_nina)
    page = client.get(f"/staff/patients/{patient_pat.public_id}/symptoms/new/").content.decode()
    assert "Emergency: the patient needs emergency care now" in page
    assert "Call emergency services now if you have" not in page


def test_portal_symptom_form_still_speaks_to_the_patient(client, patient_pat):
    client.force_login(patient_pat.user)
    page = client.get("/portal/symptoms/new/").content.decode()
    assert "Call emergency services now if you have any of these" in page


@pytest.mark.parametrize("url_name", ["patient_detail", "flag_page"])
def test_pages_have_one_h1(client, clinician_carol, patient_pat, url_name):
    from tests.factories import make_flag

    client.force_login(clinician_carol)
    if url_name == "patient_detail":
        url = f"/staff/patients/{patient_pat.public_id}/"
    else:
        url = f"/staff/flags/{make_flag(patient_pat).public_id}/snooze/"
    page = client.get(url).content.decode()
    assert page.count("<h1") == 1
