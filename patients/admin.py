from django.contrib import admin

from ivigtrack import hooks
from ivigtrack.accounts.models import Site
from ivigtrack.audit.admin_mixins import AuditedAdmin
from ivigtrack.corrections_admin import CorrectableAdmin

from .models import (
    Condition,
    LabResult,
    Patient,
    SymptomReport,
    ThrombosisEvent,
    VascularAccess,
    WeightMeasurement,
)
from .selectors import patient_scope, scoped, site_scope


class ConditionInline(admin.TabularInline):
    can_delete = False  # no clinical record is deleted (mark it entered in error in its own admin)
    model = Condition
    extra = 0
    fields = ("code", "onset_date", "resolved_date", "note")


class VascularAccessInline(admin.TabularInline):
    can_delete = False  # no clinical record is deleted (mark it entered in error in its own admin)
    model = VascularAccess
    extra = 0
    fields = ("kind", "vein", "side", "inserted_on", "removed_on")


class ThrombosisEventInline(admin.TabularInline):
    can_delete = False  # no clinical record is deleted (mark it entered in error in its own admin)
    model = ThrombosisEvent
    extra = 0
    fields = ("kind", "status", "diagnosed_on", "provocation", "vascular_access")


class WeightInline(admin.TabularInline):
    can_delete = False  # no clinical record is deleted (mark it entered in error in its own admin)
    model = WeightMeasurement
    extra = 0
    fields = ("weight_kg", "measured_on", "is_current")
    readonly_fields = ("is_current",)


class SiteScopedAdmin(AuditedAdmin):
    """The admin of patient records for a non-superuser staff member shows only their sites'
    patients (patients.selectors), and offers only those patients and sites in its choices."""

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        if qs.model is Patient:
            return scoped(qs, request.user, patient_field="")
        return scoped(qs, request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if not request.user.is_superuser:
            if db_field.related_model is Patient:
                kwargs["queryset"] = patient_scope(request.user)
            elif db_field.related_model is Site:
                kwargs["queryset"] = site_scope(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Patient)
class PatientAdmin(SiteScopedAdmin):
    list_display = (
        "mrn",
        "family_name",
        "given_name",
        "date_of_birth",
        "sex",
        "diagnosis",
        "weight_kg",
        "site",
        "active",
    )
    list_filter = ("site", "diagnosis", "sex", "active")
    search_fields = ("mrn", "family_name", "given_name")
    filter_horizontal = ("care_team",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "site" in form.changed_data:  # audited by AuditedAdmin's admin.change
            hooks.patient_moved(obj.pk, obj.site_id)
            hooks.patient_changed(obj.pk)

    readonly_fields = ("public_id", "created_at", "updated_at")
    raw_id_fields = ("user",)
    inlines = [
        WeightInline,
        ConditionInline,
        VascularAccessInline,
        ThrombosisEventInline,
    ]


@admin.register(LabResult)
class LabResultAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = (
        "patient",
        "test",
        "value",
        "unit",
        "collected_at",
        "needs_verification",
    )
    list_filter = ("test", "needs_verification")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)
    date_hierarchy = "collected_at"


@admin.register(SymptomReport)
class SymptomReportAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = ("patient", "reported_at", "triage", "source")
    list_filter = ("triage", "source")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(Condition)
class ConditionAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = ("patient", "code", "onset_date", "resolved_date")
    list_filter = ("code",)
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(ThrombosisEvent)
class ThrombosisEventAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = ("patient", "kind", "status", "diagnosed_on", "provocation")
    list_filter = ("kind", "status", "provocation")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient", "vascular_access")


@admin.register(VascularAccess)
class VascularAccessAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = ("patient", "kind", "vein", "side", "inserted_on", "removed_on")
    list_filter = ("kind", "vein")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(WeightMeasurement)
class WeightMeasurementAdmin(SiteScopedAdmin, CorrectableAdmin):
    """Weights are recorded on the patient (the history keeps one current); here they are
    listed and marked entered in error."""

    list_display = ("patient", "weight_kg", "measured_on", "is_current")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)
    readonly_fields = ("is_current",)
