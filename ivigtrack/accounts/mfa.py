"""Two-factor sign-in for staff (django-otp: TOTP from an authenticator app, plus one-time
recovery codes).

``IVIGTRACK_STAFF_MFA`` is ``required`` (the default when ``DJANGO_DEBUG=False``) or ``optional``
(the default otherwise, so the demo's logins stay simple). A staff user (clinician, nurse,
superuser, admin staff) who has set up an authenticator must enter a code after the password
whatever the setting; without one, ``required`` sends them to set one up before any page with
patient data. Patients never need a second factor. The token endpoint asks staff for the same
code (``otp``) once they have an authenticator, and refuses staff without one when required.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import devices_for_user, match_token, user_has_device

RECOVERY_CODES = 10


def mfa_required() -> bool:
    return settings.IVIGTRACK_STAFF_MFA == "required"


def needs_second_factor(user) -> bool:
    """Staff sign in with two factors; patients with one."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.is_superuser or user.is_staff or user.role in ("clinician", "nurse"))


def has_authenticator(user) -> bool:
    return user_has_device(user, confirmed=True)


# Whether the signed-in user had an authenticator, remembered in the session at sign-in so that
# pages do not ask the database on every request (a new authenticator is set up only on the
# setup page, which verifies the session; the next sign-in looks again).
HAS_DEVICE = "ivig_mfa_has_device"


def session_has_authenticator(request) -> bool:
    session = getattr(request, "session", None)
    if session is None:
        return has_authenticator(request.user)
    known = session.get(HAS_DEVICE)
    if known is None:
        known = session[HAS_DEVICE] = has_authenticator(request.user)
    return known


def remember_authenticator(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: look once per sign-in."""
    if getattr(request, "session", None) is not None and needs_second_factor(user):
        request.session[HAS_DEVICE] = has_authenticator(user)


def token_refusal(user) -> str | None:
    """Why a staff user's password alone gets no API token (None: it does)."""
    if needs_second_factor(user) and mfa_required() and not has_authenticator(user):
        return "Two-factor sign-in is required for staff: set up an authenticator app in the browser first."
    return None


def token_needs_otp(user) -> bool:
    return needs_second_factor(user) and has_authenticator(user)


def verify_code(user, code: str):
    """The device a TOTP or recovery code matches (a recovery code is used up), else None."""
    code = "".join((code or "").split())
    if not code:
        return None
    return match_token(user, code)


def confirmed_devices(user):
    return list(devices_for_user(user, confirmed=True))


# Paths a signed-in staff user may reach before the second factor: the two-factor pages, logout,
# static files and the health check.
EXEMPT_PREFIXES = ("/accounts/2fa/", "/accounts/logout/", "/accounts/login/", "/static/", "/healthz", "/favicon.ico")


class StaffTwoFactorMiddleware:
    """After ``django_otp.middleware.OTPMiddleware``: a staff session that has not passed its
    second factor reaches only the two-factor pages (API calls with that session get a 403)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is not None
            and needs_second_factor(user)
            and not user.is_verified()
            and not request.path.startswith(EXEMPT_PREFIXES)
        ):
            has_device = session_has_authenticator(request)
            if has_device or mfa_required():
                if request.path.startswith(("/api/", "/fhir/")):
                    return JsonResponse(
                        {"detail": "Finish two-factor sign-in first.", "code": "second_factor_required"}, status=403
                    )
                target = "accounts:2fa_verify" if has_device else "accounts:2fa_setup"
                return redirect(f"{reverse(target)}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
