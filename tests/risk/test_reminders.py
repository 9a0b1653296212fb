"""E-mail reminders planned set-based, once per patient, kind and day; the opt-in in the portal
with its date; staff see what was sent. (The worker test in tests/integration sends them.)"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from infusions.models import Infusion, Product, Regimen
from ivigtrack.audit.models import AuditEvent
from patients import services as patient_services
from risk.models import PatientReminder
from risk.reminders import reminder_send, reminders_plan
from tests.factories import make_flag

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture
def privigen():
    return Product.objects.get(name="Privigen 10%")


def at_local(day, hour=10):
    return timezone.make_aware(datetime.combine(day, datetime.min.time())) + timedelta(hours=hour)


def test_the_portal_opt_in_is_stored_with_its_date_and_audited(pat_client, patient_pat):
    assert "Reminders are <strong>off</strong>" in pat_client.get(reverse("portal:reminders")).content.decode()
    response = pat_client.post(reverse("portal:reminders"), {"reminders_opt_in": "on"})
    assert response.status_code == 302
    patient_pat.refresh_from_db()
    assert patient_pat.reminders_opt_in and patient_pat.reminders_opt_in_changed_at is not None
    assert AuditEvent.objects.filter(action="patient.reminders", detail__opt_in=True).exists()
    pat_client.post(reverse("portal:reminders"), {})
    patient_pat.refresh_from_db()
    assert not patient_pat.reminders_opt_in


def test_no_opt_in_without_an_e_mail_address(pat_client, patient_pat):
    patient_pat.user.email = ""
    patient_pat.user.save()
    response = pat_client.post(reverse("portal:reminders"), {"reminders_opt_in": "on"})
    assert response.status_code == 200 and "no e-mail address" in response.content.decode()
    patient_pat.refresh_from_db()
    assert not patient_pat.reminders_opt_in


def test_plan_is_set_based_idempotent_and_skips_patients_who_did_not_opt_in(
    patient_pat, patient_quinn, privigen, django_assert_max_num_queries
):
    today = timezone.localdate()
    patient_services.reminders_opt_in_set(actor=patient_pat.user, patient=patient_pat, opt_in=True)
    Regimen.objects.create(
        patient=patient_pat, product=privigen, indication="cidp", dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=5, interval_days=28, start_date=today + timedelta(days=2),
    )  # fmt: skip
    make_flag(patient_pat, kind="pre_ivig_labs", rule="PRE-IVIG")
    # Quinn did not opt in: the same facts, no reminders.
    Infusion.objects.create(
        patient=patient_quinn, product=privigen, started_at=at_local(today + timedelta(days=2)), dose_grams=30,
        status="planned",
    )  # fmt: skip
    make_flag(patient_quinn, kind="clotting_studies")
    with django_assert_max_num_queries(10):
        ids = reminders_plan()
    assert len(ids) == 2
    assert set(PatientReminder.objects.values_list("patient_id", "kind")) == {
        (patient_pat.pk, "next_infusion"),
        (patient_pat.pk, "labs_due"),
    }
    assert reminders_plan() == ids and PatientReminder.objects.count() == 2  # again: nothing new
    for reminder_id in ids:
        reminder_send(reminder_id)
        assert reminder_send(reminder_id) is None  # sent once: a second try sends nothing
    assert len(mail.outbox) == 2 and all(m.to == [patient_pat.user.email] for m in mail.outbox)
    assert reminders_plan() == []


def test_a_failed_send_is_recorded_and_sent_on_the_retry(patient_pat, privigen, monkeypatch):
    patient_services.reminders_opt_in_set(actor=patient_pat.user, patient=patient_pat, opt_in=True)
    make_flag(patient_pat, kind="clotting_studies")
    (reminder_id,) = reminders_plan()

    def refuse(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("risk.reminders.send_mail", refuse)
    with pytest.raises(ConnectionRefusedError):
        reminder_send(reminder_id)
    row = PatientReminder.objects.get()
    assert (row.status, row.attempts, row.last_error) == ("failed", 1, "ConnectionRefusedError: SMTP down")
    monkeypatch.undo()
    assert reminder_send(reminder_id).status == "sent"
    row.refresh_from_db()
    assert (row.status, row.attempts, len(mail.outbox)) == ("sent", 2, 1)


def test_staff_see_the_reminders_on_the_patient_page(carol_client, patient_pat):
    patient_services.reminders_opt_in_set(actor=patient_pat.user, patient=patient_pat, opt_in=True)
    make_flag(patient_pat, kind="clotting_studies")
    (reminder_id,) = reminders_plan()
    reminder_send(reminder_id)
    page = carol_client.get(f"/staff/patients/{patient_pat.public_id}/").content.decode()
    assert "E-mail reminders to the patient" in page and "Opted in" in page
    assert "Blood tests due" in page and "Sent" in page
