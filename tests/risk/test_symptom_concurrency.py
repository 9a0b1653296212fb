"""Two symptom reports at the same instant, on PostgreSQL: each request in its own thread on its
own database connection, released together by a barrier.

Both reports find no alert open and both try to raise one; the partial unique constraint (one
unresolved flag per patient and kind) refused the second, and that request was a 500 with its
report rolled back: an emergency lost. Now the second waits on the patient's row lock until
the first commits, then joins its flag. Through the API (the patient and a nurse at once) and
the portal form (a double tap), 20 times each.
"""

from __future__ import annotations

import threading
from datetime import date
from functools import partial

import pytest
from django.db import connection
from django.urls import reverse

from patients import services as patient_services
from patients.models import SymptomReport
from risk.models import ReviewFlag
from tests import factories

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ROUNDS = 20
TIMEOUT = 30  # seconds; a thread that waits longer has hung, and the test says so


def at_once(*requests):
    """Run each request (a function of no arguments) in its own thread, all released together;
    return their responses in order."""
    barrier = threading.Barrier(len(requests))
    responses: list = [None] * len(requests)
    errors: list[BaseException] = []

    def run(i, request):
        try:
            barrier.wait(TIMEOUT)
            responses[i] = request()
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, request)) for i, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    assert not errors, errors
    return responses


def portal_patients(make_user, clinician_carol, n: int):
    patients = []
    for i in range(n):
        user = make_user(f"race{i}", "patient")
        patients.append(
            patient_services.patient_create(
                actor=clinician_carol,
                mrn=f"RACE-{i:02d}",
                given_name="Race",
                family_name=f"Patient{i:02d}",
                date_of_birth=date(1960, 1, 1),
                sex="female",
                diagnosis="cidp",
                user=user,
            )
        )
    return patients


def assert_every_report_kept_on_one_flag(patients, statuses, expected_status):
    refused = [status for pair in statuses for status in pair if status != expected_status]
    assert not refused, f"{len(refused)} of {2 * len(patients)} reports refused: {statuses}"
    assert SymptomReport.objects.filter(patient__in=patients).count() == 2 * len(patients)
    for patient in patients:
        (flag,) = ReviewFlag.objects.filter(patient=patient, kind="symptom_alert")
        assert flag.priority == "emergency" and flag.reports.count() == 2
        assert flag.reason.startswith("2 symptom reports, newest first")


def test_two_reports_through_the_api_at_once_are_both_kept_on_one_flag(make_user, clinician_carol, nurse_nina):
    patients = portal_patients(make_user, clinician_carol, ROUNDS)
    nurse = factories.token_client(nurse_nina)
    statuses = []
    for patient in patients:
        own = factories.token_client(patient.user)
        for client in (own, nurse):
            client.raise_request_exception = False  # a 500 is an answer to count, not an exception
        responses = at_once(
            partial(own.post, "/api/v1/symptom-reports/", {"symptoms": ["chest_pain"]}, format="json"),
            partial(
                nurse.post,
                "/api/v1/symptom-reports/",
                {"patient": str(patient.public_id), "symptoms": ["limb_pain_swelling", "fainting"]},
                format="json",
            ),
        )
        statuses.append(tuple(response.status_code for response in responses))
    assert_every_report_kept_on_one_flag(patients, statuses, 201)


def test_a_double_tap_on_the_portal_form_keeps_both_reports_on_one_flag(make_user, clinician_carol):
    patients = portal_patients(make_user, clinician_carol, ROUNDS)
    url = reverse("portal:symptom_report")
    statuses = []
    for patient in patients:
        taps = [factories.session_client(patient.user) for _ in range(2)]
        for client in taps:
            client.raise_request_exception = False
        responses = at_once(*(partial(tap.post, url, {"symptoms": ["chest_pain"], "note": ""}) for tap in taps))
        statuses.append(tuple(response.status_code for response in responses))
    assert_every_report_kept_on_one_flag(patients, statuses, 302)  # each sent to its own result page
