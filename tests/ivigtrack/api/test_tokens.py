"""Expiring, revocable API tokens: expiry, logout, password change and deactivation end them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from knox.models import AuthToken
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
LOGOUT_URL = "/api/v1/auth/logout/"
PASSWORD = "correct-horse-battery"


def login(username: str) -> tuple[APIClient, dict]:
    response = APIClient().post(TOKEN_URL, {"username": username, "password": PASSWORD}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    return client, body


def test_token_says_when_it_expires_12_hours_by_default(clinician_carol):
    before = timezone.now()
    _, body = login("carol")
    expires = parse_datetime(body["expires_at"])
    assert before + timedelta(hours=12) <= expires <= timezone.now() + timedelta(hours=12)
    # only a digest is stored, never the token itself
    stored = AuthToken.objects.get(user=clinician_carol)
    assert body["token"] not in (stored.digest, stored.token_key)


def test_token_lifetime_is_a_setting(clinician_carol, settings):
    settings.IVIGTRACK_TOKEN_HOURS = 2
    before = timezone.now()
    _, body = login("carol")
    assert parse_datetime(body["expires_at"]) <= before + timedelta(hours=2, seconds=5)


def test_an_expired_token_is_401(clinician_carol):
    client, body = login("carol")
    assert client.get("/api/v1/patients/").status_code == 200
    with time_machine.travel(parse_datetime(body["expires_at"]) + timedelta(seconds=1)):
        response = client.get("/api/v1/patients/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"
    assert not AuthToken.objects.filter(user=clinician_carol).exists()  # expired tokens are deleted


def test_just_before_expiry_the_token_still_works(clinician_carol):
    client, body = login("carol")
    with time_machine.travel(parse_datetime(body["expires_at"]) - timedelta(minutes=1)):
        assert client.get("/api/v1/patients/").status_code == 200


def test_logout_revokes_the_token_used_and_only_that_one(clinician_carol):
    client, _ = login("carol")
    other, _ = login("carol")
    assert client.post(LOGOUT_URL).status_code == 204
    assert client.get("/api/v1/patients/").status_code == 401
    assert client.post(LOGOUT_URL).status_code == 401
    assert other.get("/api/v1/patients/").status_code == 200


def test_logout_needs_a_login(anon):
    assert anon.post(LOGOUT_URL).status_code == 401


def test_logout_with_the_browser_session_ends_the_session(clinician_carol):
    client = APIClient()
    client.force_login(clinician_carol)
    assert client.post(LOGOUT_URL).status_code == 204
    assert client.get("/api/v1/patients/").status_code in (401, 403)


def test_password_change_revokes_every_token(clinician_carol, patient_pat):
    first, _ = login("carol")
    second, _ = login("carol")
    pat_client, _ = login("pat")
    clinician_carol.set_password("a-new-long-passphrase")
    clinician_carol.save()
    assert first.get("/api/v1/patients/").status_code == 401
    assert second.get("/api/v1/patients/").status_code == 401
    assert pat_client.get("/api/v1/patients/").status_code == 200  # someone else's token lives


def test_password_change_ends_other_sessions(clinician_carol, carol_client):
    assert carol_client.get("/staff/").status_code == 200
    clinician_carol.set_password("a-new-long-passphrase")
    clinician_carol.save()
    response = carol_client.get("/staff/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_deactivation_revokes_tokens_and_sessions(clinician_carol, carol_client):
    client, _ = login("carol")
    clinician_carol.is_active = False
    clinician_carol.save(update_fields=["is_active"])
    assert client.get("/api/v1/patients/").status_code == 401
    assert not AuthToken.objects.filter(user=clinician_carol).exists()
    response = carol_client.get("/staff/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_saving_other_fields_keeps_tokens(clinician_carol):
    client, _ = login("carol")
    clinician_carol.first_name = "Caroline"
    clinician_carol.save()
    assert client.get("/api/v1/patients/").status_code == 200


def test_an_inactive_user_gets_no_token(clinician_carol):
    clinician_carol.is_active = False
    clinician_carol.save()
    response = APIClient().post(TOKEN_URL, {"username": "carol", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert "token" not in response.json()


def test_a_token_header_that_is_not_utf8_is_401(clinician_carol, anon):
    anon.credentials(HTTP_AUTHORIZATION="Token \xe9\xe9")
    assert anon.get("/api/v1/patients/").status_code == 401


def test_one_query_to_authenticate(clinician_carol, django_assert_num_queries):
    from ivigtrack.api.tokens import ExpiringTokenAuthentication

    _, token = AuthToken.objects.create(user=clinician_carol)
    with django_assert_num_queries(1):
        user, _ = ExpiringTokenAuthentication().authenticate_credentials(token.encode())
    assert user == clinician_carol
