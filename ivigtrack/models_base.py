import uuid

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
