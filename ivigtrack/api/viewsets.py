"""The viewset base of every resource: scoped reads by public UUID, writes through the
services, staff reads audited; the schema's tags, and the URL helper that leaves
authentication to DRF (authentication, pagination and the schema class are REST_FRAMEWORK's
defaults). Views and serializers only parse and shape: every write goes through a service."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.urls import URLPattern, URLResolver
from drf_spectacular.openapi import AutoSchema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.viewsets import GenericViewSet

from ivigtrack.accounts.zones import activate_for_user
from ivigtrack.api.fields import parse_uuid
from ivigtrack.api.parsers import JSONParser
from ivigtrack.api.permissions import RolePermission
from ivigtrack.audit.services import audit_staff_read
from ivigtrack.idempotency.api import IdempotentViewMixin


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The record was changed by someone else; reload it."
    default_code = "conflict"


class ApiAutoSchema(AutoSchema):
    """One tag per resource (the router basename) instead of one "v1" tag for everything.
    ``REST_FRAMEWORK["DEFAULT_SCHEMA_CLASS"]``: views without a basename keep the default tags."""

    def get_tags(self) -> list[str]:
        basename = getattr(self.view, "basename", None)
        return [basename] if basename else super().get_tags()


class ApiViewSet(IdempotentViewMixin, GenericViewSet):
    """Scoped reads by public UUID, service writes, staff reads audited.

    Subclasses set ``serializer_class`` (one per resource: it parses the request and shapes
    the response; + ``detail_serializer_class`` for one object), ``resource`` (audit label),
    ``get_queryset()`` from a selector, and ``perform_create(data)`` /
    ``perform_update(obj, data)`` calling a service and returning the saved object.
    """

    permission_classes = [RolePermission]
    lookup_field = "public_id"
    lookup_url_kwarg = "id"
    parser_classes = [JSONParser]
    resource = ""
    detail_serializer_class: type[serializers.Serializer] | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        activate_for_user(request.user)  # authenticated now (a token is not seen by the middleware)

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
    def audit_read(self, *, patient=None, obj=None, detail: dict | None = None, shown=()) -> None:
        params = self.request.query_params
        audit_staff_read(
            shown=shown,
            actor=self.request.user,
            via="api",
            resource=self.resource,
            patient=patient,
            obj=obj,
            detail=detail,
            list_action=f"{self.resource}.list",
            list_detail={"query": {key: params.get(key, "")[:100] for key in list(params)[:20]}},
        )


class ListRetrieveMixin:
    """list + retrieve, with the staff read audited (one row per request)."""

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        data = self.get_serializer(page, many=True).data
        self.audit_read(patient=getattr(request, "api_patient", None), shown=page if page is not None else queryset)
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


def open_to_api_auth(patterns: list) -> list:
    """Exempt API views from LoginRequiredMiddleware (it would redirect a token client to the
    login page); DRF authenticates them and answers 401/403 itself."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            open_to_api_auth(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            login_not_required(entry.callback)
    return patterns
