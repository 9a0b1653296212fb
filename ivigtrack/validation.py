"""One validation for every door: the checks every clinical record passes, whoever writes it.

Forms, the API, the portal and the admin all end in the model's ``full_clean()`` (the services'
``save_clinical``, the admin's ModelForm), whose ``clean()`` on every ``ClinicalModel`` runs
`record_errors`:

- every date and date-time between 1900-01-01 and 2100-12-31 (nothing clinical is older, and a
  far-future date is a typing slip that would overflow date arithmetic later);
- nothing clinical dated before the patient's date of birth;
- free text (TextField) at most TEXT_MAX_LENGTH characters (CharFields have their max_length);
- the record's own checks: a model may define ``record_checks(self) -> dict[field, [messages]]``,
  and other apps may add checks with `register_check(Model, fn)`.

The API's date fields (``ivigtrack.api.fields``) use the same bounds, so a JSON date out of range
is refused before it reaches a service, with the same message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
TEXT_MAX_LENGTH = 5000
DATE_RANGE_MESSAGE = f"Must be between {EARLIEST_DATE:%d/%m/%Y} and {LATEST_DATE:%d/%m/%Y}."

_extra_checks: dict[type, list[Callable]] = defaultdict(list)


def register_check(model: type, check: Callable[[models.Model], dict]) -> None:
    """Add `check(obj) -> {field: [messages]}` to every save of `model` (through full_clean)."""
    if check not in _extra_checks[model]:
        _extra_checks[model].append(check)


def date_in_range(day: date) -> bool:
    return EARLIEST_DATE <= day <= LATEST_DATE


def _as_date(value) -> date | None:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, date):
        return value
    return None  # not parsed yet: clean_fields reports it


def _date_of_birth(obj: models.Model) -> date | None:
    """The date of birth the record's dates may not precede: its own (the patient's record) or
    its patient's."""
    if any(field.name == "date_of_birth" for field in obj._meta.concrete_fields):
        dob = obj.date_of_birth
        return dob if isinstance(dob, date) else None
    if getattr(obj, "patient_id", None):
        return getattr(obj.patient, "date_of_birth", None)
    return None


def record_errors(obj: models.Model) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = defaultdict(list)
    dob = _date_of_birth(obj)
    for field in obj._meta.concrete_fields:
        if not field.editable or getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            continue
        value = getattr(obj, field.attname, None)
        if value is None or value == "":
            continue
        if isinstance(field, models.DateField):  # DateTimeField too
            day = _as_date(value)
            if day is None:
                continue
            if not date_in_range(day):
                errors[field.name].append(DATE_RANGE_MESSAGE)
            elif dob and field.name != "date_of_birth" and day < dob:
                errors[field.name].append(f"Cannot be before the patient's date of birth ({dob:%d/%m/%Y}).")
        elif isinstance(field, models.TextField) and isinstance(value, str) and len(value) > TEXT_MAX_LENGTH:
            errors[field.name].append(f"At most {TEXT_MAX_LENGTH} characters (it has {len(value)}).")
    own = getattr(obj, "record_checks", None)
    results = [own() if own else {}, *(check(obj) for check in _extra_checks.get(type(obj), []))]
    for result in results:
        for name, messages in result.items():
            errors[name].extend(messages)
    return dict(errors)


def validate_record(obj: models.Model) -> None:
    errors = record_errors(obj)
    if errors:
        raise ValidationError(errors)
