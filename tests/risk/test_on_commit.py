"""A write re-assesses its patient once it commits: the assess task runs in-process, as it does
in `make run` without Redis (and on SQLite, where that run keeps its data)."""

from __future__ import annotations

import pytest

from patients.models import Patient
from risk.models import RiskAssessment
from tests import payloads

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def test_each_write_assesses_the_patient_after_commit(carol_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = carol_api.post("/api/v1/patients/", payloads.patient(), format="json")
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get(public_id=response.json()["id"])
    assert callbacks
    first = RiskAssessment.objects.get(patient=patient, is_current=True)

    body = payloads.for_resource("conditions", patient_id=patient.public_id)
    with django_capture_on_commit_callbacks(execute=True):
        assert carol_api.post("/api/v1/conditions/", body, format="json").status_code == 201
    current = RiskAssessment.objects.get(patient=patient, is_current=True)
    assert current.pk != first.pk and current.score > first.score
    assert RiskAssessment.objects.filter(patient=patient).count() == 2
