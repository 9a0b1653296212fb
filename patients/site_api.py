"""REST API v1 for sites (``sites/``: read for staff, their sites) and the patient fields that
name a site and a care team (used by ``patients/``)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ivigtrack.accounts.models import Site
from ivigtrack.api.fields import PublicIdField
from ivigtrack.api.viewsets import ApiViewSet, ListRetrieveMixin

from .selectors import sees_all_sites, site_lookup, site_scope, staff_site_ids


@extend_schema_field(OpenApiTypes.UUID)
class SiteRef(serializers.RelatedField):
    """A site by its id (or its code), among the caller's sites; another site is a 400 here."""

    default_error_messages = {"does_not_exist": "No such site (or not one of yours).", "invalid": "Give a site id."}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", None)
        super().__init__(**kwargs)

    def get_queryset(self):
        return site_scope(getattr(self.context.get("request"), "user", None))

    def to_internal_value(self, data):
        if not isinstance(data, str) or "\x00" in data:
            self.fail("invalid")
        site = self.get_queryset().filter(site_lookup(data)).first()
        if site is None:
            self.fail("does_not_exist")
        return site

    def to_representation(self, value):
        return str(value.public_id)

    def get_choices(self, cutoff=None):
        return {}


class CareTeamField(serializers.ListField):
    """The care team as usernames of staff (of the patient's site: checked by the service)."""

    child = serializers.CharField(max_length=150)

    def to_internal_value(self, data):
        names = super().to_internal_value(data)
        if any("\x00" in name for name in names):
            raise serializers.ValidationError("Usernames cannot contain NUL characters.")
        request = self.context.get("request")
        staff = {
            user.username: user
            for user in get_user_model().objects.filter(username__in=names, is_active=True)
            if getattr(user, "is_clinical_staff", False)
            and (sees_all_sites(request.user) or set(user.site_ids) & set(staff_site_ids(request.user)))
        }
        unknown = sorted(set(names) - set(staff))
        if unknown:
            raise serializers.ValidationError(f"No such staff member at your sites: {', '.join(unknown)}.")
        return [staff[name] for name in dict.fromkeys(names)]

    def to_representation(self, value):
        return sorted(user.username for user in value.all())


class SiteSerializer(serializers.ModelSerializer):
    id = PublicIdField()

    class Meta:
        model = Site
        fields = ["id", "name", "code", "time_zone", "date_format", "phone", "emergency_number"]
        read_only_fields = fields


class SiteViewSet(ListRetrieveMixin, ApiViewSet):
    """The clinic's sites a staff member works at (a superuser: all). Read-only; sites are
    added and changed in the admin."""

    resource = "site"
    serializer_class = SiteSerializer
    patient_read = False

    def get_queryset(self):
        return site_scope(self.request.user).order_by("name", "id")

    def audit_read(self, **kwargs):  # no patient data
        return None
