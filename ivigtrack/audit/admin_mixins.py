"""Admin pages of patient records write the clinic's audit trail too.

Django's admin logs its writes as LogEntry rows, outside ``AuditEvent``, and logs no reads.
``AuditedAdmin`` adds an audit row for every record opened, added, changed or deleted in the
admin (``admin.view``, ``admin.add``, ``admin.change``, ``admin.delete``), in the same
transaction as the change, with the admin's own description of what changed.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote

from .services import audit_bulk, audit_event, audit_record


class AuditedAdmin(admin.ModelAdmin):
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
