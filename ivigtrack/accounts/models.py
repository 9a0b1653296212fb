import uuid
import zoneinfo

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models

from ivigtrack import dates
from ivigtrack.models_base import choices_constraint


def validate_time_zone(value: str) -> None:
    """An IANA zone name the server knows (``Australia/Sydney``, ``America/New_York``, ``UTC``)."""
    if not value or value not in zoneinfo.available_timezones() and value != "UTC":
        raise ValidationError(f"{value!r} is not an IANA time zone (e.g. Europe/London, Australia/Sydney).")


def split_emails(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace(";", ",").replace("\n", ",").split(",") if part.strip()]


def validate_email_list(value: str) -> None:
    bad = []
    for address in split_emails(value):
        try:
            validate_email(address)
        except ValidationError:
            bad.append(address)
    if bad:
        raise ValidationError(f"Not an e-mail address: {', '.join(bad)}.")


class SiteQuerySet(models.QuerySet):
    def default(self) -> "Site":
        """The site of an install that never added one (settings IVIGTRACK_DEFAULT_SITE_*)."""
        site, _ = self.get_or_create(
            code=settings.IVIGTRACK_DEFAULT_SITE_CODE,
            defaults={"name": settings.IVIGTRACK_DEFAULT_SITE_NAME, "time_zone": settings.IVIGTRACK_TIME_ZONE},
        )
        return site


class Site(models.Model):
    """A clinic of the network. Staff are members of one or more; every patient has one home site."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=120)
    code = models.CharField(max_length=16, unique=True, help_text="Short and unique, e.g. SYD.")
    time_zone = models.CharField(
        max_length=64, default="UTC", validators=[validate_time_zone], help_text="IANA zone, e.g. Australia/Sydney."
    )
    date_format = models.CharField(
        max_length=3,
        choices=dates.CHOICES,
        default=dates.DEFAULT,
        db_default=dates.DEFAULT,
        help_text="How this site's pages print dates, and how its staff and patients type them.",
    )
    phone = models.CharField(max_length=32, blank=True, help_text="Shown to patients as a tap-to-call link.")
    emergency_number = models.CharField(max_length=8, blank=True, default="112", help_text="999, 000, 911, 112…")
    alert_emails = models.TextField(
        blank=True,
        validators=[validate_email_list],
        help_text="Who gets this site's urgent and emergency e-mails after the care team (comma or line separated).",
    )

    objects = SiteQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone or "UTC")

    @property
    def alert_email_list(self) -> list[str]:
        return split_emails(self.alert_emails)

    @property
    def phone_href(self) -> str:
        return "tel:" + "".join(ch for ch in self.phone if ch.isdigit() or ch == "+")

    @property
    def emergency_href(self) -> str:
        return "tel:" + "".join(ch for ch in self.emergency_number if ch.isdigit())


class User(AbstractUser):
    """A login. Staff (clinician, nurse) work in the clinic pages; patients use the portal."""

    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        NURSE = "nurse", "Nurse"
        PATIENT = "patient", "Patient"

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PATIENT)
    sites = models.ManyToManyField(
        Site, blank=True, related_name="staff", help_text="Staff see only the patients of their sites."
    )

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

    @property
    def site_list(self) -> list[Site]:
        """The sites this staff member is a member of (one query, cached on the object: a request)."""
        cached = getattr(self, "_site_list", None)
        if cached is None:
            cached = self._site_list = list(self.sites.order_by("name", "id")) if self.pk else []
        return cached

    @property
    def site_ids(self) -> list[int]:
        return [site.pk for site in self.site_list]
