"""Two-factor sign-in for staff (django-otp: TOTP + recovery codes)."""

from __future__ import annotations


def token_refusal(user) -> str | None:
    return None
