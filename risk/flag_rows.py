"""The table rows of review flags (risk/jinja2/risk/flag_rows.html): on the worklist, in a
patient's open flags, and the one row an action changed.

The worklist draws about 150 of these on every load and 30-second refresh, so a row's HTML is
remembered (per process) under everything it is drawn from: the flag's columns as read
(``WorklistFlag.row``), the viewer's abilities, the time zone and the site's date format, and
the parts that move with the clock (overdue, the ages). The same inputs give the same row; a
changed flag, a later minute or another viewer gives a new key, never an old row.
"""

from __future__ import annotations

import functools
import uuid

from django.http import HttpRequest
from django.template import engines
from django.template.loader import render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from ivigtrack import dates
from ivigtrack.jinja_env import age

from .models import ReviewFlag

_ANY_ID = str(uuid.UUID(int=0))
ROW_MEMO_MAX = 4096  # rows of HTML (about 2 kB each) kept per process


@functools.cache
def _url_template(name: str, prefix: str) -> tuple[str, str]:
    head, tail = reverse(name, args=[_ANY_ID]).split(_ANY_ID)
    return head, tail


def url_maker(name: str):
    """`name`'s URL for any one id, from a single reverse() per process (and script prefix):
    reversing per row cost the worklist more than its SQL did (50 patients, about 150 flags,
    four URLs each, every 30 seconds)."""
    head, tail = _url_template(name, get_script_prefix())
    return lambda public_id: f"{head}{public_id}{tail}"


_ROW_URLS = ("staff:flag_acknowledge", "staff:flag_snooze", "staff:flag_unsnooze", "staff:flag_resolve")
# The rows' labels from plain dicts: get_FOO_display() flattened the choices on every call.
_KIND_LABELS = dict(ReviewFlag.Kind.choices)
_PRIORITY_LABELS = dict(ReviewFlag.Priority.choices)
_RESOLUTION_LABELS = dict(ReviewFlag.Resolution.choices)


def _minute(value):
    return value.replace(second=0, microsecond=0)


@functools.lru_cache(maxsize=16384)
def _age_in_minutes(value_minute, now_minute) -> str:
    return age(value_minute, now_minute)


def _age(value, now_minute) -> str:
    """`age` to the minute (both ends truncated), remembered: the same text all minute long."""
    return _age_in_minutes(_minute(value), now_minute)


def _name(user) -> str | None:
    if user is None:
        return None
    return user.get_full_name() or user.username


def with_row_links(flags, *, context: str, now) -> list:
    """The flags, each with what its row shows besides its own columns: the URLs it links to,
    its labels, who acted by name, whether it is overdue and how long ago it was raised (to the
    minute). `context` is where the rows are shown, "worklist" or "patient": the no-JavaScript
    action forms return there."""
    flags = list(flags)
    acknowledge, snooze, unsnooze, resolve = (url_maker(name) for name in _ROW_URLS)
    query = "?context=patient" if context == "patient" else ""
    minute = _minute(now)
    for flag in flags:
        flag.acknowledge_url = acknowledge(flag.public_id)
        flag.unsnooze_url = unsnooze(flag.public_id)
        flag.snooze_url = snooze(flag.public_id) + query
        flag.resolve_url = resolve(flag.public_id) + query
        flag.kind_label = _KIND_LABELS.get(flag.kind, flag.kind)
        flag.priority_label = _PRIORITY_LABELS.get(flag.priority, flag.priority)
        flag.resolution_label = _RESOLUTION_LABELS.get(flag.resolution, flag.resolution)
        if isinstance(flag, ReviewFlag):  # a model instance (the worklist reads WorklistFlag rows)
            flag.acknowledged_by_name = _name(flag.acknowledged_by)
            flag.resolved_by_name = _name(flag.resolved_by)
        flag.overdue = flag.status != "resolved" and flag.due_at < now
        flag.raised_age = _age(flag.raised_at, minute)
        flag.escalated_age = _age(flag.escalated_at, minute) if flag.escalated_at else ""
    return flags


def _row_context(request: HttpRequest, *, context: str) -> dict:
    """What the template needs besides the flags. On the worklist each open flag has a box to
    tick for bulk acknowledge; clinicians snooze and resolve, nurses acknowledge."""
    return {"selectable": context == "worklist", "can_act": request.user.is_clinician}


def flag_rows(
    request: HttpRequest, flags, *, context: str, now=None, row_message: str = "", row_error: str = ""
) -> str:
    """The rows of these flags, ready to put in a page (the patient page, an action's response)."""
    html = render_to_string(
        "risk/flag_rows.html",
        {
            "flags": with_row_links(flags, context=context, now=now or timezone.now()),
            **_row_context(request, context=context),
            "row_message": row_message,
            "row_error": row_error,
        },
        using="jinja2",
    )
    return mark_safe(html)  # Jinja2 escaped every value (autoescape is on)


_memo: dict[tuple, str] = {}


def _row_html(template, flag, options: dict, zone: tuple) -> str:
    key = (flag.row, options["selectable"], options["can_act"], zone, flag.overdue, flag.raised_age, flag.escalated_age)
    html = _memo.get(key)
    if html is None:
        html = template.render({"flags": [flag], **options})
        if len(_memo) >= ROW_MEMO_MAX:
            _memo.clear()
        _memo[key] = html
    return html


def worklist_rows(request: HttpRequest, page, *, now) -> str:
    """The worklist's row groups: per patient a heading row, then their open flags' rows (each
    from the memo when drawn before from the same inputs), in one render."""
    patient = url_maker("staff:patient_detail")
    options = _row_context(request, context="worklist")
    template = engines["jinja2"].env.get_template("risk/flag_rows.html")
    zone = (timezone.get_current_timezone_name(), dates.current())  # how its times are printed
    groups = []
    for group in page.groups:
        flags = with_row_links(group.flags, context="worklist", now=now)
        groups.append(
            {
                "patient": group.patient,
                "patient_url": patient(group.patient.public_id),
                "rows": mark_safe("".join(_row_html(template, flag, options, zone) for flag in flags)),
                "count": len(flags),
            }
        )
    html = render_to_string("risk/worklist_groups.html", {"groups": groups}, using="jinja2")
    return mark_safe(html)
