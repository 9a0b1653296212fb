"""The admin of a correctable record: it lists the records entered in error too (read-only
correction columns), never deletes one, and marks records entered in error through the one
service (`ivigtrack.corrections`: reason required, audited, re-assessed on commit) with the
action "Mark as entered in error", whose intermediate page asks for the reason."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse

from ivigtrack.corrections import AlreadyEnteredInError, clean_reason, mark_entered_in_error

CORRECTION_READONLY = ("entered_in_error", "entered_in_error_reason", "entered_in_error_at", "entered_in_error_by")


class CorrectableAdmin(admin.ModelAdmin):
    """Put after the admin's other bases (its ``get_queryset`` replaces ModelAdmin's default
    manager with ``all_objects``; the scoping of the bases before it still applies)."""

    actions = ["mark_entered_in_error"]

    def get_queryset(self, request):
        qs = self.model.all_objects.get_queryset()
        ordering = self.get_ordering(request)
        return qs.order_by(*ordering) if ordering else qs

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), *CORRECTION_READONLY)

    def get_list_display(self, request):
        return (*super().get_list_display(request), "entered_in_error")

    def get_list_filter(self, request):
        return (*super().get_list_filter(request), "entered_in_error")

    def has_delete_permission(self, request, obj=None):
        return False  # no clinical record is deleted: mark it entered in error instead

    def has_change_permission(self, request, obj=None):
        if obj is not None and getattr(obj, "entered_in_error", False):
            return False  # a record entered in error is kept as it was
        return super().has_change_permission(request, obj)

    @admin.action(description="Mark as entered in error", permissions=["change"])
    def mark_entered_in_error(self, request, queryset):
        error = ""
        if request.POST.get("apply"):
            try:
                reason = clean_reason(request.POST.get("reason", ""))
            except ValidationError as exc:
                error = exc.message_dict["reason"][0]
            else:
                marked, already = 0, 0
                for record in queryset:
                    try:
                        mark_entered_in_error(record, reason=reason, actor=request.user)
                    except AlreadyEnteredInError:
                        already += 1
                    else:
                        marked += 1
                self.message_user(request, f"{marked} marked entered in error.", messages.SUCCESS)
                if already:
                    self.message_user(request, f"{already} had been marked entered in error already.", messages.WARNING)
                return None
        context = {
            **self.admin_site.each_context(request),
            "title": "Mark as entered in error",
            "opts": self.model._meta,
            "records": list(queryset),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "reason": request.POST.get("reason", ""),
            "error": error,
        }
        return TemplateResponse(request, "admin/entered_in_error.html", context)
