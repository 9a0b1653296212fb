"""Admin pages of patient records write the clinic's audit trail too.

Django's admin logs its writes as LogEntry rows, outside ``AuditEvent``, and logs no reads.
``AuditedAdmin`` adds an audit row for every record opened, added, changed or deleted in the
admin (``admin.view``, ``admin.add``, ``admin.change``, ``admin.delete``), in the same
transaction as the change, with the admin's own description of what changed.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote

from .services import audit_bulk, audit_event, audit_list_read, audit_record


def _patient_ids(objects) -> list:
    ids = []
    for obj in objects:
        ids.append(obj.pk if obj._meta.model_name == "patient" else getattr(obj, "patient_id", None))
    return ids


class AuditedAdmin(admin.ModelAdmin):
    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        # an action's redirect has no context ({} and ... would be {}, not None)
        changelist = (getattr(response, "context_data", None) or {}).get("cl")
        if changelist is not None:
            audit_list_read(
                actor=request.user,
                action="admin.list",
                patient_ids=_patient_ids(changelist.result_list),
                detail={"model": self.model._meta.label_lower, "query": request.GET.urlencode()[:300]},
            )
        return response

    def history_view(self, request, object_id, extra_context=None):
        obj = self.get_object(request, unquote(object_id))
        if obj is not None:
            audit_record(actor=request.user, action="admin.history", obj=obj)
        return super().history_view(request, object_id, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        if request.method == "GET":  # the confirmation page lists the record and what goes with it
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                audit_record(actor=request.user, action="admin.view", obj=obj, detail={"page": "delete"})
        return super().delete_view(request, object_id, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, unquote(object_id))
            if obj is not None:
                audit_record(actor=request.user, action="admin.view", obj=obj)
        return super().change_view(request, object_id, form_url, extra_context)

    def log_addition(self, request, obj, message):
        audit_record(actor=request.user, action="admin.add", obj=obj, detail={"change": message})
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit_record(actor=request.user, action="admin.change", obj=obj, detail={"change": message})
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        audit_bulk(
            [
                audit_event(actor=request.user, action="admin.delete", obj=obj, detail={"record": str(obj)})
                for obj in queryset
            ]
        )
        return super().log_deletions(request, queryset)
