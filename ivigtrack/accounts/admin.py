from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

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


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    """Sites are the clinic network's structure: superusers manage them."""

    list_display = ("name", "code", "time_zone", "phone", "emergency_number")
    search_fields = ("name", "code")

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser
