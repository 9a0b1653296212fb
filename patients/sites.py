"""Writes about where a patient belongs: the home site (a clinician's move, audited) and the
care team. Reads of sites are in patients.selectors (scoping)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from ivigtrack import hooks
from ivigtrack.accounts.models import Site
from ivigtrack.audit.services import audit_record

from .models import Patient
from .selectors import home_site_for, site_scope


def site_for_new_patient(actor, site: Site | None) -> Site:
    """The home site of a patient this actor creates: the one named (one of the actor's sites),
    else the actor's only site. Refused, naming ``site``, when it is not theirs or they must choose."""
    if site is None:
        site = home_site_for(actor) if actor is not None else Site.objects.default()
        if site is None:
            raise ValidationError({"site": ["Choose the patient's site: you work at more than one."]})
        return site
    if actor is not None and not site_scope(actor).filter(pk=site.pk).exists():
        raise ValidationError({"site": ["Not one of your sites."]})
    return site


@transaction.atomic
def patient_move_site(*, actor, patient: Patient, site: Site) -> Patient:
    """Move a patient to another home site: a clinician's write, audited. Staff of the old site
    stop seeing the patient; the flags move with them. The actor must see both sites."""
    if not getattr(actor, "is_clinician", False):
        raise PermissionDenied("Only a clinician can move a patient to another site.")
    if not site_scope(actor).filter(pk=site.pk).exists():
        raise ValidationError({"site": ["Not one of your sites."]})
    patient = Patient.objects.select_for_update().select_related("site").get(pk=patient.pk)
    if patient.site_id == site.pk:
        return patient
    old = patient.site
    patient.site = site
    patient.save(update_fields=["site", "updated_at"])
    hooks.patient_moved(patient.pk, site.pk)
    audit_record(
        actor=actor,
        action="patient.move_site",
        obj=patient,
        detail={"from": old.code, "to": site.code},
    )
    hooks.patient_changed(patient.pk)  # the engine's local day is the new site's
    return patient


@transaction.atomic
def care_team_set(*, actor, patient: Patient, members) -> list[int]:
    """Name the patient's care team: staff of the patient's site (a superuser may be named too)."""
    if not getattr(actor, "is_clinical_staff", False):
        raise PermissionDenied("Only clinic staff can name a care team.")
    members = list(members)
    bad = [
        m.username
        for m in members
        if not getattr(m, "is_clinical_staff", False)
        or not (m.is_superuser or m.sites.filter(pk=patient.site_id).exists())
    ]
    if bad:
        raise ValidationError({"care_team": [f"Not staff of the patient's site: {', '.join(sorted(bad))}."]})
    before = set(patient.care_team.values_list("pk", flat=True))
    after = {m.pk for m in members}
    if before != after:
        patient.care_team.set(members)
        audit_record(
            actor=actor,
            action="patient.care_team",
            obj=patient,
            detail={"added": sorted(m.username for m in members if m.pk not in before), "removed": len(before - after)},
        )
    return sorted(after)
