"""/accounts/ pages of our own (the login and logout views are Django's, in ivigtrack/urls.py)."""

from django.urls import path

from . import invitations, sessions, views

app_name = "accounts"
urlpatterns = [
    path("2fa/setup/", views.two_factor_setup, name="2fa_setup"),
    path("2fa/verify/", views.two_factor_verify, name="2fa_verify"),
    path("session/", sessions.session_status, name="session"),
    path("invite/<uidb64>/<token>/", invitations.InvitationAcceptView.as_view(), name="invitation_accept"),
    path("password-reset/", invitations.ResetRequest, name="password_reset"),
    path("password-reset/sent/", invitations.ResetDone, name="password_reset_done"),
    path("password-reset/<uidb64>/<token>/", invitations.ResetConfirm, name="password_reset_confirm"),
    path("password-reset/done/", invitations.ResetComplete, name="password_reset_complete"),
]
