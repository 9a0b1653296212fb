"""/accounts/ pages of our own (the login and logout views are Django's, in ivigtrack/urls.py)."""

from django.urls import path

from . import sessions, views

app_name = "accounts"
urlpatterns = [
    path("2fa/setup/", views.two_factor_setup, name="2fa_setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa_verify"),
    path("session/", sessions.session_status, name="session"),
]
