"""The Jinja2 environment of the fragments in <app>/jinja2/ (see TEMPLATES in settings).

Those fragments are drawn many times a page, so their filters are the cheap ones they need,
written to print what the Django templates print: `day_time` ("05/03/2026 14:05", as
`date:"j M H:i"`) and `day_time_year` (the same: a year is always printed), both in the current
time zone and the site's date format (``ivigtrack.dates``), `age` ("2 hours ago") and
`truncatechars`. Django's general `date` filter went through the
translation machinery on every call and took half of the worklist rows' render time.
Autoescaping is on, as in Django templates.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime
from jinja2 import Environment

from ivigtrack import dates


def day_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return dates.format_datetime(template_localtime(value))


def day_time_year(value: datetime | None) -> str:
    return day_time(value)


def age(value: datetime | None, now: datetime) -> str:
    """How long ago `value` was, as of `now`: "2 hours ago", or "just now" under a minute."""
    if value is None:
        return ""
    text = timesince(value, now)
    return "just now" if text.startswith("0") else f"{text} ago"


def truncatechars(value: str, length: int) -> str:
    return Truncator(value).chars(length)


def environment(**options) -> Environment:
    env = Environment(**options)
    env.filters.update(day_time=day_time, day_time_year=day_time_year, age=age, truncatechars=truncatechars)
    return env
