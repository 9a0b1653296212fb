"""Sessions that end: an idle timeout (``IVIGTRACK_SESSION_IDLE``, 30 minutes) and an absolute
lifetime (``IVIGTRACK_SESSION_ABSOLUTE``, 12 hours), as OWASP ASVS asks.

Background polling never counts as activity: a GET that carries ``X-Background-Poll: 1`` (the
worklist's 30-second refresh and the sweep panel set it with ``hx-headers``) is answered but does
not move the idle timer, so an unattended workstation signs itself out. Pages carry the expiry
times, and ``static/js/session.js`` offers "Stay signed in" ``IVIGTRACK_SESSION_WARNING`` (two
minutes) before the idle limit (WCAG 2.2.1); the absolute limit cannot be extended.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

STARTED = "ivig_signed_in_at"
ACTIVE = "ivig_last_active_at"
# The idle timer is written at most this often (seconds): a session save per click is enough.
WRITE_EVERY = 10


def is_background_poll(request: HttpRequest) -> bool:
    """A GET marked ``X-Background-Poll: 1``. htmx passes ``hx-headers`` down to the elements inside
    the polling one, so for htmx only the polling element's own refresh counts (it triggers and
    targets itself); a link inside the worklist is activity."""
    if request.method not in ("GET", "HEAD") or request.headers.get("X-Background-Poll") != "1":
        return False
    if request.headers.get("HX-Request"):
        trigger = request.headers.get("HX-Trigger")
        return bool(trigger) and trigger == request.headers.get("HX-Target")
    return True


def _limits() -> tuple[float, float]:
    return settings.IVIGTRACK_SESSION_IDLE.total_seconds(), settings.IVIGTRACK_SESSION_ABSOLUTE.total_seconds()


def expiry(session) -> dict | None:
    """When this session ends for inactivity and for good (epoch seconds), and when to warn."""
    started, active = session.get(STARTED), session.get(ACTIVE)
    if started is None or active is None:
        return None
    idle, absolute = _limits()
    idle_at, absolute_at = active + idle, started + absolute
    ends_at = min(idle_at, absolute_at)
    return {
        "idle_expires_at": idle_at,
        "absolute_expires_at": absolute_at,
        "expires_at": ends_at,
        "warn_at": ends_at - settings.IVIGTRACK_SESSION_WARNING.total_seconds(),
        "extendable": idle_at < absolute_at,
    }


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds")


class SessionLimitsMiddleware:
    """After the messages middleware and before any view: ends a session past either limit."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        session = getattr(request, "session", None)
        if user is not None and user.is_authenticated and session is not None:
            now = time.time()
            started = session.get(STARTED)
            active = session.get(ACTIVE)
            if started is None or active is None:  # signed in before these limits existed
                session[STARTED] = started = started or now
                session[ACTIVE] = active = active or now
            idle, absolute = _limits()
            if now - active >= idle or now - started >= absolute:
                reason = (
                    "You were signed out after 12 hours; please sign in again."
                    if now - started >= absolute
                    else f"You were signed out after {int(idle // 60)} minutes without activity."
                )
                logout(request)
                messages.info(request, reason)
                if request.headers.get("HX-Request"):
                    # htmx would swap the login page into the list; send the whole page there.
                    response = HttpResponse(status=204)
                    response["HX-Redirect"] = reverse("login")
                    return response
            elif not is_background_poll(request) and now - active >= WRITE_EVERY:
                session[ACTIVE] = now
        return self.get_response(request)


def started_session(sender, request, user, **kwargs) -> None:
    """``user_logged_in``: both clocks start at sign-in."""
    if getattr(request, "session", None) is not None:
        now = time.time()
        request.session[STARTED] = now
        request.session[ACTIVE] = now


def session_context(request: HttpRequest) -> dict:
    """Template context: the session's expiry for the "Stay signed in" warning."""
    session = getattr(request, "session", None)
    if session is None or not getattr(getattr(request, "user", None), "is_authenticated", False):
        return {}
    info = expiry(session)
    if info is None:
        return {}
    return {
        "session_expiry": {
            "expires_at": _iso(info["expires_at"]),
            "warn_seconds": int(settings.IVIGTRACK_SESSION_WARNING.total_seconds()),
            "extendable": info["extendable"],
        }
    }


@never_cache
@require_http_methods(["GET", "POST"])
def session_status(request: HttpRequest) -> JsonResponse:
    """``GET /accounts/session/`` (sent as a background poll: it does not extend anything) tells
    when the session ends; ``POST`` is "Stay signed in" (the middleware has moved the idle timer)."""
    info = expiry(request.session) or {}
    return JsonResponse(
        {
            "expires_at": _iso(info["expires_at"]) if info else None,
            "idle_expires_at": _iso(info["idle_expires_at"]) if info else None,
            "absolute_expires_at": _iso(info["absolute_expires_at"]) if info else None,
            "warn_at": _iso(info["warn_at"]) if info else None,
            "extendable": info.get("extendable", False),
        }
    )
