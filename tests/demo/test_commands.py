"""The commands `make run` and the README use: seed_demo (the demo clinic, or N synthetic patients)
and run_review_sweep. Marked `sqlite`: they also run on SQLite, the zero-config database."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from demo import vignettes
from demo.management.commands.seed_demo import DEMO_SYNTHETIC, DEMO_USERS
from ivigtrack.bulk import COPY_FROM_ROWS
from patients.models import Patient
from risk.models import InfusionRisk, ReviewFlag, RiskAssessment, SweepRun

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def run(*args: str) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=out)
    return out.getvalue()


def test_seed_demo_builds_the_demo_clinic_once_and_sweeps_it():
    output = run("seed_demo")
    total = len(vignettes.VIGNETTES) + DEMO_SYNTHETIC
    assert f"Demo clinic ready: {total} patients." in output
    assert set(get_user_model().objects.values_list("username", flat=True)) == {u[0] for u in DEMO_USERS}
    assert Patient.objects.get(mrn="DEMO-V01").user.username == "patient1"
    run_ = SweepRun.objects.get()
    assert (run_.patients, run_.errors, run_.trigger) == (total, 0, "command") and run_.finished_at
    assert run_.flags_raised == ReviewFlag.objects.exclude(kind="symptom_alert").count() > 0
    assert RiskAssessment.objects.filter(is_current=True).count() == total

    again = run("seed_demo", "--no-sweep")
    assert f"Demo clinic ready: {total} patients." in again
    assert Patient.objects.count() == total and SweepRun.objects.count() == 1


def test_seed_demo_patients_then_the_sweep_command():
    assert "50 synthetic patients created (0 existed)." in run("seed_demo", "--patients", "50")
    assert "0 synthetic patients created (50 existed)." in run("seed_demo", "--patients", "50")
    assert Patient.objects.count() == 50 >= COPY_FROM_ROWS  # one chunk big enough for the bulk paths

    first = run("run_review_sweep")
    stored = SweepRun.objects.get()
    assert "50 patients in" in first and "errors 0." in first
    assert stored.assessments_changed == 50 and stored.flags_raised == ReviewFlag.objects.count() > 0
    assert RiskAssessment.objects.filter(is_current=True).count() == 50
    assert InfusionRisk.objects.exists()  # recent infusions got their risk recorded

    second = run("run_review_sweep", "--hourly")
    assert "assessments changed 0; flags raised 0, escalated 0, resolved 0; errors 0." in second
