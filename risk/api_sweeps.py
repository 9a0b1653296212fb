"""``sweeps/``: the review sweeps, read-only, for staff: each run's status and counters (the sum
of its chunks') with its chunk ledger. A patient gets 403. Not a patient record: not audited."""

from __future__ import annotations

from django.db.models import Prefetch
from rest_framework import serializers

from ivigtrack.api.fields import ApiModelSerializer, PublicIdField
from ivigtrack.api.viewsets import ApiViewSet, ListRetrieveMixin

from .models import SweepChunk, SweepRun


class SweepChunkSerializer(serializers.ModelSerializer):
    patient_count = serializers.SerializerMethodField()

    class Meta:
        model = SweepChunk
        fields = [
            *("index", "status", "attempts", "patient_count", "started_at", "finished_at", "updated_at", "error"),
            *("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors"),
        ]
        read_only_fields = fields

    def get_patient_count(self, chunk) -> int:
        return len(chunk.patient_ids)


class SweepRunSerializer(ApiModelSerializer):
    id = PublicIdField()
    chunks = SweepChunkSerializer(many=True, read_only=True)

    class Meta:
        model = SweepRun
        fields = [
            *("id", "status", "trigger", "full", "started_at", "finished_at", "stale_at", "failure"),
            *("chunks_total", "chunks_done", "chunks_failed", "requeued"),
            *("patients", "assessments_changed", "flags_raised", "flags_escalated", "flags_resolved", "errors"),
            *("error_detail", "chunks"),
        ]
        read_only_fields = fields


class SweepViewSet(ListRetrieveMixin, ApiViewSet):
    """Review sweeps, newest first, each with its chunks (two queries a page)."""

    resource = "sweep"
    serializer_class = SweepRunSerializer
    patient_read = False
    filterset_fields = ["status"]

    def get_queryset(self):
        chunks = SweepChunk.objects.defer("error_detail").order_by("index")
        return SweepRun.objects.order_by("-started_at", "-id").prefetch_related(Prefetch("chunks", queryset=chunks))

    def audit_read(self, **kwargs) -> None:  # sweeps are not patient records
        return None
