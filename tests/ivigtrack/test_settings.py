"""Production settings refuse to start half-configured and pass Django's deploy checks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "ALLOWED_HOSTS"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "ivigtrack.settings",
    "DJANGO_DEBUG": "False",
    "DJANGO_SECRET_KEY": "k" * 20 + "-production-like-secret-value-0123456789-abcdef",
    "ALLOWED_HOSTS": "clinic.example.org",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/ivigtrack",
}


def test_check_deploy_passes_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_refuses_to_start_without_a_secret():
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_refuses_to_start_without_hosts():
    env = {**PRODUCTION, "ALLOWED_HOSTS": ""}
    result = manage("check", **env)
    assert result.returncode != 0 and "ALLOWED_HOSTS is required" in result.stderr


def test_bad_boolean_is_refused():
    result = manage("check", **{**PRODUCTION, "DJANGO_DEBUG": "yes"})
    assert result.returncode != 0 and "must be 'True' or 'False'" in result.stderr


def test_migrations_are_in_step_with_models():
    result = manage("makemigrations", "--check", "--dry-run", DJANGO_SETTINGS_MODULE="ivigtrack.settings_test")
    assert result.returncode == 0, result.stdout + result.stderr
