"""Serializer fields shared by every resource: public UUIDs, scoped references, plausible
dates and decimals as numbers; and the ModelSerializer base that only parses and shapes."""

from __future__ import annotations

import uuid
from datetime import date

from django.db import models
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

# Dates outside this window are typing mistakes (and keep date arithmetic far from overflow).
from ivigtrack.validation import DATE_RANGE_MESSAGE, EARLIEST_DATE, LATEST_DATE  # noqa: F401


def parse_uuid(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


@extend_schema_field(OpenApiTypes.UUID)
class ScopedRef(serializers.RelatedField):
    """A reference by public UUID, resolved within what the caller may see.

    ``scope`` is a callable (user) -> queryset. A malformed id, an unknown one and one
    outside the caller's scope all give a 400 on this field, and say no more.
    """

    default_error_messages = {
        "required": "This field is required.",
        "invalid": "Must be a valid UUID.",
        "does_not_exist": "No such {name} (or not yours to use).",
    }

    def __init__(self, scope, name: str, **kwargs):
        self.scope = scope
        self.ref_name = name
        kwargs.setdefault("queryset", None)
        if kwargs.get("read_only"):
            kwargs.pop("queryset")
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        request = self.context.get("request")
        return self.scope(getattr(request, "user", None))

    def to_internal_value(self, data):
        key = parse_uuid(data)
        if key is None or isinstance(data, bool | int | float):
            self.fail("invalid")
        obj = self.get_queryset().filter(public_id=key).first()
        if obj is None:
            self.fail("does_not_exist", name=self.ref_name)
        return obj

    def to_representation(self, value):
        return str(value.public_id)

    def get_choices(self, cutoff=None):  # never list every row in the browsable API
        return {}


class PublicIdField(serializers.UUIDField):
    """The object's ``id`` in payloads: its public UUID."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "public_id")
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.UUID)
class PatientRef(serializers.Field):
    """Read-only: the UUID of ``obj.patient`` (select_related on the queryset)."""

    def __init__(self, **kwargs):
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value.public_id)


def _check_date(value: date) -> None:
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise serializers.ValidationError(DATE_RANGE_MESSAGE)


class PlausibleDateField(serializers.DateField):
    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        _check_date(parsed)
        return parsed


class PlausibleDateTimeField(serializers.DateTimeField):
    """ISO 8601 date-time; an instant without an offset is read as UTC (TIME_ZONE)."""

    def to_internal_value(self, value):
        parsed = super().to_internal_value(value)
        _check_date(parsed.date())
        return parsed


class NumberDecimalField(serializers.DecimalField):
    """Decimals as JSON numbers (not strings) in responses; input accepts either."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(*args, **kwargs)


class ApiModelSerializer(serializers.ModelSerializer):
    """ModelSerializer used only to parse and shape (never ``.save()``: services write)."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.DateField: PlausibleDateField,
        models.DateTimeField: PlausibleDateTimeField,
        models.DecimalField: NumberDecimalField,
    }
