from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        login_not_required(auth_views.LoginView.as_view()),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("api/", include("ivigtrack.api.urls")),
    path("fhir/", include("fhir_r4.urls")),
    path("staff/", include("ivigtrack.staff_urls", namespace="staff")),
    path("portal/", include("ivigtrack.portal_urls", namespace="portal")),
]

handler403 = "ivigtrack.views.forbidden"
handler404 = "ivigtrack.views.not_found"
handler500 = "ivigtrack.views.server_error"
