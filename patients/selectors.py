"""Reads scoped to the caller: scoping is authorisation.

Staff (clinician, nurse, superuser) see every patient; a patient sees only their own
record; anyone else sees nothing. Views and API call these, never Patient.objects directly.
"""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Patient


def patient_scope(user) -> QuerySet[Patient]:
    if user is None or not user.is_authenticated or not user.is_active:
        return Patient.objects.none()
    if getattr(user, "is_clinical_staff", False):
        return Patient.objects.all()
    if getattr(user, "is_patient_user", False):
        return Patient.objects.filter(user=user)
    return Patient.objects.none()


def scoped(model_qs: QuerySet, user, *, patient_field: str = "patient") -> QuerySet:
    """Scope any per-patient queryset to what the user may see."""
    if user is None or not user.is_authenticated or not user.is_active:
        return model_qs.none()
    if getattr(user, "is_clinical_staff", False):
        return model_qs
    if getattr(user, "is_patient_user", False):
        return model_qs.filter(**{f"{patient_field}__user": user})
    return model_qs.none()


def patient_for_user(user) -> Patient | None:
    """The portal's patient: derived from the login, never from a URL."""
    if not getattr(user, "is_patient_user", False):
        return None
    return Patient.objects.filter(user=user).first()
