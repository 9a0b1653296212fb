"""Reads scoped to the caller: scoping is authorisation.

The one place that decides who sees which patient (views, htmx fragments, API, FHIR, charts,
counts, e-mails and the admin call these, never ``Patient.objects`` directly):

- a superuser sees every patient;
- staff (clinician, nurse) see the patients whose home ``site`` is one of their sites
  (``User.sites``); another site's patient is absent, so a lookup of it is a 404 exactly like a
  patient that does not exist;
- a patient sees only their own record; anyone else sees nothing.

``patient_scope(user)`` is the patients; ``scoped(qs, user)`` narrows any per-patient queryset the
same way (``patient_field`` names its patient; ``site_field`` a denormalised site column, e.g. the
flags' own ``site``); ``site_scope(user)`` the sites a user may see; ``at_site(qs, value)`` filters
patients (or per-patient rows) to one site by its code or id, for ``?site=`` and commands.
"""

from __future__ import annotations

import uuid

from django.db.models import Q, QuerySet

from ivigtrack.accounts.models import Site

from .models import Patient


def _nobody(user) -> bool:
    return user is None or not user.is_authenticated or not user.is_active


def sees_all_sites(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) and not _nobody(user)


def staff_site_ids(user) -> list[int]:
    """The sites whose patients this staff member sees (one query, then cached on the user)."""
    return list(getattr(user, "site_ids", ()))


def site_scope(user) -> QuerySet[Site]:
    """The sites a user may see: all for a superuser, their memberships for staff, else none."""
    if _nobody(user) or not getattr(user, "is_clinical_staff", False):
        return Site.objects.none()
    if sees_all_sites(user):
        return Site.objects.all()
    return Site.objects.filter(pk__in=staff_site_ids(user))


def my_sites(user) -> list[Site]:
    """``site_scope`` as a list, without a second query for staff (their cached memberships)."""
    if _nobody(user) or not getattr(user, "is_clinical_staff", False):
        return []
    if sees_all_sites(user):
        return list(Site.objects.order_by("name", "id"))
    return list(getattr(user, "site_list", ()))


def patient_scope(user) -> QuerySet[Patient]:
    return scoped(Patient.objects.all(), user, patient_field="")


def scoped(model_qs: QuerySet, user, *, patient_field: str = "patient", site_field: str | None = None) -> QuerySet:
    """Scope any per-patient queryset to what the user may see (``patient_field=""``: the
    queryset is of patients)."""
    if _nobody(user):
        return model_qs.none()
    if getattr(user, "is_clinical_staff", False):
        if sees_all_sites(user):
            return model_qs
        field = site_field or (f"{patient_field}__site" if patient_field else "site")
        return model_qs.filter(**{f"{field}_id__in": staff_site_ids(user)})
    if getattr(user, "is_patient_user", False):
        return model_qs.filter(**{f"{patient_field}__user" if patient_field else "user": user})
    return model_qs.none()


def site_lookup(value: str) -> Q:
    """A site named by its code (case-insensitive) or its id."""
    value = (value or "").strip()
    try:
        return Q(public_id=uuid.UUID(value))
    except ValueError:
        return Q(code__iexact=value)


def at_site(model_qs: QuerySet, value: str, *, site_field: str = "site") -> QuerySet:
    """Narrow a queryset to one site, given its code or id (``?site=``, ``--site CODE``); an
    unknown site gives nothing."""
    sites = Site.objects.filter(site_lookup(value)).values("pk")
    return model_qs.filter(**{f"{site_field}__in": sites})


def home_site_for(user) -> Site | None:
    """Where a patient this user creates lives when no site is named: the user's only site (or,
    for a superuser in no site, the default site). None when the user must choose."""
    ids = staff_site_ids(user)
    if len(ids) == 1:
        return Site.objects.get(pk=ids[0])
    if not ids and sees_all_sites(user):
        return Site.objects.default()
    return None


def patient_for_user(user) -> Patient | None:
    """The portal's patient: derived from the login, never from a URL."""
    if not getattr(user, "is_patient_user", False):
        return None
    return Patient.objects.filter(user=user).select_related("site").first()
