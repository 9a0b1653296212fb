"""REST API v1 for who the patient is and their history (docs/api.md).

Resources: the patient record (extended with its risk in ``risk/api.py``), ``conditions/``,
``vascular-access/``, ``thrombosis-events/``, ``labs/`` and ``symptom-reports/`` (extended with
their flag in ``risk/api.py``). Reads come from the scoped selectors; writes go through
``patients.services``. Serializers parse and shape only; the services validate, save
atomically, audit and trigger re-assessment.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Q
from rest_framework import serializers
from rest_framework.exceptions import NotFound

from ivigtrack.api.corrections import CORRECTION_FIELDS, CorrectionFields, EnteredInErrorMixin
from ivigtrack.api.fields import ApiModelSerializer, PlausibleDateTimeField, PublicIdField, ScopedRef
from ivigtrack.api.filters import date_range_filters, filterset
from ivigtrack.api.permissions import role_of
from ivigtrack.api.viewsets import ApiViewSet, CreateMixin, ListRetrieveMixin, UpdateMixin

from . import edits, services
from . import symptoms as symptom_catalogue
from .models import (
    CHILD_HEIGHT_RANGE_CM,
    CHILD_WEIGHT_RANGE_KG,
    Condition,
    LabResult,
    Patient,
    SymptomReport,
    ThrombosisEvent,
    VascularAccess,
)
from .selectors import at_site, patient_for_user, patient_scope, scoped
from .site_api import CareTeamField, SiteRef

# --- scopes (what the caller may see; another patient's row is simply absent) -------------


# ``corrected=True`` (the resources' own lists and lookups) includes the records entered in error,
# shown with their correction; references from other records (``ScopedRef``) never pick one.


def records(model, corrected: bool):
    if corrected:
        return model.all_objects.select_related("entered_in_error_by")
    return model.objects.all()


def condition_scope(user, *, corrected: bool = False):
    return scoped(records(Condition, corrected).select_related("patient"), user).order_by("-onset_date", "-id")


def vascular_access_scope(user, *, corrected: bool = False):
    return scoped(records(VascularAccess, corrected).select_related("patient"), user).order_by("-inserted_on", "-id")


def thrombosis_event_scope(user, *, corrected: bool = False):
    return scoped(records(ThrombosisEvent, corrected).select_related("patient", "vascular_access"), user).order_by(
        "-diagnosed_on", "-id"
    )


def lab_scope(user, *, corrected: bool = False):
    return scoped(records(LabResult, corrected).select_related("patient"), user).order_by("-collected_at", "-id")


def symptom_report_scope(user, *, corrected: bool = False):
    return scoped(records(SymptomReport, corrected).select_related("patient"), user).order_by("-reported_at", "-id")


def patient_ref(**kwargs) -> ScopedRef:
    return ScopedRef(patient_scope, "patient", **kwargs)


def own_or_given_patient(user, given: Patient | None) -> Patient:
    """The patient a write is about: a patient user may omit it (it is theirs); staff must give it."""
    if given is not None:
        return given
    if role_of(user) == "patient":
        own = patient_for_user(user)
        if own is None:
            raise serializers.ValidationError({"patient": ["No patient record is linked to your login."]})
        return own
    raise serializers.ValidationError({"patient": ["This field is required."]})


# --- filters ---------------------------------------------------------------------------------


class ByPatientFilterSet(django_filters.FilterSet):
    """``?patient=<uuid>``: a patient outside the caller's scope is a 404, never an empty list."""

    patient = django_filters.UUIDFilter(method="filter_patient", label="Patient id (UUID)")

    def filter_patient(self, queryset, name, value):
        patient = patient_scope(self.request.user).filter(public_id=value).first()
        if patient is None:
            raise NotFound("No such patient.")
        self.request.api_patient = patient  # the staff read is audited against this patient
        return queryset.filter(patient=patient)


def patient_filterset(name: str, model, filters: dict | None = None, *, date_field: str | None = None):
    extra = dict(filters or {})
    if date_field:
        extra.update(date_range_filters(date_field))
    return filterset(name, model, extra, base=ByPatientFilterSet)


# --- patients ----------------------------------------------------------------------------------

_BODY = {
    "height_cm": {"min_value": Decimal(CHILD_HEIGHT_RANGE_CM[0]), "max_value": Decimal(CHILD_HEIGHT_RANGE_CM[1])},
    "weight_kg": {
        "min_value": Decimal(CHILD_WEIGHT_RANGE_KG[0]),
        "max_value": Decimal(CHILD_WEIGHT_RANGE_KG[1]),
        "help_text": "Current weight. A new value is recorded in the weight history.",
    },
    "weight_measured_on": {"help_text": "When weight_kg was measured (default today)."},
}


def portal_logins():
    return get_user_model().objects.filter(role="patient", is_superuser=False, is_active=True)


class UsernameField(serializers.SlugRelatedField):
    """A username reference; a NUL byte (which PostgreSQL text cannot hold) is a 400, not a 500."""

    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value="(contains a NUL character)")
        return super().to_internal_value(data)


class PatientBaseSerializer(ApiModelSerializer):
    """The record (docs/records.md) with the derived body sizes; ``risk/api.py`` adds ``risk``."""

    id = PublicIdField()
    user = UsernameField(
        slug_field="username",
        queryset=portal_logins(),
        required=False,
        allow_null=True,
        help_text="The patient's portal login (username of a patient-role user), if any.",
    )
    site = SiteRef(
        required=False,
        help_text="The home site's id (GET /api/v1/sites/); default: your only site. Changing it moves the "
        "patient (clinicians only, audited).",
    )
    care_team = CareTeamField(
        required=False, help_text="Usernames of the named staff (of the patient's site) who care for this patient."
    )
    age = serializers.SerializerMethodField()
    bmi = serializers.SerializerMethodField()
    ideal_body_weight = serializers.SerializerMethodField()
    adjusted_body_weight = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "height_cm",
            "weight_kg",
            "weight_measured_on",
            "diagnosis",
            "active",
            "user",
            "site",
            "care_team",
            "age",
            "bmi",
            "ideal_body_weight",
            "adjusted_body_weight",
            "created_at",
            "updated_at",
        ]
        # No UniqueValidator on mrn: patient_create names a taken MRN, as it does for the staff form.
        extra_kwargs = {**_BODY, "mrn": {"validators": []}}

    def validate(self, attrs):
        if "weight_kg" in attrs and attrs["weight_kg"] is None and self.instance is not None:
            raise serializers.ValidationError({"weight_kg": ["A weight cannot be removed; record a new one."]})
        if attrs.get("weight_measured_on") is not None and attrs.get("weight_kg") is None:
            raise serializers.ValidationError({"weight_measured_on": ["Send weight_kg with the date it was measured."]})
        return attrs

    def get_age(self, obj) -> int:
        return obj.age

    def get_bmi(self, obj) -> float | None:
        return _round(obj.bmi)

    def get_ideal_body_weight(self, obj) -> float | None:
        """Devine ideal body weight, kg (risk/README.md, dosing weight)."""
        return _round(obj.ideal_body_weight)

    def get_adjusted_body_weight(self, obj) -> float | None:
        """Dose-determining adjusted body weight, kg (risk/README.md, dosing weight)."""
        return _round(obj.adjusted_body_weight)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


class PatientBaseFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="MRN or name contains")
    active = django_filters.BooleanFilter(field_name="active")
    site = django_filters.CharFilter(method="filter_site", label="Home site: its id or code")
    mine = django_filters.ChoiceFilter(
        method="filter_mine",
        choices=[("1", "1"), ("0", "0"), ("true", "true"), ("false", "false")],
        label="1: only patients whose care team I am in",
    )

    def filter_site(self, queryset, name, value):
        return at_site(queryset, value)

    def filter_mine(self, queryset, name, value):
        return queryset.filter(care_team=self.request.user) if value in ("1", "true") else queryset

    class Meta:
        model = Patient
        fields: list[str] = []

    def search(self, queryset, name, value):
        return queryset.filter(
            Q(mrn__icontains=value) | Q(given_name__icontains=value) | Q(family_name__icontains=value)
        )


class PatientBaseViewSet(ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """The patient record without its risk; ``risk.api.PatientViewSet`` (the one routed at
    ``patients/``) adds the risk."""

    resource = "patient"
    serializer_class = PatientBaseSerializer
    write_roles = {"clinician"}
    nurse_fields = {"weight_kg", "weight_measured_on"}  # a nurse records the weight on the day
    patient_read = True
    filterset_class = PatientBaseFilterSet

    def get_queryset(self):
        return (
            patient_scope(self.request.user)
            .select_related("user", "site")
            .prefetch_related("care_team")
            .order_by("family_name", "given_name", "id")
        )

    def perform_create(self, data):
        # The staff form's path too: the record and its first weight, together or not at all.
        return services.patient_create(actor=self.request.user, **data)

    def perform_update(self, patient, data):
        weight_kg = data.pop("weight_kg", None)
        measured_on = data.pop("weight_measured_on", None)
        with transaction.atomic():
            if data:
                patient = services.patient_update(actor=self.request.user, patient=patient, **data)
            self._record_weight(patient, weight_kg, measured_on)
        return patient

    def _record_weight(self, patient, weight_kg, measured_on) -> None:
        """Weights always go through the weight history (``weight_record``)."""
        if weight_kg is None:
            return
        try:
            services.weight_record(
                actor=self.request.user, patient=patient, weight_kg=weight_kg, measured_on=measured_on
            )
        except DjangoValidationError as exc:
            if not hasattr(exc, "message_dict"):
                raise
            renamed = {"measured_on": "weight_measured_on", "weight_kg": "weight_kg"}
            raise DjangoValidationError(
                {renamed.get(key, key): messages for key, messages in exc.message_dict.items()}
            ) from exc


# --- conditions ----------------------------------------------------------------------------------


class ConditionSerializer(CorrectionFields, ApiModelSerializer):
    id = PublicIdField()
    patient = patient_ref()

    class Meta:
        model = Condition
        fields = [
            "id",
            "patient",
            "code",
            "onset_date",
            "resolved_date",
            "note",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]


class ConditionViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Time-bounded risk background (docs/records.md). Clinicians write; a patient reads their own."""

    resource = "condition"
    serializer_class = ConditionSerializer
    write_roles = {"clinician"}
    patient_read = True
    filterset_class = patient_filterset(
        "ConditionFilterSet", Condition, {"code": django_filters.ChoiceFilter(choices=Condition.Code.choices)}
    )

    def get_queryset(self):
        return condition_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        return services.condition_add(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.condition_update(actor=self.request.user, condition=obj, **data)


# --- vascular access ------------------------------------------------------------------------------


class VascularAccessSerializer(CorrectionFields, ApiModelSerializer):
    id = PublicIdField()
    patient = patient_ref()

    class Meta:
        model = VascularAccess
        fields = [
            "id",
            "patient",
            "kind",
            "vein",
            "side",
            "inserted_on",
            "removed_on",
            "note",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]


class VascularAccessViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Central lines and ports. Nurses and clinicians write."""

    resource = "vascular_access"
    serializer_class = VascularAccessSerializer
    patient_read = True
    filterset_class = patient_filterset("VascularAccessFilterSet", VascularAccess)

    def get_queryset(self):
        return vascular_access_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        return services.vascular_access_add(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.vascular_access_update(actor=self.request.user, access=obj, **data)


# --- thrombosis events ------------------------------------------------------------------------------


class ThrombosisEventSerializer(CorrectionFields, ApiModelSerializer):
    id = PublicIdField()
    patient = patient_ref()
    vascular_access = ScopedRef(vascular_access_scope, "vascular access", required=False, allow_null=True)
    is_arterial = serializers.BooleanField(read_only=True)

    class Meta:
        model = ThrombosisEvent
        fields = [
            "id",
            "patient",
            "kind",
            "status",
            "diagnosed_on",
            "provocation",
            "vascular_access",
            "is_arterial",
            "note",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]


class ThrombosisEventViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Suspected, confirmed or ruled-out thromboses. Clinicians write."""

    resource = "thrombosis_event"
    serializer_class = ThrombosisEventSerializer
    write_roles = {"clinician"}
    patient_read = True
    filterset_class = patient_filterset(
        "ThrombosisEventFilterSet",
        ThrombosisEvent,
        {
            "status": django_filters.ChoiceFilter(choices=ThrombosisEvent.Status.choices),
            "kind": django_filters.ChoiceFilter(choices=ThrombosisEvent.Kind.choices),
        },
    )

    def get_queryset(self):
        return thrombosis_event_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        return services.thrombosis_event_record(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.thrombosis_event_update(actor=self.request.user, event=obj, **data)


# --- symptom reports ---------------------------------------------------------------------------------


class SymptomReportBaseSerializer(CorrectionFields, ApiModelSerializer):
    """A symptom report, triaged on save (``triage``, ``advice``); an emergency or urgent one
    raises its flag at once. A patient may omit ``patient`` (it is theirs). ``risk/api.py`` adds
    the flag it is on and what the clinic has done with it."""

    id = PublicIdField()
    patient = patient_ref(required=False)
    symptoms = serializers.ListField(
        child=serializers.ChoiceField(choices=list(symptom_catalogue.ALL.items())),
        allow_empty=True,
        default=list,
        max_length=len(symptom_catalogue.ALL),
        help_text='At least one for a report; a check-in (`kind` checkin) may name none ("I feel fine").',
    )
    reported_at = PlausibleDateTimeField(required=False, help_text="Default: now.")
    kind = serializers.ChoiceField(
        choices=SymptomReport.Kind.choices,
        default=SymptomReport.Kind.REPORT,
        help_text="`checkin`: the answer to the portal's check-in on day 1 or 7 after a course.",
    )

    class Meta:
        model = SymptomReport
        fields = [
            "id",
            "patient",
            "reported_at",
            "kind",
            "symptoms",
            "note",
            "source",
            "triage",
            "advice",
            "days_since_infusion",
            "created_at",
            *CORRECTION_FIELDS,
        ]
        read_only_fields = ["source", "triage", "advice", "days_since_infusion"]


class SymptomReportBaseViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """Symptom reports without their flag; ``risk.api.SymptomReportViewSet`` (the one routed at
    ``symptom-reports/``) adds it. Staff may edit one (PATCH/PUT: ``symptoms``, ``note``,
    ``reported_at``): it is triaged again, and a more urgent triage acts on the alert at once."""

    resource = "symptom_report"
    serializer_class = SymptomReportBaseSerializer
    patient_read = True
    patient_create = True
    filterset_class = patient_filterset(
        "SymptomReportFilterSet",
        SymptomReport,
        {"triage": django_filters.ChoiceFilter(choices=SymptomReport.Triage.choices)},
        date_field="reported_at",
    )

    def get_queryset(self):
        return symptom_report_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        user = self.request.user
        patient = own_or_given_patient(user, data.pop("patient", None))
        source = "patient" if role_of(user) == "patient" else "staff"
        return services.symptom_report_submit(actor=user, patient=patient, source=source, **data)

    def perform_update(self, obj, data):
        if data.get("kind") == obj.kind:
            data.pop("kind")  # PUT's default, unchanged; another kind is refused by the service
        return edits.symptom_report_update(actor=self.request.user, report=obj, **data)
