"""One record of every kind for a patient, entered through the services (as the pages do)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from infusions import services as infusion_services
from infusions.models import Product
from patients import services as patient_services


def full_history(patient, actor) -> dict:
    today = timezone.localdate()
    now = timezone.now()
    product = Product.objects.get(name="Privigen 10%")
    access = patient_services.vascular_access_add(
        actor=actor, patient=patient, kind="picc", vein="arm", side="left", inserted_on=today - timedelta(days=40)
    )
    regimen = infusion_services.regimen_create(
        actor=actor,
        patient=patient,
        product=product,
        dose_g_per_kg_per_day=Decimal("0.4"),
        days_per_course=5,
        interval_days=28,
        start_date=today - timedelta(days=30),
    )
    return {
        "access": access,
        "regimen": regimen,
        "condition": patient_services.condition_add(
            actor=actor, patient=patient, code="hypertension", onset_date=today - timedelta(days=900)
        ),
        "event": patient_services.thrombosis_event_record(
            actor=actor, patient=patient, kind="dvt", status="suspected", diagnosed_on=today - timedelta(days=3)
        ),
        "lab": patient_services.lab_record(
            actor=actor, patient=patient, test="platelets", value=250, collected_at=now - timedelta(days=2)
        ),
        "infusion": infusion_services.infusion_record(
            actor=actor,
            patient=patient,
            regimen=regimen,
            product=product,
            dose_grams=Decimal("28"),
            started_at=now - timedelta(days=10),
            max_rate_mg_kg_min=Decimal("2"),
            vascular_access=access,
            iga_override_reason="IgA requested, result awaited",  # the first-infusion IgA gate
        ),
        "medication": infusion_services.medication_record(
            actor=actor,
            patient=patient,
            category="steroid",
            drug="prednisolone",
            dose_mg_per_day=Decimal("20"),
            route="oral",
            start_date=today - timedelta(days=60),
        ),
        "report": patient_services.symptom_report_submit(
            actor=actor, patient=patient, symptoms=["severe_headache"], note="since this morning"
        ),
    }
