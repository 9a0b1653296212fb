"""Query filters: ``from`` / ``to`` on a date or instant, and FilterSets built from a dict."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import django_filters
from django import forms
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ivigtrack.api.fields import EARLIEST_DATE, LATEST_DATE


class InstantField(forms.Field):
    """ISO date or date-time. A date means the whole day: ``(start, end_of_day_exclusive)``."""

    default_error_messages = {"invalid": "Enter an ISO 8601 date or date-time."}

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:  # a date first: fromisoformat would also read "2024-07-01" as a midnight date-time
            day = parse_date(text)
            moment = None if day else parse_datetime(text)
        except ValueError:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid") from None
        if moment is None and day is None:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        if moment is not None:
            if not EARLIEST_DATE <= moment.date() <= LATEST_DATE:
                raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return (moment, moment)
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise DjangoValidationError(self.error_messages["invalid"], code="invalid")
        start = timezone.make_aware(datetime.combine(day, time.min))
        return (start, start + timedelta(days=1))


@extend_schema_field(OpenApiTypes.STR)
class InstantFilter(django_filters.Filter):
    """``from`` (inclusive) or ``to`` (inclusive of a whole day when a date is given)."""

    field_class = InstantField

    def __init__(self, *args, bound: str, **kwargs):
        self.bound = bound
        super().__init__(*args, **kwargs)

    def filter(self, qs, value):
        if value is None:
            return qs
        start, end = value
        if self.bound == "from":
            return qs.filter(**{f"{self.field_name}__gte": start})
        if start == end:  # a date-time: inclusive
            return qs.filter(**{f"{self.field_name}__lte": end})
        return qs.filter(**{f"{self.field_name}__lt": end})


def date_range_filters(field_name: str) -> dict[str, InstantFilter]:
    """``from`` / ``to`` filters on ``field_name`` (Python keywords, so built as a dict)."""
    return {
        "from": InstantFilter(
            field_name=field_name, bound="from", label=f"{field_name} on or after (ISO date or date-time)"
        ),
        "to": InstantFilter(
            field_name=field_name, bound="to", label=f"{field_name} on or before (ISO date or date-time)"
        ),
    }


def filterset(
    name: str, model, filters: dict, *, base: type[django_filters.FilterSet] = django_filters.FilterSet
) -> type[django_filters.FilterSet]:
    """Build a FilterSet class; filters may have names that are not identifiers (``from``, ``to``)."""
    attrs = dict(filters)
    attrs["Meta"] = type("Meta", (), {"model": model, "fields": []})
    return type(name, (base,), attrs)
