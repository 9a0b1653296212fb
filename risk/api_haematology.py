"""REST API v1 ``haematology-reviews/`` (docs/api.md): what a haematologist decided.

``?patient=`` filters; POST (clinicians) records a review and, with ``flag``, completes that open
hematology_review flag in the same transaction. Patients read their own; reads are audited.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from ivigtrack.api.fields import ApiModelSerializer, PublicIdField, ScopedRef
from ivigtrack.api.viewsets import ApiViewSet, CreateMixin, ListRetrieveMixin
from patients.api import patient_filterset, patient_ref

from .models import HaematologyReview
from .selectors import flag_scope, haematology_review_scope
from .services import haematology as services


def _staff_logins():
    return get_user_model().objects.filter(role__in=("clinician", "nurse"), is_active=True)


class HaematologyReviewSerializer(ApiModelSerializer):
    id = PublicIdField()
    patient = patient_ref()
    reviewer = serializers.SlugRelatedField(
        slug_field="username",
        queryset=_staff_logins(),
        required=False,
        allow_null=True,
        help_text="The reviewing haematologist's username, when they use ivigtrack (default: you, "
        "unless reviewer_name is given).",
    )
    reviewer_label = serializers.CharField(read_only=True, help_text="Who reviewed, in words.")
    flag = ScopedRef(
        flag_scope,
        "flag",
        required=False,
        allow_null=True,
        help_text="The open hematology_review flag this review completes (optional).",
    )
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, allow_null=True)

    class Meta:
        model = HaematologyReview
        fields = [
            "id",
            "patient",
            "reviewed_on",
            "reviewer",
            "reviewer_name",
            "reviewer_label",
            "anticoagulation_plan",
            "ivig_plan",
            "thrombophilia_testing",
            "next_review_on",
            "note",
            "flag",
            "recorded_by",
            "created_at",
        ]
        read_only_fields = ["created_at"]

    def get_fields(self):
        fields = super().get_fields()
        fields["reviewer"].queryset = _staff_logins()
        return fields

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["flag"] = str(instance.flag.public_id) if instance.flag_id else None
        return data


class HaematologyReviewViewSet(ListRetrieveMixin, CreateMixin, ApiViewSet):
    """Recorded haematology reviews, newest first. Clinicians record; patients read their own."""

    resource = "haematology_review"
    serializer_class = HaematologyReviewSerializer
    write_roles = {"clinician"}
    patient_read = True
    filterset_class = patient_filterset("HaematologyReviewFilterSet", HaematologyReview)

    def get_queryset(self):
        return haematology_review_scope(self.request.user)

    def perform_create(self, data):
        return services.haematology_review_record(actor=self.request.user, **data)
