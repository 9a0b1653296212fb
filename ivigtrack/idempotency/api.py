"""``Idempotency-Key`` on API POSTs: the same key from the same user within 24 hours gets the
first response again and writes nothing.

`IdempotentViewMixin` (on every API viewset) claims the key before the view runs: a row with a
unique (user, key) constraint, so two copies arriving at once cannot both write: the second gets
a 409 while the first is in progress. The first response (below 500) is stored with the key;
a 5xx response gives the key back so the client may retry. A key reused for another URL or
method is a 422. Keys are at most 255 characters.
"""

from __future__ import annotations

import json
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .models import IdempotencyKey

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
ABANDONED = timedelta(minutes=5)  # a claim never completed (its process died) is released


class Replay(exceptions.APIException):
    """Raised from `initial` to answer with the stored response (never shown as an error)."""

    def __init__(self, stored: IdempotencyKey):
        self.stored = stored
        super().__init__()


class KeyInProgress(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A request with this Idempotency-Key is still being processed; retry in a moment."
    default_code = "idempotency_in_progress"


class KeyReused(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "This Idempotency-Key was used for another request."
    default_code = "idempotency_key_reused"


class IdempotentViewMixin:
    _idempotency: IdempotencyKey | None = None

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        key = request.headers.get(HEADER, "").strip()
        if request.method != "POST" or not key or not request.user.is_authenticated:
            return
        if len(key) > 255:
            raise exceptions.ValidationError({HEADER: ["At most 255 characters."]})
        now = timezone.now()
        IdempotencyKey.objects.filter(user=request.user, key=key, created_at__lt=now - LIFETIME).delete()
        try:
            with transaction.atomic():
                self._idempotency = IdempotencyKey.objects.create(
                    user=request.user, key=key, method=request.method, path=request.path[:500]
                )
        except IntegrityError:
            stored = IdempotencyKey.objects.filter(user=request.user, key=key).first()
            if stored is None:  # expired and removed meanwhile
                raise KeyInProgress() from None
            if (stored.method, stored.path) != (request.method, request.path[:500]):
                raise KeyReused() from None
            if not stored.completed:
                if stored.created_at < now - ABANDONED:  # its process died: let this one proceed
                    IdempotencyKey.objects.filter(pk=stored.pk, completed=False).delete()
                    return self.initial(request, *args, **kwargs)
                raise KeyInProgress() from None
            raise Replay(stored) from None

    def handle_exception(self, exc):
        if isinstance(exc, Replay):
            response = Response(exc.stored.body, status=exc.stored.status_code)
            response["Idempotent-Replayed"] = "true"
            return response
        try:
            return super().handle_exception(exc)
        except Exception:  # a 500 is coming: give the key back so the client may retry
            claimed, self._idempotency = self._idempotency, None
            if claimed is not None:
                IdempotencyKey.objects.filter(pk=claimed.pk).delete()
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        claimed, self._idempotency = self._idempotency, None
        if claimed is not None:
            if response.status_code >= 500:
                IdempotencyKey.objects.filter(pk=claimed.pk).delete()
            else:
                body = json.loads(json.dumps(getattr(response, "data", None), cls=JSONEncoder))
                IdempotencyKey.objects.filter(pk=claimed.pk).update(
                    completed=True, status_code=response.status_code, body=body
                )
        return response
