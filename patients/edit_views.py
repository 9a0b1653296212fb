"""Staff edit pages of labs, weights and symptom reports (the patient page's "Edit" links): the
same forms as their add pages, filled with the record, saved through `patients.edits`."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

from ivigtrack.web.views import bound, staff_form_view

from . import edits
from .forms import LabForm, StaffSymptomReportForm, WeightForm, lab_units
from .pages import patient_record_form, staff_patient


def same_minute_kept(typed, stored):
    """The stored instant when the form shows it unchanged (a form has minutes, not seconds)."""
    if typed is not None and stored is not None and typed == stored.replace(second=0, microsecond=0):
        return stored
    return typed


@staff_form_view
def lab_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    lab = get_object_or_404(patient.labs, public_id=record_id)
    entered_other_unit = bool(lab.entered_unit) and lab.entered_unit != lab.unit
    initial = {
        "test": lab.test,
        "value": lab.entered_value if lab.entered_value is not None else lab.value,
        "unit": lab.entered_unit if entered_other_unit else "",
        "collected_at": lab.collected_at,
        "reference_high": lab.reference_high,
        "reference_low": lab.reference_low,
        # stored limits are in the canonical unit: say so when the value was entered in another
        "reference_unit": lab.unit if entered_other_unit else "",
    }
    form = LabForm(bound(request), initial=initial)

    def save(data):
        data = {**data, "unit": data.get("unit") or None, "reference_unit": data.get("reference_unit") or None}
        data["collected_at"] = same_minute_kept(data["collected_at"], lab.collected_at)
        saved = edits.lab_update(actor=request.user, lab=lab, **data)
        if saved.needs_verification:
            messages.warning(request, f"Saved, but it needs verification before it counts: {saved.verification_reason}")
        return saved

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Edit lab result",
        intro="The value is checked again as a new result would be (units, plausible range, verification).",
        success_message="Lab result saved.",
        extra={"datalist_id": "lab-units", "datalist": lab_units()},
    )


@staff_form_view
def weight_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    measurement = get_object_or_404(patient.weights, public_id=record_id)
    form = WeightForm(
        bound(request), initial={"weight_kg": measurement.weight_kg, "measured_on": measurement.measured_on}
    )
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: edits.weight_update(actor=request.user, measurement=measurement, **data),
        title="Edit weight",
        intro="The newest weight of the history is the patient's current one.",
        success_message="Weight saved.",
    )


@staff_form_view
def symptom_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    report = get_object_or_404(patient.symptom_reports, public_id=record_id)
    form = StaffSymptomReportForm(
        bound(request), initial={"symptoms": report.symptoms, "note": report.note, "reported_at": report.reported_at}
    )
    form.fields["reported_at"].help_text = form.fields["reported_at"].help_text.replace(
        "Defaults to now.", "Leave empty to keep it."
    )
    if report.kind == report.Kind.CHECKIN:
        form.fields["symptoms"].required = False  # a check-in may name none ("I feel fine")
    previous = report.triage

    def save(data):
        data = {**data, "reported_at": same_minute_kept(data.get("reported_at"), report.reported_at)}
        saved = edits.symptom_report_update(actor=request.user, report=report, **data)
        if edits.TRIAGE_RANK[saved.triage] < edits.TRIAGE_RANK[previous]:
            level = messages.ERROR if saved.triage == "emergency" else messages.WARNING
            messages.add_message(request, level, f"Now {saved.get_triage_display().lower()}: {saved.advice}")
        elif saved.triage != previous:
            messages.info(request, "An alert this report raised stays open until a clinician resolves it.")
        return saved

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Edit symptom report",
        intro="The report is triaged again; a more urgent one alerts the clinic at once.",
        success_message="Symptom report saved.",
        extra={"symptom_form": True},
    )
