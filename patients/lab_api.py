"""REST API v1 for lab results (``labs/``, ``labs/{id}/verify/``, ``labs/panel/``): values in
canonical units, LOINC-coded, with eGFR beside creatinine (split from patients/api.py by topic)."""

from __future__ import annotations

import django_filters
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from ivigtrack.api.corrections import CORRECTION_FIELDS, CorrectionFields, EnteredInErrorMixin
from ivigtrack.api.fields import ApiModelSerializer, PlausibleDateTimeField, PublicIdField
from ivigtrack.api.viewsets import ApiViewSet, CreateMixin, ListRetrieveMixin, UpdateMixin

from . import edits, services
from . import labs as lab_catalogue
from .api import lab_scope, patient_filterset, patient_ref
from .labs import lab_egfr
from .models import LabResult


class LabResultSerializer(CorrectionFields, ApiModelSerializer):
    """A lab value. On input ``unit`` may be omitted (the canonical unit) or another known unit
    (converted); values outside the plausibility gates are refused, doubtful ones stored with
    ``needs_verification``. On output ``value``/``unit`` are canonical (``entered_*`` as sent)."""

    id = PublicIdField()
    patient = patient_ref()
    loinc = serializers.SerializerMethodField()
    value = serializers.FloatField(min_value=-1e9, max_value=1e9)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)
    reference_high = serializers.FloatField(
        min_value=1e-9,
        max_value=1e9,
        required=False,
        allow_null=True,
        help_text="The lab's upper limit, in the value's unit (or reference_unit) on input; canonical on output.",
    )
    reference_low = serializers.FloatField(min_value=0, max_value=1e9, required=False, allow_null=True)
    reference_unit = serializers.CharField(
        max_length=16,
        required=False,
        allow_blank=True,
        allow_null=True,
        write_only=True,
        help_text="Unit of the reference limits when it differs from the value's; an unknown unit is refused.",
    )
    egfr = serializers.SerializerMethodField(help_text="Creatinine only: eGFR (CKD-EPI 2021), mL/min/1.73 m2.")

    class Meta:
        model = LabResult
        fields = [
            "id",
            "patient",
            "test",
            "loinc",
            "value",
            "unit",
            "entered_value",
            "entered_unit",
            "collected_at",
            "reference_high",
            "reference_low",
            "reference_unit",
            "egfr",
            "needs_verification",
            "verification_reason",
            "verified_at",
            "created_at",
            *CORRECTION_FIELDS,
        ]
        read_only_fields = [
            "entered_value",
            "entered_unit",
            "needs_verification",
            "verification_reason",
            "verified_at",
        ]

    def get_loinc(self, obj) -> str:
        return lab_catalogue.LABS[obj.test].loinc

    def get_egfr(self, obj) -> dict | None:
        return lab_egfr(obj)


class LabPanelResultSerializer(serializers.Serializer):
    test = serializers.ChoiceField(choices=LabResult._meta.get_field("test").choices)
    value = serializers.FloatField(min_value=-1e9, max_value=1e9)
    unit = serializers.CharField(max_length=16, required=False, allow_blank=True, allow_null=True)
    reference_high = serializers.FloatField(min_value=1e-9, max_value=1e9, required=False, allow_null=True)


class LabPanelSerializer(serializers.Serializer):
    """Several results of one sample: stored together or not at all."""

    patient = patient_ref()
    collected_at = PlausibleDateTimeField()
    results = LabPanelResultSerializer(many=True, allow_empty=False, max_length=len(lab_catalogue.LABS))


class LabVerifySerializer(serializers.Serializer):
    confirmed = serializers.BooleanField(
        help_text="true: the value enters the rules; false: it is rejected (kept as entered in error)."
    )


class LabResultViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Lab results in canonical units (LOINC-coded). Nurses and clinicians record and edit them
    (PATCH/PUT: checked again as a new result, its verification included)."""

    resource = "lab"
    serializer_class = LabResultSerializer
    patient_read = True
    action_roles = {"verify": {"clinician", "nurse"}, "panel": {"clinician", "nurse"}}
    filterset_class = patient_filterset(
        "LabResultFilterSet",
        LabResult,
        {
            "test": django_filters.ChoiceFilter(choices=LabResult._meta.get_field("test").choices),
            "needs_verification": django_filters.BooleanFilter(),
        },
        date_field="collected_at",
    )

    def get_queryset(self):
        return lab_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        return services.lab_record(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return edits.lab_update(actor=self.request.user, lab=obj, **data)

    @extend_schema(
        request=LabPanelSerializer,
        responses={201: LabResultSerializer(many=True)},
        summary="Record a panel: several results of one sample, in one transaction",
    )
    @action(detail=False, methods=["post"])
    def panel(self, request):
        parsed = LabPanelSerializer(data=request.data, context=self.get_serializer_context())
        parsed.is_valid(raise_exception=True)
        data = parsed.validated_data
        results = [{key: value for key, value in row.items() if value not in (None, "")} for row in data["results"]]
        try:
            labs = services.lab_panel_record(
                actor=request.user, patient=data["patient"], collected_at=data["collected_at"], results=results
            )
        except DjangoValidationError as exc:
            messages = exc.message_dict if hasattr(exc, "error_dict") else {"results": exc.messages}
            top = {key: value for key, value in messages.items() if key in ("collected_at", "results", "patient")}
            by_test = {key: value for key, value in messages.items() if key not in top}
            if by_test:  # DRF's shape for a list: one entry per result, in the order sent
                top["results"] = [
                    {"value": by_test[result["test"]]} if result["test"] in by_test else {} for result in results
                ]
            raise serializers.ValidationError(top) from exc
        saved = self.get_queryset().filter(pk__in=[lab.pk for lab in labs]).order_by("test")
        return Response(LabResultSerializer(saved, many=True, context=self.get_serializer_context()).data, status=201)

    @extend_schema(
        request=LabVerifySerializer,
        responses={200: LabResultSerializer, 204: OpenApiResponse(description="Rejected: the value was deleted.")},
        summary="Confirm or reject a value stored as needs_verification",
    )
    @action(detail=True, methods=["post"])
    def verify(self, request, id=None):
        lab = self.get_object()
        parsed = LabVerifySerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        kept = services.lab_verify(actor=request.user, lab=lab, confirmed=parsed.validated_data["confirmed"])
        if kept is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return self.output(self.reload(kept))
