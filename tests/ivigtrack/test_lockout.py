"""Fair lockout: the (username, address) pair after 5 failures, the account after 20 in an hour,
the same message on the login page and the token endpoint, X-Forwarded-For only behind trusted
proxies (for the lockout and the API throttles alike)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
GOOD = "correct-horse-battery"
BAD = "wrong-horse-battery"
LOCKED = re.compile(r"locked after too many failed attempts; try again at (\d\d:\d\d)")


@pytest.fixture(autouse=True)
def _axes_on(settings):
    settings.AXES_ENABLED = True
    settings.IVIGTRACK_TRUSTED_PROXIES = 0


def token(username, password, address="10.0.0.1", **headers):
    return APIClient().post(
        TOKEN_URL, {"username": username, "password": password}, format="json", REMOTE_ADDR=address, **headers
    )


def page_login(username, password, address="10.0.0.1", **headers):
    return Client().post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def fail(username, times, address="10.0.0.1", **headers):
    for _ in range(times):
        response = token(username, BAD, address, **headers)
        assert response.status_code in (400, 429)


def test_five_failures_lock_the_pair_with_a_time_to_try_again(clinician_carol):
    fail("carol", 4)
    assert token("carol", GOOD).status_code == 200  # 4 failures: not locked, and a success resets
    fail("carol", 5)
    response = token("carol", GOOD)
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "locked"
    match = LOCKED.search(body["detail"])
    assert match
    expected = timezone.localtime(timezone.now() + timedelta(minutes=15))
    assert match.group(1) in {f"{expected:%H:%M}", f"{expected - timedelta(minutes=1):%H:%M}"}
    assert 14 * 60 <= int(response["Retry-After"]) <= 15 * 60
    assert "token" not in body


def test_the_login_page_says_the_same(clinician_carol):
    fail("carol", 5)
    api_message = LOCKED.search(token("carol", GOOD).json()["detail"]).group(0)
    page = page_login("carol", GOOD)
    assert page.status_code == 429
    assert api_message in page.content.decode()
    assert "_auth_user_id" not in page.client.session


def test_failures_on_the_page_count_for_the_token_endpoint_too(clinician_carol):
    for _ in range(5):
        assert page_login("carol", BAD).status_code in (200, 429)
    assert token("carol", GOOD).status_code == 429


def test_another_user_at_the_same_address_is_not_locked(clinician_carol, nurse_nina):
    fail("carol", 5)
    assert token("carol", GOOD).status_code == 429
    assert token("nina", GOOD).status_code == 200
    assert page_login("nina", GOOD).status_code == 302


def test_the_same_user_at_another_address_is_not_locked_below_20(clinician_carol):
    fail("carol", 5, "10.0.0.1")
    assert token("carol", GOOD, "10.0.0.2").status_code == 200


def test_twenty_failures_in_an_hour_lock_the_account_everywhere(clinician_carol, nurse_nina):
    for n in range(4):
        fail("carol", 5, f"10.0.1.{n}")
    response = token("carol", GOOD, "192.0.2.99")
    assert response.status_code == 429
    assert LOCKED.search(response.json()["detail"])
    assert page_login("carol", GOOD, "192.0.2.98").status_code == 429
    assert token("nina", GOOD, "10.0.1.0").status_code == 200  # only carol's account


def test_the_account_lock_ends_an_hour_after_the_failures(clinician_carol):
    for n in range(4):
        fail("carol", 5, f"10.0.1.{n}")
    assert token("carol", GOOD, "192.0.2.99").status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=61)):
        assert token("carol", GOOD, "192.0.2.99").status_code == 200


def test_failures_spread_over_more_than_an_hour_do_not_lock_the_account(clinician_carol):
    start = timezone.now()
    for n in range(4):
        with time_machine.travel(start + timedelta(minutes=20 * n)):
            fail("carol", 5, f"10.0.1.{n}")
    with time_machine.travel(start + timedelta(minutes=61)):
        assert token("carol", GOOD, "192.0.2.99").status_code == 200


def test_the_pair_lock_ends_after_15_minutes_and_failures_during_it_do_not_extend_it(clinician_carol):
    fail("carol", 5)
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        assert token("carol", BAD).status_code == 429
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        assert token("carol", GOOD).status_code == 200


def test_a_spoofed_forwarded_for_changes_nothing_without_a_trusted_proxy(clinician_carol):
    for n in range(5):
        token("carol", BAD, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}")
    assert token("carol", GOOD, "10.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.200").status_code == 429


def test_behind_one_trusted_proxy_the_forwarded_client_is_the_address(clinician_carol, settings):
    settings.IVIGTRACK_TRUSTED_PROXIES = 1
    # the proxy (10.0.0.1) appends the real client; anything before it the client wrote itself
    fail("carol", 5, "10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert token("carol", GOOD, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429
    assert token("carol", GOOD, "10.0.0.1", HTTP_X_FORWARDED_FOR="198.51.100.7, 198.51.100.8").status_code == 200


def test_client_ip_rule():
    from django.test import RequestFactory, override_settings

    from ivigtrack.accounts.lockout import client_ip

    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.1.1.1, 2.2.2.2, 3.3.3.3")
    with override_settings(IVIGTRACK_TRUSTED_PROXIES=0):
        assert client_ip(request) == "10.0.0.1"
    with override_settings(IVIGTRACK_TRUSTED_PROXIES=1):
        assert client_ip(request) == "3.3.3.3"
    with override_settings(IVIGTRACK_TRUSTED_PROXIES=2):
        assert client_ip(request) == "2.2.2.2"
    with override_settings(IVIGTRACK_TRUSTED_PROXIES=9):
        assert client_ip(request) == "1.1.1.1"


def test_rotating_forwarded_for_does_not_bypass_the_api_throttle(clinician_carol, monkeypatch, settings):
    from django.core.cache import cache

    settings.AXES_ENABLED = False
    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "2/min", "anon": "1000/min"})
    codes = [token("carol", BAD, "10.0.0.1", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code for n in range(3)]
    assert codes == [400, 400, 429]
    cache.clear()
