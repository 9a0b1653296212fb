"""REST API v1 for what is given: ``products/``, ``regimens/``, ``infusions/``, ``medications/``.

Reads from ``infusions.selectors`` (scoped); writes through ``infusions.services``.
Clinicians write regimens and medications (a nurse gets 403); nurses and clinicians record
infusions; a patient logs their own infusions (``source`` becomes ``patient``). Products
are the catalogue: every login reads it, only a superuser changes it.
"""

from __future__ import annotations

from decimal import Decimal

import django_filters
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from itrs import watch as itrs_watch
from ivigtrack.api.corrections import CORRECTION_FIELDS, CorrectionFields, EnteredInErrorMixin
from ivigtrack.api.fields import ApiModelSerializer, NumberDecimalField, PublicIdField, ScopedRef
from ivigtrack.api.filters import filterset
from ivigtrack.api.permissions import role_of
from ivigtrack.api.viewsets import ApiViewSet, CreateMixin, ListRetrieveMixin, UpdateMixin
from patients.api import (
    own_or_given_patient,
    patient_filterset,
    patient_ref,
    thrombosis_event_scope,
    vascular_access_scope,
)
from patients.models import Diagnosis
from patients.services import apply_changes, save_clinical
from patients.site_info import patient_zone

from . import selectors, services
from .chair import chair_check
from .medicines import medication_scoring
from .models import DRUG_CATEGORIES, Drug, Infusion, MedicationCourse, Product, Regimen

RATE = {"min_value": Decimal("0.01"), "max_value": Decimal("20")}


def product_scope(user):
    return Product.objects.all().order_by("name", "id")


def api_regimen_scope(user, *, corrected: bool = False):
    return selectors.regimen_scope(user, corrected=corrected).order_by("-start_date", "-id")


def api_infusion_scope(user, *, corrected: bool = False):
    return (
        selectors.infusion_scope(user, corrected=corrected)
        .select_related("regimen", "vascular_access", "risk", "patient__site")
        .order_by("-started_at", "-id")
    )


def api_medication_scope(user, *, corrected: bool = False):
    return selectors.medication_scope(user, corrected=corrected).order_by("-start_date", "-id")


def product_ref(**kwargs) -> ScopedRef:
    return ScopedRef(product_scope, "product", **kwargs)


# --- products -----------------------------------------------------------------------------------


class ProductSerializer(ApiModelSerializer):
    id = PublicIdField()
    indication_max_rates = serializers.DictField(
        child=NumberDecimalField(max_digits=5, decimal_places=2, **RATE),
        required=False,
        help_text='Label maximum rate (mg/kg/min) by indication, e.g. {"itp": 4}.',
    )

    class Meta:
        model = Product
        fields = [
            "id",
            "name",
            "concentration_percent",
            "contains_sucrose",
            "max_rate_mg_kg_min",
            "indication_max_rates",
            "source",
            "active",
        ]
        extra_kwargs = {
            "concentration_percent": {"min_value": Decimal("0.1"), "max_value": Decimal("30")},
            "max_rate_mg_kg_min": RATE,
        }

    def validate_indication_max_rates(self, value):
        unknown = sorted(set(value) - set(Diagnosis.values))
        if unknown:
            raise serializers.ValidationError(f"Unknown indication(s): {', '.join(unknown)}.")
        return {key: float(rate) for key, rate in value.items()}


class ProductViewSet(ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    """IVIG products with their label maximum rates. Read by every login; written by a superuser."""

    resource = "product"
    serializer_class = ProductSerializer
    write_roles = {"superuser"}
    patient_read = True
    filterset_class = filterset("ProductFilterSet", Product, {"active": django_filters.BooleanFilter()})

    def get_queryset(self):
        return product_scope(self.request.user)

    def audit_read(self, **kwargs):  # the catalogue holds no patient data
        return None

    def perform_create(self, data):
        with transaction.atomic():
            return save_clinical(Product(**data), actor=self.request.user, action="product.create")

    def perform_update(self, product, data):
        with transaction.atomic():
            changes = apply_changes(product, data, set(ProductSerializer.Meta.fields) - {"id"})
            return save_clinical(
                product,
                actor=self.request.user,
                action="product.update",
                detail={"changes": changes},
                update_fields=changes,
            )


# --- regimens -----------------------------------------------------------------------------------

# The same codes as a patient's diagnosis, labelled as indications (one enum name each in the schema).
INDICATIONS = [(code, f"Indication: {label}") for code, label in Diagnosis.choices]


class RegimenSerializer(CorrectionFields, ApiModelSerializer):
    """The infusion schedule: a dose per day (g/kg or fixed grams) for N consecutive days,
    repeated every ``interval_days`` (null for a one-off course)."""

    id = PublicIdField()
    patient = patient_ref()
    product = product_ref()
    product_name = serializers.CharField(source="product.name", read_only=True)
    indication = serializers.ChoiceField(
        choices=INDICATIONS, required=False, help_text="Default: the patient's diagnosis (label rates depend on it)."
    )
    next_course_dates = serializers.SerializerMethodField()

    class Meta:
        model = Regimen
        fields = [
            "id",
            "patient",
            "product",
            "product_name",
            "indication",
            "dose_g_per_kg_per_day",
            "dose_grams_per_day",
            "days_per_course",
            "interval_days",
            "dosing_weight",
            "start_date",
            "end_date",
            "max_rate_mg_kg_min",
            "setting",
            "note",
            "next_course_dates",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]
        extra_kwargs = {
            "dose_g_per_kg_per_day": {"min_value": Decimal("0.01"), "max_value": Decimal("2.5")},
            "dose_grams_per_day": {"min_value": Decimal("0.1"), "max_value": Decimal("250")},
            "days_per_course": {"min_value": 1, "max_value": 7},
            "interval_days": {"min_value": 1, "max_value": 365},
            "max_rate_mg_kg_min": RATE,
        }

    def get_next_course_dates(self, obj) -> list[list[str]]:
        """The next three courses, each as its consecutive infusion days (ISO dates)."""
        return [[day.isoformat() for day in course] for course in obj.next_course_dates(timezone.localdate(), 3)]


class RegimenViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    resource = "regimen"
    serializer_class = RegimenSerializer
    write_roles = {"clinician"}  # a nurse does not edit regimens (docs/roles.md): 403
    patient_read = True
    filterset_class = patient_filterset("RegimenFilterSet", Regimen)

    def get_queryset(self):
        return api_regimen_scope(self.request.user, corrected=True)

    def perform_create(self, data):
        return services.regimen_create(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.regimen_update(actor=self.request.user, regimen=obj, **data)


# --- infusions -----------------------------------------------------------------------------------


class WatchSerializer(serializers.Serializer):
    arterial_until = serializers.DateTimeField()
    venous_until = serializers.DateTimeField()


class RiskAtStartSerializer(serializers.Serializer):
    score = serializers.IntegerField()
    tier = serializers.CharField()
    ruleset = serializers.CharField()
    provisional = serializers.BooleanField()


class InfusionSerializer(CorrectionFields, ApiModelSerializer):
    """One day's infusion. A patient may omit ``patient`` (it is theirs); ``source`` is set by
    the server. An administered infusion cannot start more than 5 minutes ahead: record a
    future one as ``planned``."""

    id = PublicIdField()
    patient = patient_ref(required=False)
    regimen = ScopedRef(api_regimen_scope, "regimen", required=False, allow_null=True)
    product = product_ref(required=False, help_text="Default: the regimen's product.")
    product_name = serializers.CharField(source="product.name", read_only=True)
    vascular_access = ScopedRef(vascular_access_scope, "vascular access", required=False, allow_null=True)
    dose_g_per_kg = serializers.SerializerMethodField()
    watch = serializers.SerializerMethodField()
    risk_at_start = serializers.SerializerMethodField()
    chair_check = serializers.SerializerMethodField()
    precautions = serializers.JSONField(
        required=False,
        help_text='The nurse\'s chair-check answers: {"hydration_given", "rate_within_cap", "labs_current"}, '
        "each yes | no | na.",
    )
    rate_reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why a rate above the at-risk or renal cap was used (without one, RATE-ABOVE-CAP is raised).",
    )

    class Meta:
        model = Infusion
        fields = [
            "id",
            "patient",
            "regimen",
            "product",
            "product_name",
            "lot_number",
            "started_at",
            "dose_grams",
            "dose_g_per_kg",
            "weight_kg_used",
            "max_rate_mg_kg_min",
            "max_rate_ml_h",
            "status",
            "vascular_access",
            "hydration_given",
            "source",
            "reactions",
            "note",
            "rate_reason",
            "precautions",
            "watch",
            "risk_at_start",
            "chair_check",
            "iga_override_reason",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]
        read_only_fields = ["weight_kg_used", "source"]
        extra_kwargs = {
            "dose_grams": {"min_value": Decimal("0.1"), "max_value": Decimal("250")},
            "max_rate_mg_kg_min": RATE,
            "max_rate_ml_h": {"min_value": Decimal("0.1"), "max_value": Decimal("2000")},
        }

    def get_dose_g_per_kg(self, obj) -> float | None:
        value = obj.dose_g_per_kg
        return None if value is None else round(value, 3)

    @extend_schema_field(WatchSerializer(allow_null=True))
    def get_watch(self, obj):
        """The post-infusion watch windows of an administered infusion (null otherwise): arterial
        to the end of local day 2, venous to the end of day 14 (exclusive ends, risk/README.md);
        null too for an infusion entered in error."""
        if obj.status != Infusion.Status.ADMINISTERED or obj.entered_in_error:
            return None
        zone = patient_zone(obj.patient)
        w = itrs_watch.watch(obj.started_at, zone)
        return {
            "arterial_until": timezone.localtime(w.arterial_until, zone).isoformat(),
            "venous_until": timezone.localtime(w.venous_until, zone).isoformat(),
        }

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_chair_check(self, obj):
        """The chair check of an administered infusion (caps in mg/kg/min and mL/h with why, hydration,
        labs due, open urgent flags, the risk at this infusion): on a single infusion's response, null in
        lists (it reads the patient's flags)."""
        request = self.context.get("request")
        if not self.context.get("chair_check") or obj.status != Infusion.Status.ADMINISTERED:
            return None
        if request is None or role_of(request.user) == "patient":  # flags and caps are the clinic's
            return None
        return chair_check(obj)

    @extend_schema_field(RiskAtStartSerializer(allow_null=True))
    def get_risk_at_start(self, obj):
        """The assessment as of the infusion's start (null until recorded)."""
        try:
            risk = obj.risk
        except ObjectDoesNotExist:
            return None
        return {"score": risk.score, "tier": risk.tier, "ruleset": risk.ruleset, "provisional": risk.provisional}


@extend_schema_view(destroy=extend_schema(summary="Delete a planned infusion (administered ones are the record)"))
class InfusionViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    resource = "infusion"
    serializer_class = InfusionSerializer
    patient_read = True
    patient_create = True
    filterset_class = patient_filterset(
        "InfusionFilterSet",
        Infusion,
        {
            "status": django_filters.ChoiceFilter(choices=Infusion.Status.choices),
            "source": django_filters.ChoiceFilter(choices=Infusion.Source.choices),
        },
        date_field="started_at",
    )

    def get_queryset(self):
        return api_infusion_scope(self.request.user, corrected=True)

    def get_serializer_context(self):
        # One infusion (retrieve, create, update) carries its chair check; a list does not.
        return {**super().get_serializer_context(), "chair_check": self.action != "list"}

    def perform_create(self, data):
        user = self.request.user
        patient = own_or_given_patient(user, data.pop("patient", None))
        source = "patient" if role_of(user) == "patient" else "staff"
        return services.infusion_record(actor=user, patient=patient, source=source, **data)

    def perform_update(self, obj, data):
        return services.infusion_update(actor=self.request.user, infusion=obj, **data)

    @extend_schema(responses={204: OpenApiResponse(description="Deleted.")})
    def destroy(self, request, *args, **kwargs):
        services.infusion_delete(actor=request.user, infusion=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- medications -----------------------------------------------------------------------------------


class DrugSerializer(ApiModelSerializer):
    """A dictionary entry: what a medication course's ``drug`` names."""

    id = PublicIdField()

    class Meta:
        model = Drug
        fields = [
            "id",
            "name",
            "synonyms",
            "category",
            "drug_class",
            "atc_code",
            "prednisolone_factor",
            "default_unit",
            "active",
        ]


class DrugFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", help_text="Part of a name or a brand (synonym), any case.")
    category = django_filters.ChoiceFilter(choices=DRUG_CATEGORIES)

    class Meta:
        model = Drug
        fields = ["q", "category"]

    def search(self, queryset, name, value):
        return queryset.filter(search_text__contains=" ".join(value.split()).casefold())


class DrugViewSet(ListRetrieveMixin, ApiViewSet):
    """The drug dictionary (read-only here; the admin extends it). ``?q=`` searches names and
    brands, ``?category=`` filters."""

    resource = "drug"
    serializer_class = DrugSerializer
    patient_read = True
    filterset_class = DrugFilterSet

    def get_queryset(self):
        return Drug.objects.filter(active=True).order_by("name", "id")

    def audit_read(self, **kwargs):  # the dictionary holds no patient data
        return None


class MedicationSerializer(CorrectionFields, ApiModelSerializer):
    """A medication course that changes clot risk, its drug from the dictionary (``drugs/``).

    ``drug`` takes a dictionary id, or a name or brand (any case); an unknown name is a 400 that
    lists the closest names. ``category`` follows from the drug: send it only as ``other`` to
    record free text (it scores nothing and is flagged for coding). Give ``dose`` with
    ``dose_unit`` (``mg`` or ``microgram``; default the drug's usual unit), or v1's
    ``dose_mg_per_day``. ``scored`` and ``scored_because`` say what the current ruleset makes
    of the course.
    """

    id = PublicIdField()
    patient = patient_ref()
    drug = serializers.CharField(
        max_length=80, help_text="A drug id from drugs/, or a name or brand name (case-insensitive)."
    )
    drug_id = serializers.SerializerMethodField()
    category = serializers.ChoiceField(
        choices=MedicationCourse.Category.choices,
        required=False,
        help_text="Follows from the drug; send other only to record a drug outside the dictionary.",
    )
    drug_class = serializers.SerializerMethodField()
    dose = NumberDecimalField(
        max_digits=10, decimal_places=3, min_value=Decimal("0.001"), required=False, allow_null=True
    )
    dose_mg_per_day = NumberDecimalField(
        max_digits=12, decimal_places=6, min_value=Decimal("0.000001"), required=False, allow_null=True
    )
    dose_unit = serializers.ChoiceField(
        choices=MedicationCourse.DoseUnit.choices,
        required=False,
        allow_blank=True,
        help_text="mg or microgram; default the drug's usual unit (drugs/ default_unit).",
    )
    route = serializers.ChoiceField(choices=MedicationCourse.Route.choices)
    event = ScopedRef(thrombosis_event_scope, "thrombosis event", required=False, allow_null=True)
    scored = serializers.SerializerMethodField()
    scored_because = serializers.SerializerMethodField()

    class Meta:
        model = MedicationCourse
        fields = [
            "id",
            "patient",
            "drug",
            "drug_id",
            "category",
            "drug_class",
            "dose",
            "dose_unit",
            "dose_mg_per_day",
            "prednisolone_eq_mg_per_day",
            "route",
            "intensity",
            "indication",
            "event",
            "start_date",
            "end_date",
            "note",
            "scored",
            "scored_because",
            "created_at",
            "updated_at",
            *CORRECTION_FIELDS,
        ]
        extra_kwargs = {
            "intensity": {"help_text": "Anticoagulants only: prophylactic, therapeutic or extended."},
            "indication": {"help_text": "Anticoagulants only; default vte_treatment."},
        }

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["drug"] = instance.drug_name
        return data

    def get_drug_id(self, obj) -> str | None:
        return str(obj.drug.public_id) if obj.drug_id else None

    def get_drug_class(self, obj) -> str:
        return obj.drug.drug_class if obj.drug_id else ""

    def get_scored(self, obj) -> bool:
        return medication_scoring(obj)[0]

    def get_scored_because(self, obj) -> str:
        return medication_scoring(obj)[1]


class MedicationViewSet(EnteredInErrorMixin, ListRetrieveMixin, CreateMixin, UpdateMixin, ApiViewSet):
    resource = "medication"
    serializer_class = MedicationSerializer
    write_roles = {"clinician"}
    patient_read = True
    filterset_class = patient_filterset(
        "MedicationFilterSet",
        MedicationCourse,
        {"category": django_filters.ChoiceFilter(choices=MedicationCourse.Category.choices)},
    )

    def get_queryset(self):
        return api_medication_scope(self.request.user, corrected=True).select_related("drug")

    def perform_create(self, data):
        return services.medication_record(actor=self.request.user, **data)

    def perform_update(self, obj, data):
        return services.medication_update(actor=self.request.user, course=obj, **data)
