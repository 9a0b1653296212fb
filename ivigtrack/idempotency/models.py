"""What makes a repeated write write once: API Idempotency-Keys and one-time page-form tokens.

Both are rows in the database (not only the cache), so a retry finds them after a restart or
with Redis down, and a unique constraint decides between two copies arriving at once."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class IdempotencyKey(models.Model):
    """An API POST sent with an ``Idempotency-Key`` header, and the response it got."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    completed = models.BooleanField(default=False)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.JSONField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_user_key")]
        indexes = [models.Index(fields=["created_at"], name="idempotency_created")]


class FormSubmission(models.Model):
    """A one-time form token, spent by the first POST that carries it; where that POST went."""

    token = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    path = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    redirect_to = models.CharField(max_length=500, blank=True)

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="formsubmission_created")]
