"""API responses are never cached; the browsable API exists only while developing."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/patients/", "/api/v1/flags/", "/fhir/Patient", "/api/schema/"])
def test_api_and_fhir_responses_say_no_store(carol_api, patient_pat, path):
    response = carol_api.get(path)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


def test_errors_and_the_token_endpoint_say_no_store_too(anon, clinician_carol):
    assert anon.get("/api/v1/patients/")["Cache-Control"] == "no-store"
    token = anon.post("/api/v1/auth/token/", {"username": "carol", "password": "correct-horse-battery"}, format="json")
    assert token.status_code == 200 and token["Cache-Control"] == "no-store"


def renderers(debug: str) -> str:
    code = (
        "import django; django.setup(); from rest_framework.settings import api_settings; "
        "print([r.__name__ for r in api_settings.DEFAULT_RENDERER_CLASSES])"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "ivigtrack.settings",
        "DJANGO_DEBUG": debug,
        "DJANGO_SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "clinic.example",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_the_browsable_api_is_off_in_production():
    assert "BrowsableAPIRenderer" not in renderers("False")
    assert "BrowsableAPIRenderer" in renderers("True")
