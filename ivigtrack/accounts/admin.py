from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from ivigtrack.audit.services import audit_record

from .models import User


@admin.register(User)
class IvigUserAdmin(UserAdmin):
    list_display = (
        "username",
        "first_name",
        "last_name",
        "role",
        "is_active",
        "is_staff",
    )
    list_filter = ("role", "is_active", "is_staff", "is_superuser")
    fieldsets = UserAdmin.fieldsets + (("Clinical role", {"fields": ("role",)}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Clinical role", {"fields": ("role",)}),)

    PRIVILEGES = ("is_superuser", "is_staff", "is_active", "role", "groups", "user_permissions")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._audit_privileges(request, obj, form, change)

    def _audit_privileges(self, request, obj, form, change) -> None:
        """Granting or removing superuser, admin access, a role or permissions is audited
        (``admin.privilege``), with the values before and after."""
        changed = [name for name in self.PRIVILEGES if name in form.changed_data]
        if not change:
            changed = [name for name in ("is_superuser", "is_staff", "role") if form.cleaned_data.get(name)]
        if not changed:
            return
        before = {name: form.initial.get(name) for name in changed if name not in ("groups", "user_permissions")}
        after = {name: getattr(obj, name) for name in before}
        audit_record(
            actor=request.user,
            action="admin.privilege",
            obj=obj,
            detail={"changed": changed, "before": _plain(before), "after": _plain(after), "new_user": not change},
        )


def _plain(values: dict) -> dict:
    return {
        key: value if isinstance(value, bool | str | int) or value is None else str(value)
        for key, value in values.items()
    }
