"""The portal check-in: "How are you since your infusion?" on day 1 and day 7 after a course
(`itrs.watch`). The answer is a symptom report of kind ``checkin`` and is triaged like any
report; "I feel fine" is stored with no symptom."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from ivigtrack.web.decorators import patient_required
from ivigtrack.web.forms import add_service_errors
from ivigtrack.web.views import bound
from patients import services as patient_services
from patients.forms import CheckinForm
from patients.pages import no_record, portal_patient
from patients.site_info import contact

from .watch import checkin_due_for, current_window


@never_cache
@patient_required
@sensitive_post_parameters()
def portal_checkin(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    form = CheckinForm(bound(request))
    if request.method == "POST" and form.is_valid():
        fine = form.cleaned_data["answer"] == CheckinForm.FINE
        try:
            report = patient_services.symptom_report_submit(
                actor=request.user,
                patient=patient,
                symptoms=[] if fine else form.cleaned_data["symptoms"],
                note=form.cleaned_data["note"],
                source="patient",
                kind="checkin",
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("portal:symptom_result", report_id=report.public_id)
    checkin = checkin_due_for(patient)
    context = {
        "form": form,
        "patient": patient,
        "checkin": checkin,
        "checkin_day": timezone.localtime(checkin.opens_at).date() if checkin else None,
        "window": current_window(patient),
        **contact(patient),
    }
    return render(request, "portal/checkin.html", context)
