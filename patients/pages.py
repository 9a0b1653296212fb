"""Page helpers about a patient, for the pages of every app (patients, infusions, risk).

The generic helpers (decorators, forms, the record form) live in ``ivigtrack.web``; these add
the patient: who it is on a staff URL or in the portal, its page, and its symptoms in words.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from ivigtrack.accounts.zones import activate_site
from ivigtrack.audit.services import audit_record
from ivigtrack.web.views import record_form

from . import symptoms as symptom_catalogue
from .models import Patient
from .selectors import patient_for_user, patient_scope

# --- staff ---------------------------------------------------------------------------------


def staff_patient(request: HttpRequest, patient_id) -> Patient:
    """The patient of a staff URL, or 404 (unknown id or out of the user's scope). The request
    reads and writes times in the patient's site zone from here on."""
    patient = get_object_or_404(patient_scope(request.user).select_related("site"), public_id=patient_id)
    activate_site(patient.site)
    return patient


def with_corrections(model, patient: Patient):
    """A patient's records of ``model`` including those entered in error (``all_objects``), with
    who marked them: for the pages that show corrections struck through. Rules never read this.
    Through the patient's related manager (with ``all_objects``), so each row knows its patient
    without a query of its own."""
    accessor = model._meta.get_field("patient").remote_field.get_accessor_name()
    return getattr(patient, accessor)(manager="all_objects").select_related("entered_in_error_by")


def patient_url(patient: Patient) -> str:
    return reverse("staff:patient_detail", kwargs={"patient_id": patient.public_id})


def patient_record_form(
    request: HttpRequest, *, patient: Patient | None, form, save, extra: dict | None = None, **options
) -> HttpResponse:
    """`ivigtrack.web.views.record_form` for one of a patient's records: Cancel and a save lead
    to the patient page (after a create without a patient, to the new patient's page).
    `options` are record_form's title, success_message, submit_label and intro."""

    def success_url(saved) -> str:
        return patient_url(saved if isinstance(saved, Patient) else patient)

    if patient is not None and request.method == "GET":
        # The form shows the patient's record (an edit form, its current values): a staff read.
        audit_record(
            actor=request.user,
            action="patient.view",
            obj=patient,
            detail={"form": str(options.get("title", "")), "path": request.path[:200]},
        )

    return record_form(
        request,
        form=form,
        save=save,
        success_url=success_url,
        cancel_url=patient_url(patient) if patient else None,
        context={"patient": patient, **(extra or {})},
        **options,
    )


def with_symptom_labels(reports) -> list:
    """Symptom reports with their symptoms in plain words (`symptom_labels`)."""
    reports = list(reports)
    for report in reports:
        report.symptom_labels = [symptom_catalogue.ALL.get(code, code) for code in report.symptoms]
    return reports


# --- portal --------------------------------------------------------------------------------


def portal_patient(request: HttpRequest) -> Patient | None:
    """The logged-in patient's own record (never from the URL), its site's zone activated
    (read once per request)."""
    if not hasattr(request, "_portal_patient"):
        request._portal_patient = patient_for_user(request.user)
    patient = request._portal_patient
    if patient is not None:
        activate_site(patient.site)
    return patient


def portal_site(request: HttpRequest) -> dict:
    """Template context (settings.TEMPLATES): ``portal_site``, the logged-in patient's site, for
    the portal's tap-to-call links (``portal_site.phone`` / ``phone_href``, ``emergency_number`` /
    ``emergency_href``). Nothing for staff or anonymous users, and no query for them."""
    if not getattr(getattr(request, "user", None), "is_patient_user", False):
        return {}
    patient = portal_patient(request)
    return {"portal_site": patient.site if patient is not None else None}


def no_record(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/no_record.html", status=404)
