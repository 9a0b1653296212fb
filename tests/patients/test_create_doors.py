"""One way to create a patient: the staff page form and the API call the same service, so they
refuse the same input with the same message on the same field, and store the same rows."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from ivigtrack.audit.models import AuditEvent
from patients.models import Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

BODY = {
    "given_name": "Nora",
    "family_name": "Newman",
    "date_of_birth": "1975-04-12",
    "sex": "female",
    "height_cm": "168",
    "diagnosis": "cidp",
}


def page_errors(carol_client, **fields) -> dict:
    response = carol_client.post(reverse("staff:patient_create"), {**BODY, **fields})
    assert response.status_code == 200  # the form again, with its errors
    return {name: list(errors) for name, errors in response.context["form"].errors.items()}


def api_errors(carol_api, **fields) -> dict:
    response = carol_api.post("/api/v1/patients/", {**BODY, **fields}, format="json")
    assert response.status_code == 400
    return {name: [str(message) for message in messages] for name, messages in response.json().items()}


def test_a_taken_mrn_is_the_same_field_error_through_both_doors(carol_client, carol_api, patient_pat):
    page = page_errors(carol_client, mrn="MRN-PAT")
    api = api_errors(carol_api, mrn="MRN-PAT")
    assert page == api == {"mrn": ["Patient with this MRN already exists."]}
    assert Patient.objects.filter(mrn="MRN-PAT").count() == 1


def test_a_future_weight_date_is_the_same_field_error_through_both_doors(carol_client, carol_api):
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    page = page_errors(carol_client, mrn="MRN-F1", weight_kg="70", weight_measured_on=future)
    api = api_errors(carol_api, mrn="MRN-F2", weight_kg="70", weight_measured_on=future)
    assert page == api == {"weight_measured_on": ["A weight cannot be measured in the future."]}
    assert not Patient.objects.exists() and not WeightMeasurement.objects.exists()


def test_both_doors_store_the_record_and_its_first_weight_alike(carol_client, carol_api):
    measured = (timezone.localdate() - timedelta(days=2)).isoformat()
    weight = {"weight_kg": "71.5", "weight_measured_on": measured}
    assert carol_client.post(reverse("staff:patient_create"), {**BODY, "mrn": "MRN-PAGE", **weight}).status_code == 302
    assert carol_api.post("/api/v1/patients/", {**BODY, "mrn": "MRN-API", **weight}, format="json").status_code == 201

    def stored(mrn):
        patient = Patient.objects.get(mrn=mrn)
        weights = list(WeightMeasurement.objects.filter(patient=patient).values_list("weight_kg", "measured_on"))
        actions = list(AuditEvent.objects.filter(patient_id=patient.pk).order_by("id").values_list("action", flat=True))
        return str(patient.weight_kg), str(patient.weight_measured_on), weights, actions

    assert stored("MRN-PAGE") == stored("MRN-API")
    assert stored("MRN-API")[3] == ["patient.create", "weight.record"]
