"""Refuse NUL bytes in query strings, paths and the Authorization header.

PostgreSQL text cannot hold them, so a filter such as `?q=%00` (or a token lookup) would
otherwise reach the database and fail with a 500. Form and JSON fields are
already checked by Django's and DRF's CharField validators."""

from __future__ import annotations

from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        query = request.META.get("QUERY_STRING", "")
        if (
            "%00" in query
            or "\x00" in query
            or "\x00" in request.path
            or "\x00" in request.META.get("HTTP_AUTHORIZATION", "")
        ):
            message = "Query parameters cannot contain NUL (0x00) characters."
            if request.path.startswith(("/api/", "/fhir/")):
                return JsonResponse({"detail": message}, status=400)
            return HttpResponse(message, status=400, content_type="text/plain")
        return self.get_response(request)


class RejectUndecodableBodyMiddleware:
    """A form body that cannot be decoded (an unknown charset, or bytes that are not text in the
    charset it names, e.g. ``charset=utf-16`` on a UTF-8 body) is a 400 with a message, not a
    500 from the first code that reads request.POST (CSRF). Runs before CsrfViewMiddleware."""

    FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        content_type = request.META.get("CONTENT_TYPE", "")
        if request.method in ("POST", "PUT", "PATCH") and content_type.startswith(self.FORM_TYPES):
            try:
                request.POST  # noqa: B018  (parse now, with the charset the client named)
                for values in request.POST.lists():
                    for value in values[1]:
                        if "\x00" in value:
                            raise ValueError("NUL character")
            except (UnicodeDecodeError, LookupError, ValueError, BadRequest):
                message = "The request body could not be read: send it as UTF-8 text."
                if request.path.startswith(("/api/", "/fhir/")):
                    return JsonResponse({"detail": message}, status=400)
                return HttpResponse(message, status=400, content_type="text/plain")
        return self.get_response(request)


class ApiNoStoreMiddleware:
    """``Cache-Control: no-store`` on every API and FHIR response: patient data must not stay in
    a browser's or a proxy's cache."""

    PREFIXES = ("/api/", "/fhir/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(self.PREFIXES):
            response["Cache-Control"] = "no-store"
        return response
