"""/api/ routes: REST API v1 (``/api/v1/...``), the token endpoint, the OpenAPI schema and the
Swagger UI (served from drf-spectacular-sidecar's static files: works offline).

Mounted at ``path("api/", include("ivigtrack.api.urls"))``. Every view here authenticates
through DRF (token or session), so they are exempt from LoginRequiredMiddleware, which would
otherwise redirect a token client to the login page.
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from infusions.api import DrugViewSet, InfusionViewSet, MedicationViewSet, ProductViewSet, RegimenViewSet
from ivigtrack.api.auth import LogoutView, TokenView
from ivigtrack.api.viewsets import open_to_api_auth
from patients.access_log import AccessLogView
from patients.api import (
    ConditionViewSet,
    ThrombosisEventViewSet,
    VascularAccessViewSet,
)
from patients.lab_api import LabResultViewSet
from patients.site_api import SiteViewSet
from risk.api import AssessmentViewSet, FlagStatsViewSet, FlagViewSet, PatientViewSet, SymptomReportViewSet
from risk.api_haematology import HaematologyReviewViewSet
from risk.api_sweeps import SweepViewSet

router = DefaultRouter()
router.register("patients", PatientViewSet, basename="patient")
router.register("conditions", ConditionViewSet, basename="condition")
router.register("vascular-access", VascularAccessViewSet, basename="vascular-access")
router.register("thrombosis-events", ThrombosisEventViewSet, basename="thrombosis-event")
router.register("labs", LabResultViewSet, basename="lab")
router.register("symptom-reports", SymptomReportViewSet, basename="symptom-report")
router.register("products", ProductViewSet, basename="product")
router.register("regimens", RegimenViewSet, basename="regimen")
router.register("infusions", InfusionViewSet, basename="infusion")
router.register("medications", MedicationViewSet, basename="medication")
router.register("drugs", DrugViewSet, basename="drug")
router.register("assessments", AssessmentViewSet, basename="assessment")
router.register("flags", FlagViewSet, basename="flag")
router.register("flag-stats", FlagStatsViewSet, basename="flag-stats")
router.register("haematology-reviews", HaematologyReviewViewSet, basename="haematology-review")
router.register("sites", SiteViewSet, basename="site")
router.register("sweeps", SweepViewSet, basename="sweep")


app_name = "api"
urlpatterns = open_to_api_auth(
    [
        path("v1/auth/token/", TokenView.as_view(), name="token"),
        path("v1/auth/logout/", LogoutView.as_view(), name="logout"),
        path("v1/me/access-log/", AccessLogView.as_view(), name="me-access-log"),
        path("v1/", include(router.urls)),
        path("schema/", SpectacularAPIView.as_view(), name="schema"),
        path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    ]
)
