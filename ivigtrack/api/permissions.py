"""Who may do what through the API (the roles of docs/roles.md) as view attributes.

Which rows a caller may see lives in the selectors (scoping is authorisation), so another
patient's id is a 404 everywhere; this decides only what a role may do.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission


def role_of(user) -> str:
    """The caller's role: superuser, clinician, nurse, patient, or "" (no clinical access)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return "superuser"
    if getattr(user, "is_patient_user", False):
        return "patient"
    if getattr(user, "is_clinical_staff", False):
        return user.role
    return ""


def is_staff_user(user) -> bool:
    return bool(getattr(user, "is_clinical_staff", False))


class RolePermission(BasePermission):
    """The roles of docs/roles.md as view attributes.

    - ``write_roles``: who may create/update/delete, besides a superuser (who always may;
      ``{"superuser"}`` means the superuser alone). Default: clinicians and nurses.
    - ``nurse_fields``: a nurse may PATCH these fields only (e.g. a patient's weight).
    - ``patient_read``: a patient may read (their own rows, by the selectors' scope).
    - ``patient_create``: a patient may POST to create (their own infusions, symptom reports).
    - ``action_roles``: per extra action, who may call it (overrides the above).
    Anonymous callers are refused before this runs its checks (401 through TokenAuthentication).
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        role = role_of(user)
        if not role:
            return False
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {})
        if action in action_roles:
            return role == "superuser" or role in action_roles[action]
        if request.method in SAFE_METHODS:
            return role != "patient" or getattr(view, "patient_read", False)
        if role == "patient":
            return action == "create" and getattr(view, "patient_create", False)
        write_roles = set(getattr(view, "write_roles", {"clinician", "nurse"}))
        if role == "superuser" or role in write_roles:
            return True
        nurse_fields = getattr(view, "nurse_fields", set())
        if role == "nurse" and nurse_fields and action == "partial_update":
            data = request.data if isinstance(request.data, dict) else {}
            return bool(data) and set(data) <= set(nurse_fields)
        return False
