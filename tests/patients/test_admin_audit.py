"""The Django admin writes the clinic's audit trail: opening, changing and deleting there leaves
AuditEvent rows, as the services and pages do (a clinical record is never deleted: it is marked
entered in error, tests/ivigtrack/test_corrections_pages.py)."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.urls import reverse

from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from patients.models import Condition

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(make_user):
    user = make_user("root", "clinician", is_superuser=True, is_staff=True)
    client = Client()
    client.force_login(user)
    return user, client


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


def test_opening_a_patient_in_the_admin_is_audited(root, patient_pat):
    user, client = root
    response = client.get(reverse("admin:patients_patient_change", args=[patient_pat.pk]))
    assert response.status_code == 200
    [event] = _events("admin.view")
    assert (event.actor, event.patient_id, event.object_type) == (user, patient_pat.pk, "patients.patient")


def test_a_change_in_the_admin_is_audited_with_what_changed(root, patient_pat, clinician_carol):
    user, client = root
    condition = patient_services.condition_add(
        actor=clinician_carol, patient=patient_pat, code="active_cancer", onset_date=date(2025, 1, 1)
    )
    url = reverse("admin:patients_condition_change", args=[condition.pk])
    form = client.get(url).context["adminform"].form
    data = {name: form[name].value() or "" for name in form.fields}
    data["note"] = "corrected in the admin"
    response = client.post(url, data)
    assert response.status_code == 302, getattr(response, "context", None) and response.context["adminform"].form.errors
    [event] = _events("admin.change")
    assert (event.actor, event.patient_id, event.object_id) == (user, patient_pat.pk, str(condition.public_id))
    assert event.detail["change"] == [{"changed": {"fields": ["Note"]}}]


def test_a_clinical_record_cannot_be_deleted_in_the_admin(root, patient_pat, clinician_carol):
    """No clinical record is deleted: the admin marks it entered in error instead."""
    user, client = root
    condition = patient_services.condition_add(
        actor=clinician_carol, patient=patient_pat, code="active_cancer", onset_date=date(2025, 1, 1)
    )
    response = client.post(reverse("admin:patients_condition_delete", args=[condition.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Condition.objects.filter(pk=condition.pk).exists()
    assert _events("admin.delete") == []


def test_a_deletion_in_the_admin_is_audited(root, make_user, clinician_carol):
    user, client = root
    patient = patient_services.patient_create(
        actor=clinician_carol,
        mrn="MRN-GONE",
        given_name="Gone",
        family_name="Twice",
        date_of_birth=date(1970, 1, 1),
        sex="male",
        diagnosis="cidp",
    )
    response = client.post(reverse("admin:patients_patient_delete", args=[patient.pk]), {"post": "yes"})
    assert response.status_code == 302
    [event] = _events("admin.delete")
    assert (event.actor, event.object_id) == (user, str(patient.public_id))
