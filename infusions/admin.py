from django.contrib import admin

from ivigtrack.audit.admin_mixins import AuditedAdmin
from ivigtrack.corrections_admin import CorrectableAdmin
from patients.admin import SiteScopedAdmin

from .models import Drug, Infusion, MedicationCourse, Product, Regimen


@admin.register(Drug)
class DrugAdmin(AuditedAdmin):  # the dictionary has no patient, but every change to it is audited
    """The drug dictionary: extend it here (medication courses pick from it). A drug in use is
    retired with `active`, never deleted (courses keep it)."""

    list_display = ("name", "category", "drug_class", "atc_code", "prednisolone_factor", "default_unit", "active")
    list_filter = ("category", "drug_class", "active")
    search_fields = ("name", "search_text", "atc_code")
    readonly_fields = ("search_text",)

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.courses.exists()


@admin.register(Product)
class ProductAdmin(AuditedAdmin):  # products have no patient, but adding or changing one is audited
    list_display = (
        "name",
        "concentration_percent",
        "max_rate_mg_kg_min",
        "contains_sucrose",
        "active",
    )
    list_filter = ("active", "contains_sucrose")
    search_fields = ("name",)


@admin.register(Regimen)
class RegimenAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = (
        "patient",
        "product",
        "indication",
        "dose_g_per_kg_per_day",
        "dose_grams_per_day",
        "days_per_course",
        "interval_days",
        "start_date",
        "end_date",
    )
    list_filter = ("product", "indication", "setting")
    search_fields = ("patient__mrn", "patient__family_name")
    raw_id_fields = ("patient",)


@admin.register(Infusion)
class InfusionAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = (
        "patient",
        "product",
        "started_at",
        "dose_grams",
        "max_rate_mg_kg_min",
        "status",
        "source",
        "lot_number",
    )
    list_filter = ("status", "source", "product")
    search_fields = ("patient__mrn", "patient__family_name", "lot_number")
    raw_id_fields = ("patient", "regimen", "vascular_access")
    date_hierarchy = "started_at"


@admin.register(MedicationCourse)
class MedicationCourseAdmin(SiteScopedAdmin, CorrectableAdmin):
    list_display = (
        "patient",
        "category",
        "drug_name",
        "dose",
        "dose_unit",
        "route",
        "intensity",
        "indication",
        "start_date",
        "end_date",
    )
    list_filter = ("category", "intensity", "indication", "route")
    search_fields = ("patient__mrn", "patient__family_name", "drug_name")
    raw_id_fields = ("patient", "drug", "event")
    readonly_fields = ("prednisolone_eq_mg_per_day", "dose_mg_per_day")
