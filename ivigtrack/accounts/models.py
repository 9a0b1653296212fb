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

    @property
    def is_clinical_staff(self) -> bool:
        return self.is_active and (self.role in (self.Role.CLINICIAN, self.Role.NURSE) or self.is_superuser)

    @property
    def is_clinician(self) -> bool:
        return self.is_active and (self.role == self.Role.CLINICIAN or self.is_superuser)

    @property
    def is_patient_user(self) -> bool:
        return self.is_active and self.role == self.Role.PATIENT and not self.is_superuser
