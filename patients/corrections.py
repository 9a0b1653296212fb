"""What marking a patient record entered in error changes besides the row (`ivigtrack.corrections`).

A weight entered in error that was the current one hands "current" to the newest remaining
measurement, and the patient's weight (the dosing weight every door reads) follows it; with no
measurement left the patient has no weight on file, which the rules report as missing.
"""

from __future__ import annotations

from django.utils import timezone

from ivigtrack.corrections import on_marked

from .models import Patient, WeightMeasurement


def weight_marked(weight: WeightMeasurement, *, actor) -> None:
    if not weight.is_current:
        return
    patient = Patient.objects.select_for_update().get(pk=weight.patient_id)
    WeightMeasurement.all_objects.filter(pk=weight.pk).update(is_current=False)
    weight.is_current = False
    newest = WeightMeasurement.objects.filter(patient_id=patient.pk).order_by("-measured_on", "-id").first()
    if newest is not None:
        WeightMeasurement.objects.filter(pk=newest.pk).update(is_current=True)
        patient.weight_kg, patient.weight_measured_on = newest.weight_kg, newest.measured_on
    else:
        patient.weight_kg, patient.weight_measured_on = None, None
    Patient.objects.filter(pk=patient.pk).update(
        weight_kg=patient.weight_kg, weight_measured_on=patient.weight_measured_on, updated_at=timezone.now()
    )


def register() -> None:
    on_marked("patients.weightmeasurement", weight_marked)
