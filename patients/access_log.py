""" "Who looked at my record": every staff read of the patient's own record, from the audit —
reads of their pages and records, and the lists and searches that showed them. When, the
reader's role (and site, where the clinic records one); the reader's name only when
``IVIGTRACK_SHOW_READER_NAMES`` is on. Portal page ``/portal/access-log/`` and
``GET /api/v1/me/access-log/``."""

from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import ListAPIView

from ivigtrack.audit.models import AuditEvent, AuditEventPatient
from ivigtrack.web.decorators import patient_required

from .pages import no_record, portal_patient
from .selectors import patient_for_user

READ = (
    Q(action__endswith=".view")
    | Q(action__endswith=".list")
    | Q(action__endswith=".search")
    | Q(action__in=["admin.history", "fhir.search"])
)
WHAT = {
    "patient.view": "Opened your record",
    "patient.search": "Searched patients and found you",
    "patient.list": "Listed patients, including you",
    "worklist.view": "Worklist showing you",
    "sweep.view": "Review page showing you",
    "fhir.search": "Searched records (FHIR)",
    "flag.view": "Opened one of your review flags",
    "admin.view": "Opened your record in the admin",
    "admin.list": "Admin list including you",
    "admin.history": "Opened a record's history in the admin",
}


def record_reads(patient):
    """Staff reads of ``patient``'s record, newest first (not the patient's own reads)."""
    shown = AuditEventPatient.objects.filter(patient_id=patient.pk).values("event_id")
    return (
        AuditEvent.objects.filter(READ)
        .filter(Q(patient_id=patient.pk) | Q(pk__in=shown))
        .filter(actor__isnull=False)
        .exclude(actor_id=patient.user_id)
        .select_related("actor")
        .order_by("-at", "-id")
    )


def reader_role(actor) -> str:
    if actor is None:
        return "clinic"
    if actor.is_superuser:
        return "clinic administrator"
    return actor.get_role_display().lower()


def reader_site(event) -> str | None:
    site = getattr(event.actor, "site", None) or (event.detail or {}).get("site")
    return str(site) if site else None


def describe(event) -> dict:
    row = {
        "at": event.at,
        "role": reader_role(event.actor),
        "site": reader_site(event),
        "what": WHAT.get(event.action, "Looked at your record"),
    }
    if settings.IVIGTRACK_SHOW_READER_NAMES:
        row["name"] = event.actor.get_full_name() or event.actor.get_username()
    return row


@never_cache
@patient_required
def portal_access_log(request: HttpRequest) -> HttpResponse:
    patient = portal_patient(request)
    if patient is None:
        return no_record(request)
    page = Paginator(record_reads(patient), 50).get_page(request.GET.get("page"))
    context = {
        "patient": patient,
        "page": page,
        "rows": [describe(event) for event in page],
        "show_names": settings.IVIGTRACK_SHOW_READER_NAMES,
    }
    return render(request, "portal/access_log.html", context)


class AccessLogEntrySerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    role = serializers.CharField()
    site = serializers.CharField(allow_null=True)
    what = serializers.CharField()
    name = serializers.CharField(required=False, help_text="Only when the clinic shows readers' names.")


class AccessLogView(ListAPIView):
    """``GET /api/v1/me/access-log/``: a patient's own record reads, newest first (paginated)."""

    serializer_class = AccessLogEntrySerializer
    queryset = AuditEvent.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator
            return AuditEvent.objects.none()
        user = self.request.user
        if not getattr(user, "is_patient_user", False):
            raise PermissionDenied("Only a patient has an access log of their own record.")
        patient = patient_for_user(user)
        if patient is None:
            raise NotFound("No patient record is linked to this login.")
        return record_reads(patient)

    @extend_schema(
        tags=["me"],
        summary="Who looked at my record",
        responses={
            200: AccessLogEntrySerializer(many=True),
            401: OpenApiResponse(description="No valid token or session"),
            403: OpenApiResponse(description="Not a patient"),
            404: OpenApiResponse(description="No patient record is linked to this login"),
        },
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response([describe(event) for event in page])
