"""Which time zone a request reads and writes in (docs/sites.md, time).

Every date and time a person reads or types is in the patient's site zone: a page about one
patient activates that patient's site (``activate_site``); otherwise a staff member of one site
works in that site's zone, a patient in their own site's; anyone else (a superuser, staff of
several sites) in ``settings.TIME_ZONE``, with the zone named on the page.

Dates are printed and read in a site's ``date_format`` (``ivigtrack.dates``) the same way, but
a staff member of several sites uses their first site's (a format has no "named on the page").
"""

from __future__ import annotations

import zoneinfo

from django.utils import timezone

from ivigtrack import dates


def site_of_user(user):
    """The one site whose zone this user's requests default to, or None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if getattr(user, "is_clinical_staff", False):
        sites = getattr(user, "site_list", [])
        return sites[0] if len(sites) == 1 and not user.is_superuser else None
    return None  # patients: the portal activates their record's site (patients.pages.portal_patient)


def date_site_of_user(user):
    """The site whose date format this user's requests default to: their first, or None."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if getattr(user, "is_clinical_staff", False):
        sites = getattr(user, "site_list", [])
        return sites[0] if sites else None
    return None


def activate_site(site) -> None:
    """Read and write this request's times in the site's zone, and its dates in its format."""
    if site is not None:
        timezone.activate(zoneinfo.ZoneInfo(site.time_zone or "UTC"))
        dates.activate(site.date_format)


def activate_for_user(user) -> None:
    site = site_of_user(user)
    if site is not None:
        activate_site(site)
        return
    timezone.deactivate()
    first = date_site_of_user(user)
    dates.activate(first.date_format if first is not None else None)


def deactivate() -> None:
    timezone.deactivate()
    dates.deactivate()


class SiteTimeZoneMiddleware:
    """Activate the user's site zone and date format for the request (pages; the API does it after DRF's
    authentication, ivigtrack.api.viewsets), and forget it afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        activate_for_user(getattr(request, "user", None))
        try:
            return self.get_response(request)
        finally:
            deactivate()
