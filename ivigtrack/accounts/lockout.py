"""Fair lockout (django-axes, reconfigured).

- 5 failed passwords lock the (username, client address) pair for 15 minutes
  (``AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]``): another user behind the same clinic
  NAT is not locked, and the same user from another address is not either.
- A named account is locked whatever the address only after ``IVIGTRACK_ACCOUNT_LOCK_FAILURES``
  (20) failures within ``IVIGTRACK_ACCOUNT_LOCK_WINDOW`` (an hour), counted from axes' failure log.
- Every door (the login page and ``POST /api/v1/auth/token/``) answers the same:
  "Sign-in is locked after too many failed attempts; try again at HH:MM".
- The client address is ``REMOTE_ADDR`` unless ``IVIGTRACK_TRUSTED_PROXIES`` > 0, when it is the
  ``X-Forwarded-For`` entry the outermost trusted proxy appended (DRF's throttles use the same
  rule through ``NUM_PROXIES``), so a spoofed header changes nothing without a trusted proxy.
"""

from __future__ import annotations

from datetime import datetime

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt, AccessFailureLog
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone


def client_ip(request: HttpRequest) -> str | None:
    """The client address, trusting X-Forwarded-For only behind ``IVIGTRACK_TRUSTED_PROXIES``."""
    remote = request.META.get("REMOTE_ADDR")
    proxies = settings.IVIGTRACK_TRUSTED_PROXIES
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [part.strip() for part in forwarded.split(",") if part.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]


def _account_locked_until(username: str | None) -> datetime | None:
    """When the account lock ends: the account is locked while the last hour holds
    ``IVIGTRACK_ACCOUNT_LOCK_FAILURES`` failures, so until the oldest of the newest that many
    leaves the window."""
    if not username:
        return None
    limit = settings.IVIGTRACK_ACCOUNT_LOCK_FAILURES
    window = settings.IVIGTRACK_ACCOUNT_LOCK_WINDOW
    times = list(
        AccessFailureLog.objects.filter(username=username, attempt_time__gte=timezone.now() - window)
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)[:limit]
    )
    if len(times) < limit:
        return None
    return times[-1] + window


def _pair_locked_until(username: str | None, ip_address: str | None) -> datetime | None:
    attempts = AccessAttempt.objects.filter(
        username=username, ip_address=ip_address, attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME
    )
    rows = list(attempts.values_list("failures_since_start", "attempt_time"))
    if sum(failures for failures, _ in rows) < settings.AXES_FAILURE_LIMIT:
        return None
    return max(at for _, at in rows) + settings.AXES_COOLOFF_TIME


def locked_until(request: HttpRequest, credentials: dict | None) -> datetime | None:
    username = get_client_username(request, credentials)
    ip_address = getattr(request, "axes_ip_address", None) or client_ip(request)
    ends = [t for t in (_pair_locked_until(username, ip_address), _account_locked_until(username)) if t]
    return max(ends) if ends else None


class LockoutHandler(AxesDatabaseHandler):
    """axes' database handler plus the per-account limit."""

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        if super().is_locked(request, credentials):
            return True
        return _account_locked_until(get_client_username(request, credentials)) is not None

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is not None and not getattr(request, "axes_locked_out", False):
            if _account_locked_until(get_client_username(request, credentials)) is not None:
                request.axes_locked_out = True
                request.axes_credentials = credentials


def lockout_message(until: datetime | None) -> str:
    if until is None:
        return "Sign-in is locked after too many failed attempts; try again later."
    local = timezone.localtime(until)
    return f"Sign-in is locked after too many failed attempts; try again at {local:%H:%M} ({local.tzname()})."


def lockout_response(request: HttpRequest, original_response=None, credentials: dict | None = None) -> HttpResponse:
    """What a locked pair or account sees, on every door: a 429 with the time the lock ends."""
    until = locked_until(request, credentials)
    message = lockout_message(until)
    retry = max(int((until - timezone.now()).total_seconds()), 1) if until else None
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {"detail": message, "code": "locked", "locked_until": until.isoformat() if until else None}, status=429
        )
    else:
        from django.contrib.auth.forms import AuthenticationForm
        from django.shortcuts import render

        # An unbound form: binding it would authenticate (and count a failure) once more.
        context = {"form": AuthenticationForm(request), "lock_message": message}
        response = render(request, "registration/login.html", context, status=429)
    if retry:
        response["Retry-After"] = str(retry)
    return response
