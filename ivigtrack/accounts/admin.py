from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from ivigtrack.audit.services import audit_record

from .models import Site, User


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
    list_filter = ("role", "sites", "is_active", "is_staff", "is_superuser")
    filter_horizontal = (*UserAdmin.filter_horizontal, "sites")
    fieldsets = UserAdmin.fieldsets + (("Clinical role", {"fields": ("role", "sites")}),)
    add_fieldsets = UserAdmin.add_fieldsets + (("Clinical role", {"fields": ("role", "sites")}),)

    PRIVILEGES = ("is_superuser", "is_staff", "is_active", "role", "sites", "groups", "user_permissions")

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
        before = {
            name: form.initial.get(name) for name in changed if name not in ("sites", "groups", "user_permissions")
        }
        after = {name: getattr(obj, name) for name in before}
        audit_record(
            actor=request.user,
            action="admin.privilege",
            obj=obj,
            detail={"changed": changed, "before": _plain(before), "after": _plain(after), "new_user": not change},
        )


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    """Sites are the clinic network's structure: superusers manage them."""

    list_display = ("name", "code", "time_zone", "date_format", "phone", "emergency_number")
    search_fields = ("name", "code")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


def _plain(values: dict) -> dict:
    return {
        key: value if isinstance(value, bool | str | int) or value is None else str(value)
        for key, value in values.items()
    }
