"""One clock-skew tolerance (settings.IVIGTRACK_FUTURE_TOLERANCE) for every instant a record says
has happened: a lab's collection, a symptom report, an administered infusion's start."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from infusions import services as infusion_services
from patients import services as patient_services

pytestmark = pytest.mark.django_db


def write(kind: str, patient, actor, product, at):
    if kind == "lab":
        return patient_services.lab_record(actor=actor, patient=patient, test="platelets", value=250, collected_at=at)
    if kind == "symptom":
        return patient_services.symptom_report_submit(actor=actor, patient=patient, symptoms=["other"], reported_at=at)
    return infusion_services.infusion_record(
        actor=actor,
        patient=patient,
        product=product,
        dose_grams=30,
        started_at=at,
        status="administered",
        iga_override_reason="IgA requested, result awaited",
    )


FIELD = {"lab": "collected_at", "symptom": "reported_at", "infusion": "started_at"}


@pytest.mark.parametrize("kind", sorted(FIELD))
def test_every_service_reads_the_one_tolerance(kind, settings, patient_pat, nurse_nina, product):
    assert settings.IVIGTRACK_FUTURE_TOLERANCE == timedelta(minutes=5)
    write(kind, patient_pat, nurse_nina, product, timezone.now() + timedelta(minutes=4))
    with pytest.raises(ValidationError) as err:
        write(kind, patient_pat, nurse_nina, product, timezone.now() + timedelta(minutes=6))
    assert FIELD[kind] in err.value.message_dict

    settings.IVIGTRACK_FUTURE_TOLERANCE = timedelta(hours=1)
    write(kind, patient_pat, nurse_nina, product, timezone.now() + timedelta(minutes=50))
    settings.IVIGTRACK_FUTURE_TOLERANCE = timedelta(0)
    with pytest.raises(ValidationError):
        write(kind, patient_pat, nurse_nina, product, timezone.now() + timedelta(minutes=1))
