"""Staff pages about haematology: record a review from the patient page, and the printable
haematology summary (`/staff/patients/{id}/summary/`, `?format=pdf` for the print-ready page the
browser saves as PDF). Every read is audited."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from ivigtrack.audit.services import audit_record
from ivigtrack.web.decorators import staff_required
from ivigtrack.web.views import bound, clinician_form_view
from patients.pages import patient_record_form, staff_patient

from .forms import HaematologyReviewForm
from .models import UNRESOLVED, FlagKind
from .selectors import flag_scope
from .services import haematology as services
from .summary import summary_context


@clinician_form_view
def review_add(request: HttpRequest, patient_id) -> HttpResponse:
    """Record a haematology review; with ``?flag=`` (the open haematology flag), it completes it."""
    patient = staff_patient(request, patient_id)
    flag = None
    if request.GET.get("flag"):
        flag = get_object_or_404(
            flag_scope(request.user).filter(patient=patient, kind=FlagKind.HEMATOLOGY_REVIEW, status__in=UNRESOLVED),
            public_id=request.GET["flag"],
        )
    form = HaematologyReviewForm(bound(request))
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: services.haematology_review_record(
            actor=request.user, patient=patient, flag=flag, **form.review_data()
        ),
        title="Record haematology review",
        success_message="Haematology review recorded." + (" The haematology flag is completed by it." if flag else ""),
        intro="What the haematologist decided: the review rules schedule the next review from this plan.",
    )


@staff_required
def patient_summary(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    as_pdf = request.GET.get("format") == "pdf"
    audit_record(
        actor=request.user, action="patient.summary", obj=patient, detail={"format": "pdf" if as_pdf else "html"}
    )
    context = summary_context(patient)
    context["print_now"] = as_pdf
    response = render(request, "risk/summary.html", context)
    response["Cache-Control"] = "no-store"
    if as_pdf:
        # The browser's own print makes the PDF ("Save as PDF"): no PDF library on the server.
        filename = f"haematology-summary-{patient.mrn}.html"
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response
