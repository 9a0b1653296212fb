"""/fhir/ routes (read-only FHIR R4 view of the safety layer; see fhir_r4/views.py)."""

from django.urls import path

from fhir_r4.views import TYPES, CapabilityView, FhirReadView, FhirSearchView
from ivigtrack.api.viewsets import open_to_api_auth

app_name = "fhir"
urlpatterns = open_to_api_auth(
    [path("metadata", CapabilityView.as_view(), name="metadata")]
    + [
        route
        for name, fhir_type in TYPES.items()
        for route in (
            path(name, FhirSearchView.as_view(fhir_type=fhir_type), name=f"{name}-search"),
            path(f"{name}/<str:id>", FhirReadView.as_view(fhir_type=fhir_type), name=f"{name}-read"),
        )
    ]
)
