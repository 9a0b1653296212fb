"""Staff invite a patient to the portal by e-mail from the patient page: a portal login is made
(or the pending one reused) and a one-time link to choose a password is sent, valid
``IVIGTRACK_INVITATION_HOURS`` (72). No superuser is needed to give a patient a login."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

from ivigtrack.accounts.invitations import invitation_path
from ivigtrack.audit.services import audit_record
from ivigtrack.web.views import bound, staff_form_view

from .models import Patient
from .pages import patient_record_form, staff_patient


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Patient's e-mail", max_length=254)


def patient_invite(*, actor, patient: Patient, email: str, base_url: str) -> Patient:
    """Make or reuse the patient's pending portal login and e-mail them the link (after commit)."""
    User = get_user_model()
    email = User.objects.normalize_email(email).strip()
    with transaction.atomic():
        patient = Patient.objects.select_for_update(of=("self",)).select_related("user").get(pk=patient.pk)
        user = patient.user
        if user is not None and user.has_usable_password():
            raise ValidationError(
                {"email": "This patient already has a portal login; they can reset their password from the login page."}
            )
        taken = User.objects.filter(Q(username__iexact=email) | Q(email__iexact=email))
        if user is not None:
            taken = taken.exclude(pk=user.pk)
        if taken.exists():
            raise ValidationError({"email": "This e-mail already belongs to another login."})
        if user is None:
            user = User(username=email, email=email, role=User.Role.PATIENT, first_name=patient.given_name)
            user.set_unusable_password()
            user.save()
            patient.user = user
            patient.save(update_fields=["user"])
        else:
            user.username = user.email = email
            user.save(update_fields=["username", "email"])
        audit_record(actor=actor, action="patient.invite", obj=patient, detail={"username": user.username})
        link = base_url.rstrip("/") + invitation_path(user)
        body = render_to_string(
            "registration/invitation_email.txt",
            {
                "name": patient.given_name,
                "clinic": "Your clinic",
                "username": user.username,
                "link": link,
                "hours": settings.IVIGTRACK_INVITATION_HOURS,
            },
        )
        transaction.on_commit(
            lambda: send_mail("Your ivigtrack portal invitation", body, settings.DEFAULT_FROM_EMAIL, [email])
        )
    return patient


@staff_form_view
def invite_view(request: HttpRequest, patient_id) -> HttpResponse:
    patient = staff_patient(request, patient_id)
    initial = {"email": patient.user.email} if patient.user_id and patient.user.email else None
    form = InvitationForm(bound(request), initial=initial)
    return patient_record_form(
        request,
        patient=patient,
        form=form,
        save=lambda data: patient_invite(
            actor=request.user, patient=patient, email=data["email"], base_url=request.build_absolute_uri("/")
        ),
        title="Invite to the patient portal",
        success_message="Invitation sent. The link works once, for 72 hours.",
        submit_label="Send invitation",
        intro="The patient gets an e-mail with a link to choose a password; their username is the e-mail address.",
    )
