"""The page templates' ``date`` filter, in the site's format (a builtin library: settings.TEMPLATES).

Every page prints dates with ``|date:"j M Y"``, ``|date:"j M H:i"`` and the like; this filter,
registered after Django's own under the same name, prints them as the request's site writes
them (``ivigtrack.dates``): ``01/12/2026``, ``01/12/2026 15:38``, ``Tuesday 01/12/2026``, always
with the year. A format it does not read (a machine format such as ``Y-m-d``, ``c``, or a named
one such as ``DATETIME_FORMAT``) is printed by Django's filter, unchanged.
"""

from __future__ import annotations

from django import template
from django.template.defaultfilters import date as django_date

from ivigtrack import dates

register = template.Library()


@register.filter(expects_localtime=True, is_safe=False)
def date(value, arg=None):
    if value in (None, ""):
        return ""
    if not hasattr(value, "year"):
        return django_date(value, arg)
    printed = dates.format_like(value, arg)
    return django_date(value, arg) if printed is None else printed
