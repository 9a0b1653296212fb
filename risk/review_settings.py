"""The review rules' periods and thresholds as data for `itrs.review`: ``ReviewSettings`` with
``settings.IVIGTRACK_REVIEW`` over its defaults. Read by the sweep (`risk.services.assessment`),
the symptom alerts (`risk.services.flags`) and the pages."""

from __future__ import annotations

from django.conf import settings

from itrs import review


def review_settings() -> review.ReviewSettings:
    return review.ReviewSettings(**getattr(settings, "IVIGTRACK_REVIEW", {}))
