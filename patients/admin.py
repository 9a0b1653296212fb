from django.contrib import admin

from ivigtrack.audit.admin_mixins import AuditedAdmin

from .models import (
    Condition,
    LabResult,
    Patient,
    SymptomReport,
    ThrombosisEvent,
    VascularAccess,
    WeightMeasurement,
)


class ConditionInline(admin.TabularInline):
    model = Condition
    extra = 0
    fields = ("code", "onset_date", "resolved_date", "note")


class VascularAccessInline(admin.TabularInline):
    model = VascularAccess
    extra = 0
    fields = ("kind", "vein", "side", "inserted_on", "removed_on")


class ThrombosisEventInline(admin.TabularInline):
    model = ThrombosisEvent
    extra = 0
    fields = ("kind", "status", "diagnosed_on", "provocation", "vascular_access")


class WeightInline(admin.TabularInline):
    model = WeightMeasurement
    extra = 0
    fields = ("weight_kg", "measured_on", "is_current")
    readonly_fields = ("is_current",)


@admin.register(Patient)
class PatientAdmin(AuditedAdmin):
    list_display = (
        "mrn",
        "family_name",
        "given_name",
        "date_of_birth",
        "sex",
        "diagnosis",
        "weight_kg",
        "active",
    )
    list_filter = ("diagnosis", "sex", "active")
    search_fields = ("mrn", "family_name", "given_name")
    readonly_fields = ("public_id", "created_at", "updated_at")
    raw_id_fields = ("user",)
    inlines = [
        WeightInline,
        ConditionInline,
        VascularAccessInline,
        ThrombosisEventInline,
    ]


@admin.register(LabResult)
class LabResultAdmin(AuditedAdmin):
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
class SymptomReportAdmin(AuditedAdmin):
    list_display = ("patient", "reported_at", "triage", "source")
    list_filter = ("triage", "source")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(Condition)
class ConditionAdmin(AuditedAdmin):
    list_display = ("patient", "code", "onset_date", "resolved_date")
    list_filter = ("code",)
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(ThrombosisEvent)
class ThrombosisEventAdmin(AuditedAdmin):
    list_display = ("patient", "kind", "status", "diagnosed_on", "provocation")
    list_filter = ("kind", "status", "provocation")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient", "vascular_access")


@admin.register(VascularAccess)
class VascularAccessAdmin(AuditedAdmin):
    list_display = ("patient", "kind", "vein", "side", "inserted_on", "removed_on")
    list_filter = ("kind", "vein")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)
