"""``POST <resource>/{id}/entered-in-error/ {reason}`` on every correctable record, once.

A resource's viewset adds `EnteredInErrorMixin` (its ``get_queryset`` must include the records
already entered in error, ``Model.all_objects``, so lists show them and a second marking is a
409, not a 404) and its serializer adds `CorrectionFields` with `CORRECTION_FIELDS` in its
``Meta.fields``. The action calls `ivigtrack.corrections.mark_entered_in_error`, the one service.

Answers: 200 with the record as the resource shows it; 400 ``reason`` when it is blank; 403 for a
patient (corrections are staff only) or a role that may not write; 404 for another site's or
patient's record; 409 when the record was marked entered in error already.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action

from ivigtrack.api.viewsets import Conflict
from ivigtrack.corrections import AlreadyEnteredInError, mark_entered_in_error

CORRECTION_FIELDS = ["entered_in_error", "entered_in_error_reason", "entered_in_error_at", "entered_in_error_by"]


class CorrectionFields(serializers.Serializer):
    """The read-only correction of a record (who marked it entered in error, when and why)."""

    entered_in_error = serializers.BooleanField(read_only=True)
    entered_in_error_reason = serializers.CharField(read_only=True)
    entered_in_error_at = serializers.DateTimeField(read_only=True, allow_null=True)
    entered_in_error_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Username of who marked it."
    )


class EnteredInErrorSerializer(serializers.Serializer):
    reason = serializers.CharField(
        allow_blank=True, trim_whitespace=True, help_text="Why the record was entered in error (required)."
    )


class EnteredInErrorMixin:
    # The ``entered-in-error`` action: who may call it are the record's writers (RolePermission);
    # no docstring here, so the schema keeps describing each resource by its own class.

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        shown = getattr(cls, "detail_serializer_class", None) or getattr(cls, "serializer_class", None)
        if shown is None:
            return

        def entered_in_error(self, request, *args, **kw):
            return self.mark_entered_in_error(request)

        entered_in_error.__name__ = "entered_in_error"
        entered_in_error.__doc__ = "Mark the record entered in error: it leaves every rule and score at once."
        routed = action(detail=True, methods=["post"], url_path="entered-in-error")(entered_in_error)
        cls.entered_in_error = extend_schema(
            request=EnteredInErrorSerializer,
            responses={
                200: shown,
                400: OpenApiResponse(description="`reason` is blank."),
                403: OpenApiResponse(description="Patients and roles without write access may not correct records."),
                404: OpenApiResponse(description="No such record in your scope."),
                409: OpenApiResponse(description="The record was marked entered in error already."),
            },
            summary="Mark entered in error",
        )(routed)

    def mark_entered_in_error(self, request):
        obj = self.get_object()
        body = EnteredInErrorSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            mark_entered_in_error(obj, reason=body.validated_data["reason"], actor=request.user)
        except AlreadyEnteredInError as exc:
            raise Conflict(exc.messages[0]) from exc
        return self.output(self.reload(obj))
