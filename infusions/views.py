"""Pages for what is given: staff forms for regimens (clinicians only), infusions and
medication courses; the portal's home, infusion log and history."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from ivigtrack.duplicates import DuplicateRecord
from ivigtrack.web.decorators import patient_required
from ivigtrack.web.forms import add_service_errors, now_local_input
from ivigtrack.web.views import bound, clinician_form_view, staff_form_view
from patients.models import SymptomReport
from patients.pages import (
    no_record,
    patient_record_form,
    portal_patient,
    staff_patient,
    with_corrections,
    with_symptom_labels,
)
from patients.site_info import contact

from . import services
from .chair import chair_check
from .drugs import dictionary_datalist
from .forms import InfusionForm, MedicationForm, PortalInfusionForm, RegimenForm
from .models import Infusion, Regimen
from .selectors import next_planned_course
from .watch import checkin_due_for, current_window

# --- regimens (clinicians only) ------------------------------------------------------------


@clinician_form_view
def regimen_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = RegimenForm(bound(request), initial={"indication": patient.diagnosis, "start_date": timezone.localdate()})
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.regimen_create(actor=request.user, patient=patient, **data),
        title="Add regimen",
        success_message="Regimen saved. The next course dates are on the patient page.",
    )


@clinician_form_view
def regimen_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    regimen = get_object_or_404(patient.regimens, public_id=record_id)
    form = RegimenForm(bound(request), instance=regimen)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.regimen_update(actor=request.user, regimen=regimen, **data),
        title="Edit regimen",
        success_message="Regimen saved.",
    )


# --- infusions -----------------------------------------------------------------------------


def _active_regimens(patient, today) -> list[Regimen]:
    return [r for r in patient.regimens.select_related("product") if r.is_active_on(today)]


@staff_form_view
def infusion_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    initial = {"started_at": now_local_input(), "status": Infusion.Status.ADMINISTERED}
    active = _active_regimens(patient, timezone.localdate())
    if len(active) == 1:
        initial.update(regimen=active[0], product=active[0].product)
    form = InfusionForm(bound(request), initial=initial, patient=patient)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.infusion_record(actor=request.user, patient=patient, source="staff", **data),
        title="Record infusion",
        success_message="Infusion recorded.",
        intro="One row per infusion day. Planned infusions can be recorded ahead; administered ones cannot be "
        "in the future.",
        extra={"chair": _chair_preview(patient, active[0] if len(active) == 1 else None)},
    )


def _chair_preview(patient, regimen):
    """The chair check before the infusion is recorded: for the regimen's product, now."""
    if regimen is None:
        return None
    return chair_check(Infusion(patient=patient, regimen=regimen, product=regimen.product, started_at=timezone.now()))


@staff_form_view
def infusion_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    infusion = get_object_or_404(patient.infusions, public_id=record_id)
    form = InfusionForm(bound(request), instance=infusion, patient=patient)

    def save(data):
        if data.get("product") is None and data.get("regimen") is not None:
            data = {**data, "product": data["regimen"].product}
        return services.infusion_update(actor=request.user, infusion=infusion, **data)

    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=save,
        title="Edit infusion",
        success_message="Infusion saved.",
        extra={"chair": chair_check(infusion) if infusion.status == Infusion.Status.ADMINISTERED else None},
    )


# --- medications ---------------------------------------------------------------------------


@staff_form_view
def medication_add(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    form = MedicationForm(bound(request), patient=patient, initial={"start_date": timezone.localdate()})
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.medication_record(actor=request.user, patient=patient, **data),
        title="Add medication",
        success_message="Medication saved.",
        extra={"datalist_id": "drug-dictionary", "datalist": dictionary_datalist()},
    )


@staff_form_view
def medication_edit(request: HttpRequest, patient_id, record_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    course = get_object_or_404(patient.medications, public_id=record_id)
    form = MedicationForm(bound(request), patient=patient, instance=course)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.medication_update(actor=request.user, course=course, **data),
        title="Edit medication",
        success_message="Medication saved.",
        extra={"datalist_id": "drug-dictionary", "datalist": dictionary_datalist()},
    )


# --- portal --------------------------------------------------------------------------------


def next_infusion(patient, *, now=None) -> dict | None:
    """The patient's next infusion: a planned infusion on record or the regimen's next course,
    whichever comes first."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    candidates = []
    planned = patient.infusions.filter(status=Infusion.Status.PLANNED, started_at__gte=now).select_related("product")
    planned = planned.order_by("started_at").first()
    if planned is not None:
        candidates.append(
            {
                "date": timezone.localdate(planned.started_at),
                "time": timezone.localtime(planned.started_at),
                "product": planned.product,
                "dose": f"{planned.dose_grams:g} g",
                "days": [timezone.localdate(planned.started_at)],
            }
        )
    regimens = _active_regimens(patient, today)
    course = next_planned_course(regimens, today)
    if course is not None:
        start, regimen = course
        candidates.append(
            {
                "date": start,
                "time": None,
                "product": regimen.product,
                "dose": regimen.dose_label,
                "days": regimen.next_course_dates(start, 1)[0],
                "setting": regimen.get_setting_display(),
            }
        )
    return min(candidates, key=lambda c: c["date"]) if candidates else None


@never_cache
@patient_required
def portal_home(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    context = {
        "patient": patient,
        "next": next_infusion(patient),
        "last_infusion": patient.infusions.filter(status=Infusion.Status.ADMINISTERED)
        .select_related("product")
        .order_by("-started_at")
        .first(),
        "recent_reports": with_symptom_labels(patient.symptom_reports.order_by("-reported_at")[:3]),
        "today": timezone.localdate(),
        "window": current_window(patient),
        "checkin": checkin_due_for(patient),
        **contact(patient),
    }
    return render(request, "portal/home.html", context)


@never_cache
@patient_required
@sensitive_post_parameters()
def portal_infusion_log(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    today = timezone.localdate()
    active = _active_regimens(patient, today)
    initial = {"started_at": now_local_input()}
    if active:
        initial["product"] = active[0].product
    form = PortalInfusionForm(bound(request), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        same_product = [r for r in active if r.product_id == data["product"].pk]
        try:
            infusion = services.infusion_record(
                actor=request.user,
                patient=patient,
                source="patient",
                status=Infusion.Status.ADMINISTERED,
                regimen=same_product[0] if len(same_product) == 1 else None,
                **data,
            )
        except DuplicateRecord as exc:  # the portal links to the patient's own history
            form.add_error(None, format_html('{} <a href="{}">See your history</a>.', exc.messages[0],
                                             reverse("portal:history")))  # fmt: skip
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            when = timezone.localtime(infusion.started_at)
            messages.success(
                request,
                f"Thank you: your infusion of {infusion.dose_grams:g} g {infusion.product} on "
                f"{when:%d %b %Y at %H:%M} is recorded.",
            )
            return redirect("portal:home")
    return render(request, "portal/infusion_form.html", {"form": form, "patient": patient})


@never_cache
@patient_required
def portal_history(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    context = {
        "patient": patient,
        # with the records the clinic marked entered in error, struck through
        "infusions": with_corrections(Infusion, patient).select_related("product").order_by("-started_at")[:100],
        "reports": with_symptom_labels(with_corrections(SymptomReport, patient).order_by("-reported_at")[:100]),
    }
    return render(request, "portal/history.html", context)
