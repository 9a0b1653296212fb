"""Authentication: tokens, sessions, 401 for anonymous callers, the schema and the docs."""

from __future__ import annotations

import pytest
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

pytestmark = pytest.mark.django_db

LISTS = [
    "patients",
    "conditions",
    "vascular-access",
    "thrombosis-events",
    "labs",
    "symptom-reports",
    "products",
    "regimens",
    "infusions",
    "medications",
    "assessments",
    "flags",
]
TOKEN_URL = "/api/v1/auth/token/"


def test_token_for_good_credentials_opens_the_api(clinician_carol, anon):
    response = anon.post(TOKEN_URL, {"username": "carol", "password": "correct-horse-battery"}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert response.json()["expires_at"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/patients/").status_code == 200
    # another login, another token (one per device); both work
    again = anon.post(TOKEN_URL, {"username": "carol", "password": "correct-horse-battery"}, format="json")
    assert again.json()["token"] != token
    second = APIClient()
    second.credentials(HTTP_AUTHORIZATION=f"Token {again.json()['token']}")
    assert second.get("/api/v1/patients/").status_code == 200
    assert client.get("/api/v1/patients/").status_code == 200


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"username": "carol", "password": "wrong-horse-battery"}, "non_field_errors"),
        ({"username": "nobody", "password": "correct-horse-battery"}, "non_field_errors"),
        ({"username": "carol"}, "password"),
        ({"password": "correct-horse-battery"}, "username"),
    ],
)
def test_token_refused_for_bad_credentials(clinician_carol, anon, payload, field):
    response = anon.post(TOKEN_URL, payload, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert "token" not in response.json()


def test_token_endpoint_is_post_only(anon):
    assert anon.get(TOKEN_URL).status_code == 405


def test_token_endpoint_is_throttled(clinician_carol, anon, monkeypatch):
    from django.core.cache import cache

    cache.clear()
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", {"token": "2/min", "anon": "1000/min"})
    codes = [
        anon.post(TOKEN_URL, {"username": "carol", "password": "nope-nope-nope"}, format="json").status_code
        for _ in range(3)
    ]
    assert codes == [400, 400, 429]
    cache.clear()


def test_token_login_counts_towards_the_axes_lockout(clinician_carol, anon, settings):
    """authenticate(request=...) goes through django-axes: after the failure limit, even the
    right password gets no token."""
    settings.AXES_ENABLED = True
    for _ in range(settings.AXES_FAILURE_LIMIT):
        anon.post(TOKEN_URL, {"username": "carol", "password": "wrong-horse-battery"}, format="json")
    response = anon.post(TOKEN_URL, {"username": "carol", "password": "correct-horse-battery"}, format="json")
    assert response.status_code != 200
    assert "token" not in (
        response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
    )


@pytest.mark.parametrize("name", LISTS)
def test_anonymous_gets_401_with_a_challenge(anon, name):
    response = anon.get(f"/api/v1/{name}/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Token"


def test_anonymous_gets_401_on_writes_and_actions(anon, patient_pat):
    pid = patient_pat.public_id
    assert anon.post("/api/v1/patients/", {}, format="json").status_code == 401
    assert anon.post(f"/api/v1/patients/{pid}/assess/").status_code == 401
    assert anon.get(f"/api/v1/patients/{pid}/risk/").status_code == 401
    assert anon.patch(f"/api/v1/patients/{pid}/", {"active": False}, format="json").status_code == 401


def test_a_bad_token_is_401(anon):
    anon.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert anon.get("/api/v1/patients/").status_code == 401


def test_session_login_works_and_writes_need_csrf(clinician_carol, patient_pat):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(clinician_carol)
    assert client.get("/api/v1/patients/").status_code == 200
    response = client.patch(f"/api/v1/patients/{patient_pat.public_id}/", {"active": False}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def test_schema_and_docs_need_a_login(anon):
    assert anon.get("/api/schema/").status_code == 401
    assert anon.get("/api/docs/").status_code == 401


def test_schema_loads_for_staff_and_names_every_resource(carol_api):
    response = carol_api.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    schema = response.json()
    for name in LISTS:
        assert f"/api/v1/{name}/" in schema["paths"]
    for action in ("acknowledge", "snooze", "resolve"):
        assert f"/api/v1/flags/{{id}}/{action}/" in schema["paths"]
    assert "/api/v1/patients/{id}/assess/" in schema["paths"]
    assert "/api/v1/patients/{id}/risk/" in schema["paths"]
    assert not any(path.startswith("/fhir") for path in schema["paths"])


def test_swagger_ui_is_served_offline_from_the_sidecar(carol_api):
    page = carol_api.get("/api/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    script = carol_api.get("/api/docs/?script=")  # the init script, served apart for the CSP
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()


def test_schema_generates_and_validates_without_warnings(tmp_path):
    """The CI gate: manage.py spectacular --validate --fail-on-warn."""
    from django.core.management import call_command

    target = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    assert "/api/v1/patients/{id}/risk/:" in target.read_text()


def test_api_root_lists_the_resources(anon, carol_api):
    assert anon.get("/api/v1/").status_code == 401
    root = carol_api.get("/api/v1/", HTTP_ACCEPT="application/json").json()
    assert set(LISTS) <= set(root)
