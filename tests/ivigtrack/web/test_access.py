"""Who may open which page: anonymous users go to the login page, patients never reach a
staff page (403), staff get 404 for ids they cannot see, and a patient never sees another
patient's data in the portal."""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from tests.records import full_history

pytestmark = pytest.mark.django_db

PATIENT_PAGES = [
    ("patient_detail", None),
    ("patient_edit", None),
    ("weight_add", None),
    ("condition_add", None),
    ("condition_edit", "condition"),
    ("access_add", None),
    ("access_edit", "access"),
    ("event_add", None),
    ("event_edit", "event"),
    ("lab_add", None),
    ("symptom_add", None),
    ("infusion_add", None),
    ("infusion_edit", "infusion"),
    ("medication_add", None),
    ("medication_edit", "medication"),
    ("regimen_add", None),
    ("regimen_edit", "regimen"),
]
CLINICIAN_ONLY = {"regimen_add", "regimen_edit"}
STAFF_PAGES = ["worklist", "patient_list", "patient_create", "sweep_status", "alerts", "alerts_csv", "alerts_chart"]
PORTAL_PAGES = ["home", "infusion_log", "symptom_report", "history"]


@pytest.fixture
def world(patient_pat, patient_quinn, clinician_carol):
    return {"pat": full_history(patient_pat, clinician_carol), "quinn": full_history(patient_quinn, clinician_carol)}


def staff_urls(patient, records) -> list[tuple[str, str]]:
    urls = [(name, reverse(f"staff:{name}")) for name in STAFF_PAGES]
    for name, record in PATIENT_PAGES:
        kwargs = {"patient_id": patient.public_id}
        if record:
            kwargs["record_id"] = records[record].public_id
        urls.append((name, reverse(f"staff:{name}", kwargs=kwargs)))
    for kind in ("timeline", "score"):
        urls.append(("patient_chart", reverse("staff:patient_chart", args=[patient.public_id, kind])))
    return urls


def test_anonymous_is_sent_to_login_from_every_page(client, world, patient_pat):
    urls = staff_urls(patient_pat, world["pat"]) + [(n, reverse(f"portal:{n}")) for n in PORTAL_PAGES]
    for name, url in urls:
        response = client.get(url)
        assert response.status_code == 302, name
        assert response["Location"].startswith(reverse("login")), name


def test_patients_never_reach_staff_pages(pat_client, world, patient_pat):
    for name, url in staff_urls(patient_pat, world["pat"]):
        response = pat_client.get(url)
        assert response.status_code == 403, name
        assert b"You do not have access to this page" in response.content, name


def test_patients_cannot_post_staff_actions(pat_client, world, patient_pat, make_flag):
    flag = make_flag(patient_pat)
    posts = [
        reverse("staff:flag_acknowledge", args=[flag.public_id]),
        reverse("staff:flag_snooze", args=[flag.public_id]),
        reverse("staff:flag_resolve", args=[flag.public_id]),
        reverse("staff:patient_reassess", args=[patient_pat.public_id]),
        reverse("staff:lab_verify", args=[patient_pat.public_id, world["pat"]["lab"].public_id]),
        reverse("staff:sweep_run"),
    ]
    for url in posts:
        assert pat_client.post(url, {"resolution": "completed", "duration": "1d"}).status_code == 403, url
    flag.refresh_from_db()
    assert flag.status == "open"


def test_nurse_opens_every_staff_page_except_regimen_forms(nina_client, world, patient_pat):
    for name, url in staff_urls(patient_pat, world["pat"]):
        response = nina_client.get(url)
        expected = 403 if name in CLINICIAN_ONLY else 200
        assert response.status_code == expected, name


def test_clinician_opens_regimen_forms(carol_client, world, patient_pat):
    for name, url in staff_urls(patient_pat, world["pat"]):
        if name in CLINICIAN_ONLY:
            assert carol_client.get(url).status_code == 200, name


def test_unknown_patient_id_is_404(nina_client, world):
    missing = uuid.uuid4()
    for name, _record in PATIENT_PAGES:
        if name in CLINICIAN_ONLY or _record:
            continue
        response = nina_client.get(reverse(f"staff:{name}", kwargs={"patient_id": missing}))
        assert response.status_code == 404, name
        assert b"We could not find that page or record" in response.content


def test_record_of_another_patient_is_404(carol_client, world, patient_pat):
    # pat's URL with quinn's record id: the record is looked up among pat's records only.
    for name, record in PATIENT_PAGES:
        if not record:
            continue
        url = reverse(
            f"staff:{name}", kwargs={"patient_id": patient_pat.public_id, "record_id": world["quinn"][record].public_id}
        )
        assert carol_client.get(url).status_code == 404, name


def test_unknown_chart_kind_is_404(nina_client, patient_pat):
    assert nina_client.get(reverse("staff:patient_chart", args=[patient_pat.public_id, "nope"])).status_code == 404


def test_staff_do_not_use_the_portal(nina_client, world):
    for name in PORTAL_PAGES:
        assert nina_client.get(reverse(f"portal:{name}")).status_code == 403, name


def test_patient_sees_only_their_own_portal(quinn_client, world, patient_pat):
    # pat's symptom report is not reachable by quinn, even with its id.
    url = reverse("portal:symptom_result", args=[world["pat"]["report"].public_id])
    assert quinn_client.get(url).status_code == 404
    for name in PORTAL_PAGES:
        response = quinn_client.get(reverse(f"portal:{name}"))
        assert response.status_code == 200, name
        assert b"Doe" not in response.content and patient_pat.mrn.encode() not in response.content, name


def test_patient_without_a_record_gets_a_clear_page(make_user):
    client_user = make_user("newbie", "patient")
    from django.test import Client

    client = Client()
    client.force_login(client_user)
    response = client.get(reverse("portal:home"))
    assert response.status_code == 404
    assert b"not linked to a record" in response.content


def test_home_sends_each_role_to_its_start_page(nina_client, pat_client):
    assert nina_client.get("/")["Location"] == reverse("staff:worklist")
    assert pat_client.get("/")["Location"] == reverse("portal:home")
