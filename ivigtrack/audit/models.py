import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class AuditEvent(models.Model):
    """Who did what to which patient's record, and when. Written by services, never by signals.

    `patient_id` is a plain integer rather than a foreign key so that the audit app stays
    below `patients` in the import order and an audit row can never block a delete.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(max_length=150, blank=True)  # "job:sweep" for jobs
    action = models.CharField(max_length=64)  # e.g. "infusion.record", "patient.view", "flag.raise"
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)  # public UUID of the object
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["patient_id", "-at"], name="audit_patient_at"),
            # Alert governance counts the flags snoozed at least once (risk.stats): only the audit
            # remembers a snooze that ended. A partial index holds just those rows, so the count
            # reads them and not every audit row of the period.
            models.Index(fields=["at", "object_id"], condition=Q(action="flag.snooze"), name="audit_flag_snooze"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class AuditEventPatient(models.Model):
    """The patients a staff list or search showed, for the one AuditEvent of that read: a
    patient's "who looked at my record" finds the searches that returned them, not only the
    reads of their own page."""

    event = models.ForeignKey(AuditEvent, on_delete=models.CASCADE, related_name="patients_shown")
    patient_id = models.BigIntegerField()

    class Meta:
        indexes = [models.Index(fields=["patient_id", "event"], name="audit_shown_patient")]
        constraints = [models.UniqueConstraint(fields=["event", "patient_id"], name="audit_shown_once")]
