"""One-time tokens on page forms: a double click (or a resent POST) writes once.

Every page form carries ``<input type="hidden" name="form_token" value="{{ form_token }}">``
(the ``form_token`` context processor makes a fresh token for each page drawn). The
middleware spends the token before the view runs: the first POST with it proceeds; a second
one is sent where the first one went ("already saved"), or told to wait if the first is still
being saved. A POST that does not save (the form comes back with errors) gives its token back.
A POST without a token (a script, an old page) is handled as before.
"""

from __future__ import annotations

import secrets

from django.contrib import messages
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.functional import SimpleLazyObject

from .models import FormSubmission

FIELD = "form_token"
SKIP_PREFIXES = ("/api/", "/fhir/", "/accounts/", "/admin/")


def form_token(request: HttpRequest) -> dict:
    """Context processor: a fresh one-time token, made only if the page draws a form."""
    return {FIELD: SimpleLazyObject(lambda: secrets.token_urlsafe(24))}


class OneTimeFormTokenMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path.startswith(SKIP_PREFIXES):
            return self.get_response(request)
        user = getattr(request, "user", None)
        token = request.POST.get(FIELD, "") if user is not None and user.is_authenticated else ""
        if not token:
            return self.get_response(request)
        token = token[:64]
        try:
            with transaction.atomic():
                spent = FormSubmission.objects.create(token=token, user=user, path=request.path[:500])
        except IntegrityError:
            return self.repeated(request, token)
        response = self.get_response(request)
        if response.status_code in (301, 302, 303) and response.has_header("Location"):
            FormSubmission.objects.filter(pk=spent.pk).update(redirect_to=response["Location"][:500])
        else:  # not saved (errors shown, or it failed): the token may be used again
            FormSubmission.objects.filter(pk=spent.pk).delete()
        return response

    def repeated(self, request: HttpRequest, token: str) -> HttpResponse:
        first = FormSubmission.objects.filter(token=token).first()
        if first is None or first.user_id != request.user.pk:
            return HttpResponse("This form has expired. Go back, reload the page and try again.", status=400,
                                content_type="text/plain")  # fmt: skip
        if first.redirect_to:
            messages.info(request, "This form had already been sent; it was saved once.")
            return redirect(first.redirect_to)
        return HttpResponse(
            "This form is already being saved. Wait a moment, then reload the page.", status=409,
            content_type="text/plain",
        )  # fmt: skip
