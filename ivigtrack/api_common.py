"""Shared pieces of the REST API v1 (and the FHIR view): authentication order, the role
permission, pagination, UUID references, plausible dates, date-range filters and the
viewset base that reads through the scoped selectors and writes through the services.

The rules of who may do what (DESIGN §1) live in `RolePermission`; which rows a caller may
see lives in the selectors (scoping is authorisation), so another patient's id is a 404
everywhere. Views and serializers only parse and shape: every write goes through a service.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta

import django_filters
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import models
from django.db.models import QuerySet
from django.http import Http404
from django.urls import URLPattern, URLResolver
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import exceptions, serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import SAFE_METHODS, AllowAny, BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.viewsets import GenericViewSet

from ivigtrack.audit.services import audit_record

# Token first: its WWW-Authenticate header turns "not logged in" into 401 (not 403).
# Session second: browsers (staff pages, portal) call the API with their cookie and CSRF.
API_AUTHENTICATION = [TokenAuthentication, SessionAuthentication]

# Dates outside this window are typing mistakes (and keep date arithmetic far from overflow).
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record was changed by someone else; reload it."
    default_code = "conflict"


# --- roles --------------------------------------------------------------------------------


def role_of(user) -> str:
    """The caller's role: superuser, clinician, nurse, patient, or "" (no clinical access)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return ""
    if user.is_superuser:
        return "superuser"
    if getattr(user, "is_patient_user", False):
        return "patient"
    if getattr(user, "is_clinical_staff", False):
        return user.role
    return ""


def is_staff_user(user) -> bool:
    return bool(getattr(user, "is_clinical_staff", False))


class RolePermission(BasePermission):
    """DESIGN §1 as view attributes.

    - ``write_roles``: who may create/update/delete, besides a superuser (who always may;
      ``{"superuser"}`` means the superuser alone). Default: clinicians and nurses.
    - ``nurse_fields``: a nurse may PATCH these fields only (e.g. a patient's weight).
    - ``patient_read``: a patient may read (their own rows, by the selectors' scope).
    - ``patient_create``: a patient may POST to create (their own infusions, symptom reports).
    - ``action_roles``: per extra action, who may call it (overrides the above).
    Anonymous callers are refused before this runs its checks (401 through TokenAuthentication).
    """

    message = "Your role does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        role = role_of(user)
        if not role:
            return False
        action = getattr(view, "action", None)
        action_roles = getattr(view, "action_roles", {})
        if action in action_roles:
            return role == "superuser" or role in action_roles[action]
        if request.method in SAFE_METHODS:
            return role != "patient" or getattr(view, "patient_read", False)
        if role == "patient":
            return action == "create" and getattr(view, "patient_create", False)
        write_roles = set(getattr(view, "write_roles", {"clinician", "nurse"}))
        if role == "superuser" or role in write_roles:
            return True
        nurse_fields = getattr(view, "nurse_fields", set())
        if role == "nurse" and nurse_fields and action == "partial_update":
            data = request.data if isinstance(request.data, dict) else {}
            return bool(data) and set(data) <= set(nurse_fields)
        return False


# --- pagination and schema ----------------------------------------------------------------------


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ApiAutoSchema(AutoSchema):
    """One tag per resource (the router basename) instead of one "v1" tag for everything."""

    def get_tags(self) -> list[str]:
        basename = getattr(self.view, "basename", None)
        return [basename] if basename else super().get_tags()


# --- fields -----------------------------------------------------------------------------------


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
        raise serializers.ValidationError(f"Must be between {EARLIEST_DATE} and {LATEST_DATE}.")


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


# --- filters ------------------------------------------------------------------------------------


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


# --- viewset base -----------------------------------------------------------------------------


class ApiViewSet(GenericViewSet):
    """Scoped reads by public UUID, service writes, staff reads audited.

    Subclasses set ``serializer_class`` (one per resource: it parses the request and shapes
    the response; + ``detail_serializer_class`` for one object), ``resource`` (audit label),
    ``get_queryset()`` from a selector, and ``perform_create(data)`` /
    ``perform_update(obj, data)`` calling a service and returning the saved object.
    """

    authentication_classes = API_AUTHENTICATION
    permission_classes = [RolePermission]
    pagination_class = Pagination
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    parser_classes = [JSONParser]
    schema = ApiAutoSchema()
    resource = ""
    detail_serializer_class: type[serializers.Serializer] | None = None

    def get_serializer_class(self):
        if self.action == "retrieve" and self.detail_serializer_class:
            return self.detail_serializer_class
        return super().get_serializer_class()

    # -- lookups: a malformed id is simply not found
    def get_object(self):
        key = parse_uuid(self.kwargs.get(self.lookup_url_kwarg))
        if key is None:
            raise Http404("No such record.")
        obj = self.get_queryset().filter(public_id=key).first()
        if obj is None:
            raise Http404("No such record.")
        self.check_object_permissions(self.request, obj)
        return obj

    def reload(self, obj):
        """The saved object as the list/detail endpoints show it (annotations, related rows)."""
        return self.get_queryset().get(pk=obj.pk)

    def output(self, obj, *, status_code=status.HTTP_200_OK) -> Response:
        cls = self.detail_serializer_class or self.serializer_class
        return Response(cls(obj, context=self.get_serializer_context()).data, status=status_code)

    # -- audit: every staff read of a patient record (one row per request, never per row)
    def audit_read(self, *, patient=None, obj=None, detail: dict | None = None) -> None:
        user = self.request.user
        if not is_staff_user(user):
            return
        info = {"resource": self.resource, "via": "api", **(detail or {})}
        if patient is not None or obj is not None:
            audit_record(
                actor=user,
                action="patient.view",
                obj=obj if obj is not None else patient,
                patient_id=getattr(patient, "pk", None),
                detail=info,
            )
        else:
            params = self.request.query_params
            query = {key: params.get(key, "")[:100] for key in list(params)[:20]}
            audit_record(actor=user, action=f"{self.resource}.list", detail={**info, "query": query})


class ListRetrieveMixin:
    """list + retrieve, with the staff read audited (one row per request)."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = self.get_serializer(page, many=True).data
        self.audit_read(patient=getattr(request, "api_patient", None))
        return self.get_paginated_response(data)

    def retrieve(self, request, *args, **kwargs):
        obj = self.get_object()
        self.audit_read(patient=getattr(obj, "patient", None), obj=obj)
        return Response(self.get_serializer(obj).data)


class CreateMixin:
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.perform_create(dict(serializer.validated_data))
        return self.output(self.reload(obj), status_code=status.HTTP_201_CREATED)


class UpdateMixin:
    def update(self, request, *args, partial: bool = False, **kwargs):
        obj = self.get_object()
        serializer = self.get_serializer(obj, data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        given = data.get("patient")
        if given is not None and given.pk == getattr(obj, "patient_id", None):
            data.pop("patient")  # unchanged; moving a record to another patient is refused by the service
        obj = self.perform_update(obj, data)
        return self.output(self.reload(obj))

    def partial_update(self, request, *args, **kwargs):
        return self.update(request, *args, partial=True, **kwargs)


# --- URLs ----------------------------------------------------------------------------------------


def open_to_api_auth(patterns: list) -> list:
    """Exempt API views from LoginRequiredMiddleware (it would redirect a token client to the
    login page); DRF authenticates them and answers 401/403 itself."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            open_to_api_auth(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            login_not_required(entry.callback)
    return patterns


# --- token ---------------------------------------------------------------------------------------


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, style={"input_type": "password"}, trim_whitespace=False)


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()


class TokenView(ObtainAuthToken):
    """``POST /api/v1/auth/token/`` {username, password} -> {"token": ...}.

    ``authenticate(request=...)`` (inside AuthTokenSerializer) goes through django-axes, so
    failed attempts count towards the lockout; the "token" throttle scope limits the rate.
    """

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]
    throttle_scope = "token"
    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]

    @extend_schema(
        request=TokenRequestSerializer,
        responses={200: TokenResponseSerializer},
        auth=[],
        tags=["auth"],
        summary="Exchange a username and password for an API token",
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
