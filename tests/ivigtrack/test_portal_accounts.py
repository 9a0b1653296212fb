"""Portal accounts without a superuser: invitations from the patient page (one-time, 72 h),
password reset by e-mail for everyone, and "who looked at my record"."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from patients import services as patient_services
from tests import factories

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-long-new-passphrase-42"


@pytest.fixture
def patient_rae(clinician_carol):
    """A patient with no portal login yet."""
    return patient_services.patient_create(
        actor=clinician_carol,
        mrn="MRN-RAE",
        given_name="Rae",
        family_name="Lin",
        date_of_birth=date(1975, 2, 3),
        sex="female",
        height_cm=170,
        diagnosis="cidp",
        weight_kg=65,
    )


_capture = None


@pytest.fixture(autouse=True)
def _mail_on_commit(django_capture_on_commit_callbacks):
    """The e-mail leaves once the transaction commits: run those callbacks after each invite."""
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield
    _capture = None


def invite(client, patient, email="rae@example.org"):
    with _capture(execute=True):
        return client.post(f"/staff/patients/{patient.public_id}/invite/", {"email": email})


def link_in(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invite/\S+/)", message.body).group(1)


def accept(link: str, password: str = NEW_PASSWORD) -> Client:
    client = Client()
    step = client.get(link)
    assert step.status_code == 302, step.content  # Django moves the token out of the URL
    form = client.get(step["Location"])
    assert form.status_code == 200 and "Choose your password" in form.content.decode()
    done = client.post(step["Location"], {"new_password1": password, "new_password2": password})
    assert done.status_code == 302, done.content.decode()[:2000]
    return client


def test_staff_invite_a_patient_who_sets_a_password_and_is_signed_in(nina_client, nurse_nina, patient_rae):
    page = nina_client.get(f"/staff/patients/{patient_rae.public_id}/")
    assert "Invite to the portal" in page.content.decode()
    response = invite(nina_client, patient_rae)
    assert response.status_code == 302
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["rae@example.org"]
    assert "72 hours" in mail.outbox[0].body
    patient_rae.refresh_from_db()
    assert patient_rae.user.username == "rae@example.org" and not patient_rae.user.has_usable_password()
    client = accept(link_in(mail.outbox[0]))
    assert client.get("/portal/").status_code == 200
    assert Client().login(username="rae@example.org", password=NEW_PASSWORD)
    from ivigtrack.audit.models import AuditEvent

    event = AuditEvent.objects.get(action="patient.invite")
    assert (event.actor, event.patient_id) == (nurse_nina, patient_rae.pk)


def test_the_invitation_link_works_once(carol_client, patient_rae):
    invite(carol_client, patient_rae)
    link = link_in(mail.outbox[0])
    accept(link)
    again = Client().get(link, follow=True)
    assert "expired or was used" in again.content.decode()


def test_the_invitation_link_expires_after_72_hours(carol_client, patient_rae):
    invite(carol_client, patient_rae)
    link = link_in(mail.outbox[0])
    with time_machine.travel(timezone.now() + timedelta(hours=73)):
        page = Client().get(link, follow=True)
    assert "expired or was used" in page.content.decode()
    with time_machine.travel(timezone.now() + timedelta(hours=71)):
        accept(link)


def test_a_weak_password_is_a_form_error(carol_client, patient_rae):
    invite(carol_client, patient_rae)
    client = Client()
    step = client.get(link_in(mail.outbox[0]))
    response = client.post(step["Location"], {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200 and "too short" in response.content.decode()


def test_no_invitation_for_a_patient_who_has_a_login_or_an_email_taken(carol_client, patient_pat, patient_rae):
    response = invite(carol_client, patient_pat)
    assert response.status_code == 200 and "already has a portal login" in response.content.decode()
    response = invite(carol_client, patient_rae, email="pat")  # not an e-mail
    assert response.status_code == 200
    response = invite(carol_client, patient_rae, email="Carol@clinic.test")  # carol's own address
    assert response.status_code == 200 and "already belongs to another login" in response.content.decode()
    factories_user = patient_rae.__class__.objects.get(pk=patient_rae.pk).user
    assert factories_user is None and mail.outbox == []


def test_patients_cannot_invite(pat_client, patient_rae):
    assert invite(pat_client, patient_rae).status_code in (403, 404)
    assert mail.outbox == []


# --- password reset


def test_anyone_can_reset_a_forgotten_password_by_email(clinician_carol):
    client = Client()
    assert "Forgot your password?" in client.get("/accounts/login/").content.decode()
    response = client.post("/accounts/password-reset/", {"email": "carol@clinic.test"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    step = client.get(link)
    assert step.status_code == 302
    done = client.post(step["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert Client().login(username="carol", password=NEW_PASSWORD)
    assert Client().get(link, follow=True).content.decode().count("expired or was used") == 1


def test_a_reset_revokes_the_users_api_tokens(clinician_carol):
    api = factories.token_client(clinician_carol)
    assert api.get("/api/v1/patients/").status_code == 200
    client = Client()
    client.post("/accounts/password-reset/", {"email": "carol@clinic.test"})
    link = re.search(r"https?://[^/\s]+(/accounts/password-reset/\S+/)", mail.outbox[0].body).group(1)
    step = client.get(link)
    client.post(step["Location"], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})
    assert api.get("/api/v1/patients/").status_code == 401


def test_an_unknown_address_says_the_same_and_sends_nothing(db):
    response = Client().post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302 and mail.outbox == []


# --- who looked at my record


def test_the_patient_sees_staff_reads_by_role_not_name(
    carol_client, nina_client, pat_client, pat_api, patient_pat, patient_quinn, settings
):
    settings.IVIGTRACK_SHOW_READER_NAMES = False
    carol_client.get(f"/staff/patients/{patient_pat.public_id}/")
    nina_client.get("/staff/patients/?q=MRN-PAT")
    carol_client.get(f"/staff/patients/{patient_quinn.public_id}/")  # someone else's record
    pat_client.get("/portal/")  # their own reads are not listed
    page = pat_client.get("/portal/access-log/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Opened your record" in html and "Searched patients and found you" in html
    assert "Carol" not in html and "Nina" not in html
    body = pat_api.get("/api/v1/me/access-log/").json()
    assert body["count"] == 2
    assert [row["role"] for row in body["results"]] == ["nurse", "clinician"]
    assert all("name" not in row and "at" in row and "site" in row for row in body["results"])
    quinn = factories.token_client(patient_quinn.user).get("/api/v1/me/access-log/").json()
    assert quinn["count"] == 1  # quinn's own record, read once


def test_reader_names_only_when_the_clinic_says_so(carol_client, pat_api, patient_pat, settings):
    settings.IVIGTRACK_SHOW_READER_NAMES = True
    carol_client.get(f"/staff/patients/{patient_pat.public_id}/")
    rows = pat_api.get("/api/v1/me/access-log/").json()["results"]
    assert rows[0]["name"] == "Carol"


def test_staff_and_anonymous_have_no_access_log(carol_api, anon):
    assert carol_api.get("/api/v1/me/access-log/").status_code == 403
    assert anon.get("/api/v1/me/access-log/").status_code == 401
    assert APIClient().get("/api/v1/me/access-log/").status_code == 401
