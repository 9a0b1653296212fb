"""Pages for patient records: the staff forms for the patient and their history, and the
portal's symptom report.

Every view goes through a selector (scoping is authorisation) and a service (validation,
transaction, audit). Staff reach a patient by its public id; the portal derives the patient
from the login and never reads an id for it from the URL.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from ivigtrack.web.decorators import patient_required, staff_required
from ivigtrack.web.forms import add_service_errors, now_local_input
from ivigtrack.web.views import bound, staff_form_view

from . import services
from .forms import (
    ConditionForm,
    LabForm,
    LabPanelForm,
    PatientCreateForm,
    PatientForm,
    RemindersForm,
    StaffSymptomReportForm,
    SymptomReportForm,
    ThrombosisEventForm,
    VascularAccessForm,
    WeightForm,
    lab_units,
)
from .pages import no_record, patient_record_form, patient_url, portal_patient, staff_patient, with_symptom_labels
from .site_info import contact

# --- patient -------------------------------------------------------------------------------


@staff_form_view
def patient_create(request: HttpRequest) -> HttpResponse:
    form = PatientCreateForm(bound(request), user=request.user)

    def save(data):
        return services.patient_create(actor=request.user, **data)

    return patient_record_form(
        request,
        patient=None,
        form=form,
        save=save,
        title="New patient",
        success_message="Patient created. Their risk is being assessed.",
        submit_label="Create patient",
        extra={"cancel_url": reverse("staff:patient_list")},
    )


@staff_form_view
def patient_edit(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = PatientForm(bound(request), instance=patient, user=request.user)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.patient_update(actor=request.user, patient=patient, **data),
        title="Edit patient details",
        success_message="Patient details saved.",
        intro="Weight has its own history: use “Record weight” on the patient page.",
    )


@staff_form_view
def weight_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = WeightForm(bound(request), initial={"measured_on": timezone.localdate()})
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.weight_record(actor=request.user, patient=patient, **data),
        title="Record weight",
        success_message="Weight recorded.",
    )


# --- conditions, lines, events -------------------------------------------------------------


@staff_form_view
def condition_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = ConditionForm(bound(request))
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.condition_add(actor=request.user, patient=patient, **data),
        title="Add condition",
        success_message="Condition added.",
    )


@staff_form_view
def condition_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    condition = get_object_or_404(patient.conditions, public_id=record_id)
    form = ConditionForm(bound(request), instance=condition)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.condition_update(actor=request.user, condition=condition, **data),
        title="Edit condition",
        success_message="Condition saved.",
    )


@staff_form_view
def access_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = VascularAccessForm(bound(request))
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.vascular_access_add(actor=request.user, patient=patient, **data),
        title="Add central line or port",
        success_message="Line recorded.",
    )


@staff_form_view
def access_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    access = get_object_or_404(patient.vascular_accesses, public_id=record_id)
    form = VascularAccessForm(bound(request), instance=access)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.vascular_access_update(actor=request.user, access=access, **data),
        title="Edit central line or port",
        success_message="Line saved.",
    )


@staff_form_view
def event_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = ThrombosisEventForm(bound(request), patient=patient)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.thrombosis_event_record(actor=request.user, patient=patient, **data),
        title="Record thrombosis event",
        success_message="Thrombosis event recorded.",
    )


@staff_form_view
def event_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    event = get_object_or_404(patient.thrombosis_events, public_id=record_id)
    form = ThrombosisEventForm(bound(request), instance=event, patient=patient)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.thrombosis_event_update(actor=request.user, event=event, **data),
        title="Edit thrombosis event",
        success_message="Thrombosis event saved.",
    )


# --- labs ----------------------------------------------------------------------------------


@staff_form_view
def lab_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = LabForm(bound(request), initial={"collected_at": now_local_input()})

    def save(data):
        data = {**data, "unit": data.get("unit") or None}
        lab = services.lab_record(actor=request.user, patient=patient, **data)
        if lab.needs_verification:
            messages.warning(request, f"Stored, but it needs verification before it counts: {lab.verification_reason}")
        return lab

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Add lab result",
        success_message="Lab result saved.",
        extra={"datalist_id": "lab-units", "datalist": lab_units()},
    )


@staff_form_view
def lab_panel_add(request: HttpRequest, patient_id) -> HttpResponse:
    """A clotting panel in one form: one collection time, any of the six tests; all stored or none."""
    patient = staff_patient(request, patient_id)
    form = LabPanelForm(bound(request), initial={"collected_at": now_local_input()})

    def save(data):
        labs = services.lab_panel_record(
            actor=request.user, patient=patient, collected_at=data["collected_at"], results=form.results()
        )
        doubtful = [lab for lab in labs if lab.needs_verification]
        for lab in doubtful:
            messages.warning(
                request, f"{lab.get_test_display()} stored, but it needs verification first: {lab.verification_reason}"
            )
        return labs

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Add a clotting panel",
        intro="One sample: the time it was collected, then any of the results (leave the others empty).",
        success_message="Panel saved.",
    )


@never_cache
@staff_required
@require_POST
def lab_verify(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    lab = get_object_or_404(patient.labs, public_id=record_id)
    confirmed = request.POST.get("decision") == "confirm"
    try:
        services.lab_verify(actor=request.user, lab=lab, confirmed=confirmed)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        rejected = "Value rejected: it stays on the record, struck through, and counts nowhere."
        messages.success(request, "Value confirmed: it now counts." if confirmed else rejected)
    return redirect(patient_url(patient))


# --- symptoms (staff) ----------------------------------------------------------------------


@staff_form_view
def symptom_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = StaffSymptomReportForm(bound(request))

    def save(data):
        report = services.symptom_report_submit(actor=request.user, patient=patient, source="staff", **data)
        level = messages.ERROR if report.triage == "emergency" else messages.WARNING
        if report.triage != "routine":
            messages.add_message(request, level, f"{report.get_triage_display()}: {report.advice}")
        return report

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Record symptoms",
        success_message="Symptom report saved.",
        extra={"symptom_form": True},
    )


# --- portal: symptoms ----------------------------------------------------------------------


@never_cache
@patient_required
@sensitive_post_parameters()
def portal_symptom_report(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    form = SymptomReportForm(bound(request))
    if request.method == "POST" and form.is_valid():
        try:
            report = services.symptom_report_submit(
                actor=request.user,
                patient=patient,
                symptoms=form.cleaned_data["symptoms"],
                note=form.cleaned_data["note"],
                source="patient",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("portal:symptom_result", report_id=report.public_id)
    return render(request, "portal/symptom_form.html", {"form": form, "patient": patient, **contact(patient)})


@never_cache
@patient_required
def portal_symptom_result(request: HttpRequest, report_id) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    report = get_object_or_404(patient.symptom_reports.select_related("alert_link__flag"), public_id=report_id)
    (report,) = with_symptom_labels([report])
    context = {"report": report, "patient": patient, "clinic_did": clinic_did(report), **contact(patient)}
    return render(request, "portal/symptom_result.html", context)


def clinic_did(report) -> str:
    """What the clinic did with the report, in the patient's words (no staff notes): the alert's
    own account (`risk.models.FlagReport.patient_words`), or that a routine report waits for the
    next contact."""
    try:
        link = report.alert_link  # the reverse one-to-one of the risk app (imports point down)
    except ObjectDoesNotExist:
        return "Not sent as an alert: the clinic team will review it at your next contact."
    return link.patient_words()


# --- portal: reminders ------------------------------------------------------------------------


@never_cache
@patient_required
def portal_reminders(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    form = RemindersForm(bound(request), initial={"reminders_opt_in": patient.reminders_opt_in})
    if request.method == "POST" and form.is_valid():
        try:
            services.reminders_opt_in_set(
                actor=request.user, patient=patient, opt_in=form.cleaned_data["reminders_opt_in"]
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            on = patient.reminders_opt_in
            messages.success(request, "Reminders are on." if on else "Reminders are off: we will not e-mail you.")
            return redirect("portal:reminders")
    email = patient.user.email if patient.user_id else ""
    return render(request, "portal/reminders.html", {"form": form, "patient": patient, "email": email})
