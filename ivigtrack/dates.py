"""Dates as the site writes them (a site's ``date_format``): printed on every page with the year,
and read back from what a person types.

The format of a request follows its time zone (``ivigtrack.accounts.zones``): a page about one
patient uses that patient's site; elsewhere a staff member's first site, a patient their own
site; anyone else (a superuser of no site) the default, day first. Machines keep ISO 8601 (the
API, the ``value`` of links); ISO dates typed into a form are read too, as they cannot be
misread.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from asgiref.local import Local

DMY, MDY, YMD = "dmy", "mdy", "ymd"
DEFAULT = DMY
CHOICES = [(DMY, "31/12/2026 (day first)"), (MDY, "12/31/2026 (month first)"), (YMD, "2026-12-31 (ISO)")]
STRFTIME = {DMY: "%d/%m/%Y", MDY: "%m/%d/%Y", YMD: "%Y-%m-%d"}
PATTERN = {DMY: "dd/mm/yyyy", MDY: "mm/dd/yyyy", YMD: "yyyy-mm-dd"}
EXAMPLE = {DMY: "31/12/2026", MDY: "12/31/2026", YMD: "2026-12-31"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

_active = Local()


def activate(code: str | None) -> None:
    """Print and read this request's dates in the format ``code`` (a site's ``date_format``)."""
    _active.value = code if code in STRFTIME else DEFAULT


def deactivate() -> None:
    if hasattr(_active, "value"):
        del _active.value


def current() -> str:
    return getattr(_active, "value", DEFAULT)


# --- printing --------------------------------------------------------------------------------


def format_date(value: date | None, code: str | None = None) -> str:
    """``31/12/2026`` (or the site's order); always with the year."""
    if value is None:
        return ""
    code = code or current()
    day, month, year = f"{value.day:02}", f"{value.month:02}", f"{value.year:04}"
    if code == MDY:
        return f"{month}/{day}/{year}"
    if code == YMD:
        return f"{year}-{month}-{day}"
    return f"{day}/{month}/{year}"


def format_datetime(value: datetime | None, code: str | None = None, *, seconds: bool = False) -> str:
    """``31/12/2026 15:38`` for a datetime already in the wall-clock zone it is read in."""
    if value is None:
        return ""
    clock = f"{value.hour:02}:{value.minute:02}" + (f":{value.second:02}" if seconds else "")
    return f"{format_date(value, code)} {clock}"


_DATE_TOKENS = set("jdDlMFnmbNYy")
_TIME_TOKENS = set("HGgiAaPs")
_KNOWN = _DATE_TOKENS | _TIME_TOKENS | set(" ,:./")


def format_like(value, django_format: str | None) -> str | None:
    """What a page's ``|date:"j M Y H:i"`` prints in the site's format: the date (always with
    its year) when the format has one, the weekday when it names it, the time (``H:i``, with
    seconds when it has ``s``) when it has one. None for a format this does not read (a machine
    format such as ``Y-m-d`` or ``c``): the caller prints that as Django does."""
    spec = django_format or "j M Y"
    if not set(spec) <= _KNOWN:
        return None
    parts = []
    if "l" in spec or "D" in spec:
        name = WEEKDAYS[value.weekday()]
        parts.append(name if "l" in spec else name[:3])
    if set(spec) & (_DATE_TOKENS - {"l", "D"}):
        parts.append(format_date(value))
    if isinstance(value, datetime) and set(spec) & _TIME_TOKENS:
        parts.append(f"{value.hour:02}:{value.minute:02}" + (f":{value.second:02}" if "s" in spec else ""))
    return " ".join(parts)


# --- reading ---------------------------------------------------------------------------------

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_SEPARATED = re.compile(r"^(\d{1,4})[/.\- ](\d{1,2})[/.\- ](\d{1,4})$")
_DIGITS = re.compile(r"^\d{8}$")


def hint(code: str | None = None) -> str:
    code = code or current()
    return f"Format {PATTERN[code]}, e.g. {EXAMPLE[code]}."


def parse_date(text: str, code: str | None = None) -> date:
    """A date typed in the site's format (any of / . - or a space between the parts, or eight
    digits in the site's order), or in ISO 8601; ValueError with the message to show otherwise."""
    code = code or current()
    text = (text or "").strip()
    wrong = f"Enter the date as {PATTERN[code]}, e.g. {EXAMPLE[code]}."
    match = _ISO.match(text)
    if match:
        year, month, day = map(int, match.groups())
    else:
        match = _SEPARATED.match(text)
        if match:
            first, second, third = match.groups()
        elif _DIGITS.match(text):
            first, second, third = (text[:4], text[4:6], text[6:]) if code == YMD else (text[:2], text[2:4], text[4:])
        else:
            raise ValueError(wrong)
        if code == YMD:
            year, month, day = first, second, third
        elif code == MDY:
            month, day, year = first, second, third
        else:
            day, month, year = first, second, third
        if len(year) != 4 or len(day) > 2 or len(month) > 2:
            raise ValueError(wrong)
        year, month, day = int(year), int(month), int(day)
    if not 1 <= month <= 12:
        raise ValueError(f"There is no month {month}: {wrong}")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"There is no day {day} in that month: {wrong}") from None


_TIME = re.compile(r"^(\d{1,2})[:.h](\d{2})(?::(\d{2}))?$")


def parse_datetime(text: str, code: str | None = None) -> datetime:
    """A date and a time (``31/12/2026 15:38``; ``2026-12-31T15:38`` too), naive: the caller
    makes it aware in the request's zone. ValueError with the message to show otherwise."""
    code = code or current()
    text = (text or "").strip()
    wrong = f"Enter the date and time as {PATTERN[code]} hh:mm, e.g. {EXAMPLE[code]} 15:38."
    day_text, _, time_text = text.replace("T", " ", 1).partition(" ")
    if not time_text.strip():
        raise ValueError(wrong)
    try:
        day = parse_date(day_text, code)
    except ValueError as exc:
        date_wrong = f"Enter the date as {PATTERN[code]}, e.g. {EXAMPLE[code]}."
        raise ValueError(str(exc).replace(date_wrong, wrong)) from None
    match = _TIME.match(time_text.strip())
    if not match:
        raise ValueError(wrong)
    hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"There is no time {time_text.strip()}: {wrong}")
    return datetime(day.year, day.month, day.day, hour, minute, second)
