"""Concurrent writes to one patient row, on PostgreSQL, each thread on its own connection.

A service that edits some fields of a row writes only those fields (``save(update_fields=...)``):
an edit made from an instance read earlier must not put back the values it read for the fields
it did not change (a lost update).
"""

from __future__ import annotations

import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction

from ivigtrack.audit.models import AuditEvent
from patients import services as svc
from patients.models import Patient, WeightMeasurement

TIMEOUT = 30  # seconds; a thread that waits longer has hung, and the test says so


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_patient_update_from_a_stale_instance_keeps_a_concurrent_weight(patient_pat, clinician_carol, nurse_nina):
    assert patient_pat.weight_kg == 70
    loaded = threading.Event()  # the editor has read the patient (weight 70)
    weighed = threading.Event()  # the nurse's new weight is committed
    errors: list[BaseException] = []

    def edit_record():
        try:
            stale = Patient.objects.get(pk=patient_pat.pk)
            loaded.set()
            assert weighed.wait(TIMEOUT), "the weight was never recorded"
            assert stale.weight_kg == 70  # the instance is stale: it predates the new weight
            svc.patient_update(actor=clinician_carol, patient=stale, family_name="Doe-Smith")
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)
        finally:
            loaded.set()
            connection.close()

    def record_weight():
        try:
            assert loaded.wait(TIMEOUT), "the editor never read the patient"
            svc.weight_record(actor=nurse_nina, patient=patient_pat, weight_kg=Decimal("82.5"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            weighed.set()
            connection.close()

    threads = [threading.Thread(target=edit_record), threading.Thread(target=record_weight)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors

    stored = Patient.objects.get(pk=patient_pat.pk)
    assert stored.family_name == "Doe-Smith"
    assert stored.weight_kg == Decimal("82.5"), "patient_update wrote its stale weight over the new one"
    assert WeightMeasurement.objects.get(patient=stored, is_current=True).weight_kg == Decimal("82.5")
    update = AuditEvent.objects.get(action="patient.update", patient_id=stored.pk)
    assert update.detail == {"changes": {"family_name": ["Doe", "Doe-Smith"]}}


@pytest.mark.django_db
def test_an_edit_of_a_record_deleted_meanwhile_is_refused_not_recreated(patient_pat, nurse_nina):
    access = svc.vascular_access_add(
        actor=nurse_nina, patient=patient_pat, kind="picc", vein="arm", inserted_on=patient_pat.created_at.date()
    )
    type(access).objects.filter(pk=access.pk).delete()  # another writer removed it after we read it
    with pytest.raises(ValidationError) as err:
        svc.vascular_access_update(actor=nurse_nina, access=access, note="dressing changed")
    assert err.value.message_dict == {"__all__": ["This record was deleted meanwhile; reload it."]}
    assert not type(access).objects.filter(pk=access.pk).exists()
    assert not AuditEvent.objects.filter(action="vascular_access.update").exists()


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_mrn_taken_while_the_create_runs_is_still_a_field_error(clinician_carol, nurse_nina):
    """full_clean finds no MRN-RACE (the other create has not committed), the INSERT then waits
    on the unique index and fails when the other commits: the error still names ``mrn``."""
    record = {
        "mrn": "MRN-RACE",
        "given_name": "R",
        "family_name": "C",
        "date_of_birth": date(1950, 1, 1),
        "sex": "male",
        "diagnosis": "cidp",
    }
    waiting_pid: list[int] = []
    started = threading.Event()  # the first create has inserted and not committed
    errors: list[BaseException] = []
    refused: list[ValidationError] = []

    def first():
        try:
            with transaction.atomic():
                svc.patient_create(actor=clinician_carol, **record)
                started.set()
                deadline = time.monotonic() + TIMEOUT
                with connection.cursor() as cursor:
                    mine = _backend_pid(cursor)
                    while True:  # commit only once the second INSERT waits on this transaction
                        if waiting_pid:
                            cursor.execute("SELECT pg_blocking_pids(%s)", [waiting_pid[0]])
                            if mine in cursor.fetchone()[0]:
                                break
                        assert time.monotonic() < deadline, "the second create never waited on the first"
                        time.sleep(0.02)
        except BaseException as exc:
            errors.append(exc)
        finally:
            started.set()
            connection.close()

    def second():
        try:
            assert started.wait(TIMEOUT)
            with connection.cursor() as cursor:
                waiting_pid.append(_backend_pid(cursor))
            svc.patient_create(actor=nurse_nina, **record)
        except ValidationError as exc:
            refused.append(exc)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(TIMEOUT)
    assert not any(thread.is_alive() for thread in threads)
    assert not errors, errors
    assert len(refused) == 1
    assert refused[0].message_dict == {"mrn": ["Patient with this MRN already exists."]}
    assert Patient.objects.filter(mrn="MRN-RACE").count() == 1
    assert AuditEvent.objects.filter(action="patient.create").count() == 1


def _backend_pid(cursor) -> int:
    cursor.execute("SELECT pg_backend_pid()")
    return cursor.fetchone()[0]
