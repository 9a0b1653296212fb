"""The staff page that marks a record entered in error: one view for the nine kinds of record.

``/staff/patients/{patient_id}/<kind>/{record_id}/entered-in-error/`` (``staff:<kind>_entered_in_error``):
GET shows the record and asks for the reason; POST calls ``ivigtrack.corrections`` (the service
every door uses) and returns to the patient page, where the record stays, struck through. A blank
reason or a record marked already is a form error. Regimens are clinicians' (as their form is);
every other kind is any staff member's, as their forms are. Lives here because it reads records of
both apps (infusions may import patients, not the other way).
"""

from __future__ import annotations

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from ivigtrack.corrections import REASON_REQUIRED, mark_entered_in_error
from ivigtrack.validation import TEXT_MAX_LENGTH
from ivigtrack.web.forms import Form
from ivigtrack.web.views import bound, clinician_form_view, staff_form_view
from patients.models import Condition, LabResult, SymptomReport, ThrombosisEvent, VascularAccess, WeightMeasurement
from patients.pages import patient_record_form, staff_patient

from .models import Infusion, MedicationCourse, Regimen

# URL segment (the one the kind's other pages use), URL name prefix, model, words.
KINDS = {
    "condition": ("conditions", Condition, "Condition"),
    "access": ("lines", VascularAccess, "Line"),
    "event": ("events", ThrombosisEvent, "Thrombosis event"),
    "lab": ("labs", LabResult, "Lab result"),
    "symptom": ("symptoms", SymptomReport, "Symptom report"),
    "weight": ("weights", WeightMeasurement, "Weight"),
    "regimen": ("regimens", Regimen, "Regimen"),
    "infusion": ("infusions", Infusion, "Infusion"),
    "medication": ("medications", MedicationCourse, "Medication"),
}
CLINICIAN_KINDS = {"regimen"}


class EnteredInErrorForm(Form):
    reason = forms.CharField(
        label="Reason",
        max_length=TEXT_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Why this record is wrong (e.g. “recorded on the wrong patient”). Kept with the record.",
        error_messages={"required": REASON_REQUIRED},
    )


def describe(record) -> str:
    if isinstance(record, WeightMeasurement):
        return f"{record.weight_kg:g} kg measured on {record.measured_on:%Y-%m-%d}"
    return str(record)


def entered_in_error(request: HttpRequest, patient_id, record_id, kind: str) -> HttpResponse:
    _segment, model, words = KINDS[kind]
    patient = staff_patient(request, patient_id)
    record = get_object_or_404(model.all_objects.filter(patient=patient), public_id=record_id)
    if record.entered_in_error:
        intro = f"{words}: {describe(record)}. It was marked entered in error already: {record.entered_in_error_reason}"
    else:
        intro = (
            f"{words}: {describe(record)}. It stays on the patient's record, struck through with your reason, "
            "and no longer counts in any rule, score, chart or check. Nothing is deleted."
        )
    return patient_record_form(
        request,
        patient=patient,
        form=EnteredInErrorForm(bound(request)),
        save=lambda data: mark_entered_in_error(record, reason=data["reason"], actor=request.user),
        title=f"Mark {words.lower()} as entered in error",
        success_message=f"{words} marked entered in error: it no longer counts.",
        submit_label="Mark as entered in error",
        intro=intro,
    )


staff_entered_in_error = staff_form_view(entered_in_error)
clinician_entered_in_error = clinician_form_view(entered_in_error)


def urlpatterns(prefix: str, record: str) -> list:
    """The nine routes, under the staff patient prefix and the record id segment."""
    return [
        path(
            f"{prefix}{segment}/{record}entered-in-error/",
            clinician_entered_in_error if kind in CLINICIAN_KINDS else staff_entered_in_error,
            {"kind": kind},
            name=f"{kind}_entered_in_error",
        )
        for kind, (segment, _model, _words) in KINDS.items()
    ]
