"""View helpers for the pages of every app: the form decorators and the record form.

A record form renders ``staff/record_form.html``; on a valid POST it calls a service, puts
the service's errors on the fields, and redirects (POST-redirect-GET). Where it redirects to
is the caller's: ``patients.pages.patient_record_form`` sends it to the patient page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from .decorators import clinician_required, staff_required
from .forms import add_service_errors


def bound(request: HttpRequest):
    """The POST data for a form on a POST (even an empty one), None on a GET."""
    return request.POST if request.method == "POST" else None


def form_view(role_required: Callable) -> Callable[[Callable], Callable]:
    """The decorators every record form carries, with `role_required` as its role check."""

    def decorate(view: Callable) -> Callable:
        return never_cache(role_required(sensitive_post_parameters()(view)))

    return decorate


staff_form_view = form_view(staff_required)
clinician_form_view = form_view(clinician_required)


def record_form(
    request: HttpRequest,
    *,
    form,
    save: Callable[[dict[str, Any]], Any],
    success_url: Callable[[Any], str],
    title: str,
    success_message: str,
    cancel_url: str | None = None,
    submit_label: str = "Save",
    intro: str = "",
    context: dict | None = None,
) -> HttpResponse:
    """Render a record form; on a valid POST call `save` (the service) with the cleaned data,
    map its errors to fields, and redirect to `success_url` of what it saved. `context` adds
    to (and may override) the template's context."""
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, success_message)
            return redirect(success_url(saved))
    page = {
        "form": form,
        "title": title,
        "submit_label": submit_label,
        "intro": intro,
        "cancel_url": cancel_url,
        **(context or {}),
    }
    return render(request, "staff/record_form.html", page)
