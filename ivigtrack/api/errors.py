"""One error shape for the API: DRF's, with Django ValidationErrors mapped to 400."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from ivigtrack.duplicates import DuplicateRecord


def exception_handler(exc, context):
    if isinstance(exc, DuplicateRecord):
        detail = exc.messages[0]
        return Response({"detail": detail, "code": "duplicate", "existing": exc.existing_id}, status=409)
    if isinstance(exc, DjangoValidationError):
        if hasattr(exc, "message_dict"):
            detail = {("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()}
        else:
            detail = {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(detail=detail)
    return drf_exception_handler(exc, context)
