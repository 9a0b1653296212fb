"""Admin for recorded haematology reviews (audited like every patient record in the admin).

Writes go through the service, as through the API and the pages: the same validation, one
transaction, the flag completed by the review when one is chosen."""

from __future__ import annotations

from django import forms
from django.contrib import admin

from ivigtrack.audit.admin_mixins import AuditedAdmin

from .models import HaematologyReview
from .services.haematology import haematology_review_record, review_errors


class HaematologyReviewForm(forms.ModelForm):
    class Meta:
        model = HaematologyReview
        fields = [
            "patient",
            "reviewed_on",
            "reviewer",
            "reviewer_name",
            "anticoagulation_plan",
            "ivig_plan",
            "thrombophilia_testing",
            "next_review_on",
            "note",
            "flag",
        ]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            for name, messages in review_errors(data.get("patient"), data.get("reviewed_on"), data.get("flag")).items():
                self.add_error(name, messages)
        return data


@admin.register(HaematologyReview)
class HaematologyReviewAdmin(AuditedAdmin):
    form = HaematologyReviewForm
    list_display = ("patient", "reviewed_on", "reviewer_label", "anticoagulation_plan", "ivig_plan", "next_review_on")
    list_filter = ("anticoagulation_plan", "ivig_plan", "thrombophilia_testing")
    search_fields = ("patient__mrn", "patient__family_name", "reviewer_name")
    raw_id_fields = ("patient", "reviewer", "flag")
    readonly_fields = ("public_id", "recorded_by", "created_at", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        # A recorded decision is not rewritten: only its note can be amended.
        if obj is not None:
            return [f.name for f in self.model._meta.concrete_fields if f.name != "note"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        data = {
            name: form.cleaned_data.get(name)
            for name in (
                "patient",
                "reviewed_on",
                "reviewer",
                "reviewer_name",
                "anticoagulation_plan",
                "ivig_plan",
                "thrombophilia_testing",
                "next_review_on",
                "note",
                "flag",
            )
        }
        saved = haematology_review_record(actor=request.user, **data)
        obj.pk, obj.public_id = saved.pk, saved.public_id
        obj._state.adding = False
