import uuid

from django.db import models


class ClinicalModel(models.Model):
    """Base for every record that appears in a URL or payload: a public UUID, integer key internal."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
