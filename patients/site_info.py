"""What a patient's clinic says about itself: its time zone and its phone numbers.

One place the rest of the code reads them from. Today they come from settings (the clinic's
``TIME_ZONE``, ``IVIGTRACK_CLINIC_PHONE``, ``IVIGTRACK_EMERGENCY_NUMBER``); once patients have a
home site, these read the patient's site instead.
"""

from __future__ import annotations

import re
from datetime import tzinfo

from django.conf import settings
from django.utils import timezone


def patient_zone(patient=None) -> tzinfo:
    """The zone whose calendar days count for this patient (watch windows, check-ins)."""
    return timezone.get_current_timezone()


def clinic_phone(patient=None) -> str:
    return getattr(settings, "IVIGTRACK_CLINIC_PHONE", "")


def emergency_number(patient=None) -> str:
    return getattr(settings, "IVIGTRACK_EMERGENCY_NUMBER", "")


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
