"""Two-factor sign-in for staff (TOTP + recovery codes), codes made with pyotp as a phone would."""

from __future__ import annotations

import base64
import re
from datetime import timedelta

import pyotp
import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"
PATIENT_PAGES = ["/staff/", "/staff/patients/"]


@pytest.fixture
def required(settings):
    settings.IVIGTRACK_STAFF_MFA = "required"


def sign_in(username: str) -> Client:
    client = Client()
    response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def totp(device: TOTPDevice) -> pyotp.TOTP:
    return pyotp.TOTP(base64.b32encode(device.bin_key).decode())


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    recovery = StaticDevice.objects.create(user=user, name="Recovery codes", confirmed=True)
    codes = ["rcv1code", "rcv2code"]
    for code in codes:
        StaticToken.objects.create(device=recovery, token=code)
    return device, codes


def test_required_staff_without_a_factor_is_sent_to_set_one_up_before_any_patient_page(
    required, clinician_carol, patient_pat
):
    client = sign_in("carol")
    for page in [*PATIENT_PAGES, f"/staff/patients/{patient_pat.public_id}/", "/admin/"]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith("/accounts/2fa/setup/"), page
    # a session API call is refused too
    api = client.get("/api/v1/patients/")
    assert api.status_code == 403 and api.json()["code"] == "second_factor_required"


def test_setting_up_totp_with_a_pyotp_code_opens_the_pages_and_shows_recovery_codes(required, clinician_carol):
    client = sign_in("carol")
    page = client.get("/accounts/2fa/setup/?next=/staff/patients/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml' in html  # the QR code, no third-party service
    secret = re.search(r'<code class="otp-secret">([A-Z2-7 ]+)</code>', html).group(1).replace(" ", "")
    wrong = client.post("/accounts/2fa/setup/", {"code": "000000", "next": "/staff/patients/"})
    assert "did not match" in wrong.content.decode()
    assert client.get("/staff/patients/").status_code == 302
    # django-otp slows retries after a wrong code (1 s, then 2 s, ...): the user tries again later
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        done = client.post("/accounts/2fa/setup/", {"code": pyotp.TOTP(secret).now(), "next": "/staff/patients/"})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>(\w+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=clinician_carol).confirmed
    assert client.get("/staff/patients/").status_code == 200


def test_a_password_alone_cannot_replace_an_existing_authenticator(clinician_carol):
    enrol(clinician_carol)
    client = sign_in("carol")
    response = client.get("/accounts/2fa/setup/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/verify/")
    assert TOTPDevice.objects.filter(user=clinician_carol).count() == 1


def test_enrolled_staff_enter_a_totp_code_after_the_password(clinician_carol):
    """Even where two-factor is optional (the demo), an enrolled clinician must use it."""
    device, _ = enrol(clinician_carol)
    client = sign_in("carol")
    response = client.get("/staff/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/2fa/verify/")
    assert "did not match" in client.post("/accounts/2fa/verify/", {"code": "123456"}).content.decode()
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        response = client.post("/accounts/2fa/verify/", {"code": totp(device).now(), "next": "/staff/"})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    assert client.get("/staff/").status_code == 200


def test_an_old_code_does_not_work(clinician_carol):
    device, _ = enrol(clinician_carol)
    client = sign_in("carol")
    old = totp(device).at(timezone.now().timestamp() - 300)
    assert "did not match" in client.post("/accounts/2fa/verify/", {"code": old}).content.decode()


def test_a_recovery_code_works_once(clinician_carol):
    enrol(clinician_carol)
    first = sign_in("carol")
    response = first.post("/accounts/2fa/verify/", {"code": "rcv1code", "next": "/staff/"})
    assert response.status_code == 302
    assert first.get("/staff/").status_code == 200
    second = sign_in("carol")
    again = second.post("/accounts/2fa/verify/", {"code": "rcv1code", "next": "/staff/"})
    assert again.status_code == 200 and "did not match" in again.content.decode()
    assert second.get("/staff/").status_code == 302
    assert StaticToken.objects.filter(device__user=clinician_carol).count() == 1


def test_a_patient_login_needs_no_second_factor(required, patient_pat):
    client = sign_in("pat")
    assert client.get("/portal/").status_code == 200


def test_optional_by_default_in_tests_and_the_demo(settings, clinician_carol):
    assert settings.IVIGTRACK_STAFF_MFA == "optional"
    assert sign_in("carol").get("/staff/").status_code == 200


def test_production_settings_require_it():
    import subprocess
    import sys

    code = "from django.conf import settings; print(settings.IVIGTRACK_STAFF_MFA)"
    env = {
        "DJANGO_SETTINGS_MODULE": "ivigtrack.settings",
        "DJANGO_DEBUG": "False",
        "DJANGO_SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "clinic.example",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"], env=env, capture_output=True, text=True
    )
    assert out.stdout.strip() == "required", out.stderr


# --- the token endpoint asks for the same second factor


def token(username: str, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": PASSWORD, **extra}, format="json")


def test_enrolled_staff_need_a_code_for_a_token(clinician_carol):
    device, _ = enrol(clinician_carol)
    missing = token("carol")
    assert missing.status_code == 400 and "otp" in missing.json()
    assert token("carol", otp="000000").status_code == 400
    with time_machine.travel(timezone.now() + timedelta(seconds=5), tick=False):
        assert token("carol", otp=totp(device).now()).status_code == 200


def test_required_staff_without_a_factor_get_no_token(required, clinician_carol, patient_pat):
    response = token("carol")
    assert response.status_code == 403
    assert "two-factor" in response.json()["detail"].lower()
    assert token("pat").status_code == 200  # patients need none
