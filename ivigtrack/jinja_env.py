"""The Jinja2 environment of the fragments in <app>/jinja2/ (see TEMPLATES in settings).

Those fragments are drawn many times a page, so their filters are the cheap ones they need,
written to print what the Django templates print: `day_time` ("5 Mar 14:05", as
`date:"j M H:i"`), `day_time_year` ("5 Mar 2026 14:05"), both in the current time zone,
`age` ("2 hours ago") and `truncatechars`. Django's general `date` filter went through the
translation machinery on every call and took half of the worklist rows' render time.
Autoescaping is on, as in Django templates.
"""

from __future__ import annotations

from datetime import datetime

from django.utils.text import Truncator
from django.utils.timesince import timesince
from django.utils.timezone import template_localtime
from jinja2 import Environment

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def day_time(value: datetime | None, *, year: bool = False) -> str:
    if value is None:
        return ""
    local = template_localtime(value)
    day = f"{local.day} {MONTHS[local.month - 1]}{f' {local.year}' if year else ''}"
    return f"{day} {local.hour:02}:{local.minute:02}"


def day_time_year(value: datetime | None) -> str:
    return day_time(value, year=True)


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
