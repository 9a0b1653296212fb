"""REST API v1 for what the records mean and who must act (docs/api.md).

- ``patients/``: the patient record with its current ``risk`` (annotated in the list query by
  ``risk.selectors.patients_with_risk``: no query per row), ``?tier=``, ``?q=``, ``?active=``;
  ``patients/{id}/assess/`` (POST, staff) and ``patients/{id}/risk/?as_of=`` (GET, computed).
- ``assessments/``: read-only, newest first.
- ``flags/``: staff only; ``acknowledge``, ``snooze``, ``unsnooze`` and ``resolve`` call the flag
  services. A lost race (someone else changed the flag first) is a 409. ``suppressed_until`` (read
  only): how long a "not indicated" or "declined" keeps the rule quiet.
- ``symptom-reports/``: the report (``patients.api``) with the ``flag`` it raised or joined and
  its ``clinic_status``, from the same query as the rows.
- ``flag-stats/?from=&to=&rule=``: staff only; alert governance, per rule (``risk.stats``).

Patients read their own record, risk and assessments; flags are the clinic's worklist and
stay with staff (403 for a patient).
"""

from __future__ import annotations

from datetime import timedelta

import django_filters
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.response import Response

from ivigtrack.api.fields import ApiModelSerializer, PatientRef, PlausibleDateTimeField, PublicIdField, ScopedRef
from ivigtrack.api.viewsets import ApiAutoSchema, ApiViewSet, Conflict, ListRetrieveMixin
from patients.api import (
    PatientBaseFilterSet,
    PatientBaseSerializer,
    PatientBaseViewSet,
    SymptomReportBaseSerializer,
    SymptomReportBaseViewSet,
    patient_filterset,
)

from . import selectors, stats
from .models import CLINIC_STATUSES, STAFF_RESOLUTIONS, FlagReport, ReviewFlag, RiskAssessment, Tier
from .services import assessment as assessment_services
from .services import flags as flag_services

# --- shared shapes ---------------------------------------------------------------------------


class RiskSummarySerializer(serializers.Serializer):
    score = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    provisional = serializers.BooleanField(help_text="Inputs were missing: the tier may be higher.")
    assessed_at = serializers.DateTimeField()


class FactorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="ITRS item, e.g. P1, S2, E1, T4")
    label = serializers.CharField()
    component = serializers.CharField(help_text="hypercoagulability | stasis | vessel_injury | arterial")
    points = serializers.IntegerField()
    evidence = serializers.CharField()
    fda_listed = serializers.BooleanField(default=False)


class RiskResultFieldsMixin(serializers.Serializer):
    ruleset = serializers.CharField()
    as_of = serializers.DateTimeField()
    score = serializers.IntegerField()
    tier = serializers.ChoiceField(choices=Tier.choices)
    provisional = serializers.BooleanField()
    missing = serializers.ListField(child=serializers.CharField())
    components = serializers.DictField(child=serializers.IntegerField())
    factors = FactorSerializer(many=True)
    overrides = serializers.ListField(child=serializers.DictField())
    recommendations = serializers.ListField(child=serializers.DictField())
    notes = serializers.ListField(child=serializers.CharField())
    dic_score = serializers.IntegerField(allow_null=True)
    secondary = serializers.DictField()


class RiskResultSerializer(RiskResultFieldsMixin):
    """The assessment at an instant, computed and not stored."""

    patient = serializers.UUIDField()
    stored = serializers.BooleanField(help_text="Always false: computed on request.")


# --- patients (with risk) --------------------------------------------------------------------------


_DATETIME = serializers.DateTimeField()  # one field for every row's assessed_at


class PatientSerializer(PatientBaseSerializer):
    risk = serializers.SerializerMethodField()

    class Meta(PatientBaseSerializer.Meta):
        fields = [*PatientBaseSerializer.Meta.fields, "risk"]

    @extend_schema_field(RiskSummarySerializer(allow_null=True))
    def get_risk(self, obj):
        """The current assessment (null until the first one)."""
        if getattr(obj, "risk_tier", None) is None:
            return None
        return {
            "score": obj.risk_score,
            "tier": obj.risk_tier,
            "provisional": obj.risk_provisional,
            "assessed_at": _DATETIME.to_representation(obj.risk_assessed_at),
        }


class PatientFilterSet(PatientBaseFilterSet):
    tier = django_filters.ChoiceFilter(field_name="risk_tier", choices=Tier.choices, label="Current risk tier")

    class Meta(PatientBaseFilterSet.Meta):
        pass


class RiskQuerySerializer(serializers.Serializer):
    as_of = PlausibleDateTimeField(required=False, help_text="ISO 8601 instant; default now.")


class AssessmentSerializer(ApiModelSerializer):
    id = PublicIdField()
    patient = PatientRef()
    missing = serializers.ListField(child=serializers.CharField(), read_only=True)
    components = serializers.DictField(child=serializers.IntegerField(), read_only=True)
    factors = FactorSerializer(many=True, read_only=True)
    overrides = serializers.ListField(child=serializers.DictField(), read_only=True)
    recommendations = serializers.ListField(child=serializers.DictField(), read_only=True)
    notes = serializers.ListField(child=serializers.CharField(), read_only=True)
    secondary = serializers.DictField(read_only=True)

    class Meta:
        model = RiskAssessment
        fields = [
            "id",
            "patient",
            "assessed_at",
            "as_of",
            "ruleset",
            "score",
            "tier",
            "provisional",
            "missing",
            "components",
            "factors",
            "overrides",
            "recommendations",
            "notes",
            "dic_score",
            "secondary",
            "tier_rose_at",
            "is_current",
        ]
        read_only_fields = fields


class AssessmentDetailSerializer(AssessmentSerializer):
    inputs = serializers.DictField(read_only=True, help_text="The snapshot the score was computed from.")

    class Meta(AssessmentSerializer.Meta):
        fields = [*AssessmentSerializer.Meta.fields, "inputs"]
        read_only_fields = fields


class AssessmentFailed(APIException):
    status_code = 503
    default_detail = "The assessment could not be computed now; the next sweep will retry."
    default_code = "assessment_failed"


class PatientViewSet(PatientBaseViewSet):
    """Patients with their current risk. Clinicians write (a nurse may PATCH the weight);
    a patient reads only their own record."""

    serializer_class = PatientSerializer
    filterset_class = PatientFilterSet
    action_roles = {"assess": {"clinician", "nurse"}, "risk": {"clinician", "nurse", "patient"}}

    def get_queryset(self):
        return (
            selectors.patients_with_risk(self.request.user)
            .select_related("user")
            .order_by("family_name", "given_name", "id")
        )

    @extend_schema(request=None, responses={200: AssessmentDetailSerializer}, summary="Assess now")
    @action(detail=True, methods=["post"])
    def assess(self, request, id=None):
        """Assess the patient now, reconcile their flags, and return the current assessment."""
        patient = self.get_object()
        assessment = assessment_services.patient_assess(patient, actor=request.user)
        if assessment is None:
            raise AssessmentFailed()
        return Response(AssessmentDetailSerializer(assessment, context=self.get_serializer_context()).data)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "as_of",
                OpenApiTypes.DATETIME,
                description="ISO 8601 instant (default now); computed, not stored.",
                required=False,
            )
        ],
        responses={200: RiskResultSerializer},
        summary="Risk at an instant",
    )
    @action(detail=True, methods=["get"])
    def risk(self, request, id=None):
        """The ITRS result at ``as_of``, computed from the records as they stand (not stored)."""
        patient = self.get_object()
        query = RiskQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        as_of = query.validated_data.get("as_of") or timezone.now()
        if as_of.date() < patient.date_of_birth:
            raise serializers.ValidationError({"as_of": ["Before the patient's date of birth."]})
        if as_of > timezone.now() + timedelta(days=366):
            raise serializers.ValidationError({"as_of": ["At most one year ahead."]})
        result = assessment_services.assess_at(patient, as_of)
        self.audit_read(patient=patient, obj=patient, detail={"resource": "risk", "as_of": as_of.isoformat()})
        data = {**result.as_dict(), "patient": patient.public_id, "stored": False, "as_of": result.as_of}
        return Response(RiskResultSerializer(data).data)


# --- symptom reports (with their flag) --------------------------------------------------------------


class SymptomReportSerializer(SymptomReportBaseSerializer):
    flag = serializers.SerializerMethodField()
    clinic_status = serializers.SerializerMethodField()

    class Meta(SymptomReportBaseSerializer.Meta):
        fields = [*SymptomReportBaseSerializer.Meta.fields, "flag", "clinic_status"]

    @extend_schema_field(serializers.UUIDField(allow_null=True))
    def get_flag(self, obj):
        """The symptom alert this report raised or joined; null for a routine report that found
        no alert open (the team reviews it at the next contact)."""
        link = _alert_link(obj)
        return None if link is None else link.flag.public_id

    @extend_schema_field(serializers.ChoiceField(choices=CLINIC_STATUSES))
    def get_clinic_status(self, obj) -> str:
        """What the clinic has done with the report, as the patient may be told it."""
        link = _alert_link(obj)
        return "not_alerted" if link is None else link.clinic_status


def _alert_link(report) -> FlagReport | None:
    try:
        return report.alert_link
    except FlagReport.DoesNotExist:
        return None


class SymptomReportViewSet(SymptomReportBaseViewSet):
    """Symptom reports with the flag each is on. Staff record them; a patient reports their own."""

    serializer_class = SymptomReportSerializer

    def get_queryset(self):
        return super().get_queryset().select_related("alert_link__flag")  # one LEFT JOIN, no query per row


# --- assessments ------------------------------------------------------------------------------------


class AssessmentViewSet(ListRetrieveMixin, ApiViewSet):
    """Stored assessments, newest first (a new row only when the result changed)."""

    resource = "assessment"
    serializer_class = AssessmentSerializer
    detail_serializer_class = AssessmentDetailSerializer
    patient_read = True
    filterset_class = patient_filterset(
        "AssessmentFilterSet",
        RiskAssessment,
        {
            "tier": django_filters.ChoiceFilter(choices=Tier.choices),
            "current": django_filters.BooleanFilter(field_name="is_current"),
        },
        date_field="assessed_at",
    )

    def get_queryset(self):
        return selectors.assessment_scope(self.request.user).order_by("-assessed_at", "-id")


# --- flags ----------------------------------------------------------------------------------------------


# The same codes as a symptom report's triage, labelled as what staff must do.
PRIORITIES = [
    ("emergency", "Emergency: act now"),
    ("urgent", "Urgent: same or next working day"),
    ("routine", "Routine: before the next course or within weeks"),
]


class FlagSerializer(ApiModelSerializer):
    id = PublicIdField()
    patient = PatientRef()
    acknowledged_by = serializers.CharField(source="acknowledged_by.username", read_only=True, allow_null=True)
    resolved_by = serializers.CharField(source="resolved_by.username", read_only=True, allow_null=True)
    priority = serializers.ChoiceField(choices=PRIORITIES, read_only=True)
    resolution = serializers.ChoiceField(
        choices=ReviewFlag.Resolution.choices, allow_blank=True, read_only=True, help_text="Blank until resolved."
    )
    evidence = serializers.DictField(read_only=True)

    class Meta:
        model = ReviewFlag
        fields = [
            "id",
            "patient",
            "kind",
            "rule",
            "priority",
            "status",
            "reason",
            "evidence",
            "raised_at",
            "due_at",
            "escalated_at",
            "acknowledged_by",
            "acknowledged_at",
            "snoozed_until",
            "snooze_reason",
            "resolved_by",
            "resolved_at",
            "resolution",
            "note",
            "suppressed_until",
        ]
        read_only_fields = fields


NOTE = {"required": False, "allow_blank": True, "max_length": 2000, "default": ""}


class FlagAcknowledgeSerializer(serializers.Serializer):
    note = serializers.CharField(**NOTE)


class FlagBulkAcknowledgeSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        allow_empty=False,
        max_length=flag_services.BULK_ACKNOWLEDGE_MAX,
        help_text=f"Flag ids, at most {flag_services.BULK_ACKNOWLEDGE_MAX}. Ids you may not see are ignored.",
    )
    note = serializers.CharField(**NOTE)


class FlagBulkAcknowledgeResultSerializer(serializers.Serializer):
    acknowledged = FlagSerializer(many=True)
    skipped = serializers.ListField(
        child=serializers.UUIDField(), help_text="Already acknowledged, snoozed or resolved: left as they are."
    )


class FlagSnoozeSerializer(serializers.Serializer):
    until = PlausibleDateTimeField(
        help_text="When the flag comes back (future, at most snooze_max_days, 28 by default; not for emergencies)."
    )
    reason = serializers.CharField(**NOTE, help_text="Why it is snoozed (required; `note` is read when this is empty).")
    note = serializers.CharField(**NOTE)
    past_due_ok = serializers.BooleanField(
        default=False, help_text="Snooze past the flag's due time on purpose (recorded in the audit)."
    )


class FlagResolveSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=STAFF_RESOLUTIONS)
    note = serializers.CharField(**NOTE, help_text="Required for not_indicated and declined.")
    review = ScopedRef(
        selectors.haematology_review_scope,
        "haematology review",
        required=False,
        allow_null=True,
        default=None,
        help_text="A HaematologyReview id: required to complete a hematology_review flag (400 without one).",
    )


class FlagUnsnoozeSerializer(serializers.Serializer):
    pass


STAFF = {"clinician", "nurse"}


class FlagViewSet(ListRetrieveMixin, ApiViewSet):
    """Review flags (the staff worklist), most urgent first. Staff only."""

    resource = "flag"
    serializer_class = FlagSerializer
    patient_read = False
    action_roles = {
        "acknowledge": STAFF,
        "acknowledge_many": STAFF,
        "snooze": STAFF,
        "unsnooze": STAFF,
        "resolve": STAFF,
    }
    filterset_class = patient_filterset(
        "FlagFilterSet",
        ReviewFlag,
        {
            "status": django_filters.ChoiceFilter(choices=ReviewFlag.Status.choices),
            "kind": django_filters.ChoiceFilter(choices=ReviewFlag.Kind.choices),
            "priority": django_filters.ChoiceFilter(choices=ReviewFlag.Priority.choices),
        },
    )

    def get_queryset(self):
        return selectors.flag_scope(self.request.user).order_by("priority_rank", "due_at", "id")

    def _change(self, request, service, parser, **extra):
        flag = self.get_object()
        parsed = parser(data=request.data, context=self.get_serializer_context())
        parsed.is_valid(raise_exception=True)
        try:
            flag = service(flag=flag, actor=request.user, **parsed.validated_data, **extra)
        except flag_services.FlagConflict as exc:
            raise Conflict(str(exc)) from exc
        except flag_services.FlagPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return self.output(self.reload(flag))

    @extend_schema(request=FlagAcknowledgeSerializer, responses={200: FlagSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def acknowledge(self, request, id=None):
        """Someone is on it (open flags only)."""
        return self._change(request, flag_services.flag_acknowledge, FlagAcknowledgeSerializer)

    @extend_schema(
        operation_id="v1_flags_acknowledge_many",
        request=FlagBulkAcknowledgeSerializer,
        responses={200: FlagBulkAcknowledgeResultSerializer},
    )
    @action(detail=False, methods=["post"], url_path="acknowledge")
    def acknowledge_many(self, request):
        """Acknowledge several open flags at once (one audit row per flag); those someone else
        changed first are returned in ``skipped``."""
        parsed = FlagBulkAcknowledgeSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        flags = selectors.flag_scope(request.user).filter(public_id__in=parsed.validated_data["ids"])
        done, skipped = flag_services.flags_acknowledge_many(
            flags=flags, actor=request.user, note=parsed.validated_data["note"]
        )
        acknowledged = self.get_queryset().filter(pk__in=[flag.pk for flag in done])
        context = self.get_serializer_context()
        return Response(
            {
                "acknowledged": FlagSerializer(acknowledged, many=True, context=context).data,
                "skipped": [flag.public_id for flag in skipped],
            }
        )

    @extend_schema(request=FlagSnoozeSerializer, responses={200: FlagSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def snooze(self, request, id=None):
        """Hide until ``until``; it comes back then, or at once if its kind escalates."""
        return self._change(request, flag_services.flag_snooze, FlagSnoozeSerializer)

    @extend_schema(request=None, responses={200: FlagSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def unsnooze(self, request, id=None):
        """Bring a snoozed flag back now (clinicians)."""
        return self._change(request, flag_services.flag_unsnooze, FlagUnsnoozeSerializer)

    @extend_schema(request=FlagResolveSerializer, responses={200: FlagSerializer, 409: None})
    @action(detail=True, methods=["post"])
    def resolve(self, request, id=None):
        """Close the flag (clinicians). ``not_indicated`` and ``declined`` need a note and keep the
        same rule quiet until ``suppressed_until`` unless something new or worse happens."""
        return self._change(request, flag_services.flag_resolve, FlagResolveSerializer)


# --- alert governance ------------------------------------------------------------------------------


class FlagStatsQuerySerializer(serializers.Serializer):
    """``?from=&to=&rule=`` (``from`` is a Python keyword, so the fields are named in get_fields)."""

    def get_fields(self):
        return {
            "from": serializers.DateField(required=False, help_text="First day (default: 12 months before `to`)."),
            "to": serializers.DateField(required=False, help_text="Last day, included (default: today)."),
            "rule": serializers.CharField(
                required=False, allow_blank=True, max_length=20, default="", help_text="One rule, e.g. CLOT-BASELINE."
            ),
        }


class RuleStatsSerializer(serializers.Serializer):
    rule = serializers.CharField()
    raised = serializers.IntegerField()
    escalated = serializers.IntegerField()
    acknowledged = serializers.IntegerField()
    median_seconds_to_acknowledge = serializers.FloatField(
        source="median_seconds", allow_null=True, help_text="Null when none was acknowledged."
    )
    resolved = serializers.DictField(
        child=serializers.IntegerField(), help_text="Per resolution (every value, 0 included)."
    )
    snoozed = serializers.IntegerField(help_text="Snoozed at least once.")
    suppressed = serializers.IntegerField(help_text="Resolved as not_indicated or declined.")
    re_raised_30d = serializers.IntegerField(
        source="re_raised",
        help_text=f"Raised within {stats.RE_RAISE_DAYS} days after an earlier flag of the same patient and rule "
        "was resolved.",
    )
    open_past_due = serializers.IntegerField(help_text="Still unresolved and past due now.")


class FlagStatsSerializer(serializers.Serializer):
    def get_fields(self):
        return {
            "from": serializers.DateField(),
            "to": serializers.DateField(),
            "rule": serializers.CharField(allow_blank=True),
            "results": RuleStatsSerializer(many=True),
        }


class _OneObjectSchema(ApiAutoSchema):
    """flag-stats/ answers one object (the period and its rows), though its action is `list`."""

    def _is_list_view(self, serializer=None) -> bool:
        return False


class FlagStatsViewSet(ApiViewSet):
    """Alert governance: per rule, what became of the flags raised in the period
    (whole days in the clinic's time zone). Staff only. One aggregate query, whatever the
    number of flags."""

    resource = "flag-stats"
    patient_read = False
    schema = _OneObjectSchema()
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[FlagStatsQuerySerializer],
        responses={200: FlagStatsSerializer, 400: None, 401: None, 403: None},
        summary="Alert governance per rule",
    )
    def list(self, request):
        query = FlagStatsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        period = stats.stats_period(params.get("from"), params.get("to"))
        rule = stats.check_rule(params.get("rule", ""))
        results = stats.flag_stats(request.user, period, rule=rule)
        self.audit_read()
        body = {"from": period.first, "to": period.last, "rule": rule, "results": results}
        return Response(FlagStatsSerializer(body).data)
