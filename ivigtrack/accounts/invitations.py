"""Portal accounts without a superuser: a one-time invitation link (valid
``IVIGTRACK_INVITATION_HOURS``, 72) to set a password, and password reset by e-mail for everyone.

The link's token is Django's password-reset token with its own salt and lifetime: it is bound
to the user's password and last login, so it stops working once the password is set (one-time)
and whenever the account changes. Staff send invitations from the patient page
(``patients.invitations``).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse, reverse_lazy
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class InvitationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "ivigtrack.accounts.invitations.InvitationTokenGenerator"

    def check_token(self, user, token) -> bool:
        """Django's check with the invitation's lifetime instead of ``PASSWORD_RESET_TIMEOUT``."""
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        if not any(
            constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token)
            for secret in [self.secret, *self.secret_fallbacks]
        ):
            return False
        lifetime = timedelta(hours=settings.IVIGTRACK_INVITATION_HOURS).total_seconds()
        return (self._num_seconds(self._now()) - ts) <= lifetime


invitation_token = InvitationTokenGenerator()


def invitation_path(user) -> str:
    return reverse(
        "accounts:invitation_accept",
        kwargs={"uidb64": urlsafe_base64_encode(force_bytes(user.pk)), "token": invitation_token.make_token(user)},
    )


@method_decorator(login_not_required, name="dispatch")
class InvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The invited patient chooses a password and is signed in to the portal."""

    token_generator = invitation_token
    template_name = "registration/invitation_accept.html"
    reset_url_token = "set-password"
    post_reset_login = True
    post_reset_login_backend = "django.contrib.auth.backends.ModelBackend"
    success_url = reverse_lazy("home")
    title = "Choose your password"


# --- password reset by e-mail (Django's views, our templates and namespaced URLs)

ResetRequest = login_not_required(
    auth_views.PasswordResetView.as_view(
        template_name="registration/password_reset_form.html",
        email_template_name="registration/password_reset_email.txt",
        subject_template_name="registration/password_reset_subject.txt",
        success_url=reverse_lazy("accounts:password_reset_done"),
    )
)
ResetDone = login_not_required(
    auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_done.html")
)
ResetConfirm = login_not_required(
    auth_views.PasswordResetConfirmView.as_view(
        template_name="registration/password_reset_confirm.html",
        success_url=reverse_lazy("accounts:password_reset_complete"),
    )
)
ResetComplete = login_not_required(
    auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html")
)
