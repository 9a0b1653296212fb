import uuid

from django.conf import settings
from django.db import models


class ClinicalModel(models.Model):
    """Base for every record that appears in a URL or payload: a public UUID, integer key internal."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def clean(self) -> None:
        """The checks of every door (ivigtrack.validation): dates in range and not before the
        patient's birth, free-text limits, the record's own `record_checks`."""
        super().clean()
        from ivigtrack.validation import validate_record

        validate_record(self)


def choices_constraint(field: str, choices, *, name: str, message: str | None = None) -> models.CheckConstraint:
    """CHECK (field IN the choices' values): the database refuses a code the model does not know.

    `choices` is a Choices class (its `.values`) or the values themselves; `message` is the
    constraint's violation_error_message (Django's default when None).
    """
    values = choices.values if isinstance(choices, type) and issubclass(choices, models.Choices) else list(choices)
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__in": values}), name=name, violation_error_message=message
    )


class CurrentRecordManager(models.Manager):
    """The default manager of a correctable record: only the rows that are not entered in error.

    Every rule, score, chart, watch window, dosing weight and duplicate check reads through
    ``objects`` (and so through related managers and prefetches), so a record marked entered in
    error leaves all of them at once without each read having to remember. The pages and API
    lists that show corrections struck through read ``all_objects``."""

    def get_queryset(self):
        return super().get_queryset().filter(entered_in_error=False)


class AllRecordsManager(models.Manager):
    """Every row, the records entered in error included (``all_objects``)."""


class Correctable(models.Model):
    """A clinical record that is never deleted, only marked entered in error (with a reason, who
    and when): ``ivigtrack.corrections.mark_entered_in_error`` does it."""

    entered_in_error = models.BooleanField(default=False, db_default=False, editable=False)
    entered_in_error_reason = models.TextField(blank=True, default="", db_default="", editable=False)
    entered_in_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    entered_in_error_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    objects = CurrentRecordManager()
    all_objects = AllRecordsManager()

    class Meta:
        abstract = True
