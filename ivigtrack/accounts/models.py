from django.contrib.auth.models import AbstractUser
from django.db import models

from ivigtrack.models_base import choices_constraint


class User(AbstractUser):
    """A login. Staff (clinician, nurse) work in the clinic pages; patients use the portal."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        NURSE = "nurse", "Nurse"
        PATIENT = "patient", "Patient"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)

    class Meta:
        constraints = [choices_constraint("role", ["clinician", "nurse", "patient"], name="user_role_valid")]

    def save(self, *args, **kwargs):
        """A password change or a deactivation revokes every API token of the user. Sessions end
        too: Django checks each session against the password hash (a changed password ends every
        other session; the password-change page keeps the one in use) and refuses inactive users."""
        update_fields = kwargs.get("update_fields")
        watched = update_fields is None or {"password", "is_active"} & set(update_fields)
        revoke = False
        if self.pk and watched:
            before = type(self).objects.filter(pk=self.pk).values("password", "is_active").first()
            revoke = before is not None and (
                before["password"] != self.password or (before["is_active"] and not self.is_active)
            )
        super().save(*args, **kwargs)
        if revoke:
            from knox.models import AuthToken

            AuthToken.objects.filter(user=self).delete()

    @property
    def is_clinical_staff(self) -> bool:
        return self.is_active and (self.role in (self.Role.CLINICIAN, self.Role.NURSE) or self.is_superuser)

    @property
    def is_clinician(self) -> bool:
        return self.is_active and (self.role == self.Role.CLINICIAN or self.is_superuser)

    @property
    def is_patient_user(self) -> bool:
        return self.is_active and self.role == self.Role.PATIENT and not self.is_superuser
