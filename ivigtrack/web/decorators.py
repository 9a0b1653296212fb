"""Role checks for the server-rendered pages (staff pages and the patient portal).

One decorator per audience, like healthchecks' `_get_check_for_user` helpers: the role test
lives here, object scoping lives in the selectors. Anonymous users are sent to the login page
(LoginRequiredMiddleware already does this; the decorators repeat it so a view is safe even
if it is mounted elsewhere). A logged-in user of the wrong role gets 403.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied


def _role_required(test: Callable[[object], bool], message: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            user = request.user
            if not user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not test(user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


staff_required = _role_required(
    lambda user: getattr(user, "is_clinical_staff", False),
    "Clinic staff only.",
)
clinician_required = _role_required(
    lambda user: getattr(user, "is_clinician", False),
    "Clinicians only.",
)
patient_required = _role_required(
    lambda user: getattr(user, "is_patient_user", False),
    "The patient portal is for patients.",
)
