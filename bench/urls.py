"""The app's URLs plus `/bench/floor/`: a bare DRF list, the floor of the page figures.

The floor is the cheapest honest way to serve the same 50 patient rows through the same
stack: a ModelSerializer of Patient's own fields, the API's pagination class (page of 50
with its COUNT), the API's authentication (token or session) and permission (logged in), all
DRF's defaults, the same ordering. No risk annotation, no derived fields, no audit row, no
filters.
"""

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from rest_framework import generics, serializers

from ivigtrack.urls import handler403, handler404, handler500  # noqa: F401
from ivigtrack.urls import urlpatterns as app_urlpatterns
from patients.models import Patient


class FloorPatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = [
            "public_id",
            "mrn",
            "given_name",
            "family_name",
            "date_of_birth",
            "sex",
            "height_cm",
            "weight_kg",
            "weight_measured_on",
            "diagnosis",
            "active",
            "created_at",
            "updated_at",
        ]


class FloorPatientList(generics.ListAPIView):
    serializer_class = FloorPatientSerializer
    throttle_classes: list = []

    def get_queryset(self):
        return Patient.objects.order_by("family_name", "given_name", "id")


urlpatterns = [
    path("bench/floor/", login_not_required(FloorPatientList.as_view()), name="bench-floor"),
    *app_urlpatterns,
]
