"""What a patient's clinic says about itself: its time zone and its phone numbers.

One place the rest of the code reads them from: the patient's home site (its ``time_zone``,
``phone`` and ``emergency_number``) when a patient is given and the site has them, else the
clinic defaults of settings (``TIME_ZONE``, ``IVIGTRACK_CLINIC_PHONE``,
``IVIGTRACK_EMERGENCY_NUMBER``).
"""

from __future__ import annotations

import re
from datetime import tzinfo
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def _site(patient):
    return getattr(patient, "site", None) if patient is not None else None


def zone_named(name: str | None) -> tzinfo:
    return ZoneInfo(name) if name else timezone.get_current_timezone()


def patient_zone(patient=None) -> tzinfo:
    """The zone whose calendar days count for this patient (watch windows, check-ins)."""
    site = _site(patient)
    return zone_named(site.time_zone if site is not None else None)


def clinic_phone(patient=None) -> str:
    site = _site(patient)
    return (site.phone if site is not None else "") or getattr(settings, "IVIGTRACK_CLINIC_PHONE", "")


def emergency_number(patient=None) -> str:
    site = _site(patient)
    return (site.emergency_number if site is not None else "") or getattr(settings, "IVIGTRACK_EMERGENCY_NUMBER", "")


def tel_href(number: str) -> str:
    """A ``tel:`` link for a number as printed ("+44 20 7946 0000" -> "tel:+442079460000")."""
    digits = re.sub(r"[^0-9+*#]", "", number or "")
    return f"tel:{digits}" if digits else ""


def contact(patient=None) -> dict:
    """The clinic phone and emergency number with their tap-to-call links, for templates."""
    phone, emergency = clinic_phone(patient), emergency_number(patient)
    return {
        "clinic_phone": phone,
        "clinic_phone_href": tel_href(phone),
        "emergency_number": emergency,
        "emergency_href": tel_href(emergency),
    }
