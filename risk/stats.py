"""Alert governance (docs/api.md, flag-stats): what happened to the flags raised in a period, per rule.

The flags counted are those **raised in the period** (`from` to `to`, whole local days) and in
the caller's scope (`flag_scope`). For each rule (the flag's rule as it stands: an escalation
moves a flag to the more urgent rule) the columns say what became of those flags up to now:

- raised; escalated (`escalated_at` set); acknowledged (`acknowledged_at` set) and the median
  time from raising to acknowledgement;
- resolved, by resolution: one column per value of `Resolution` (so a value added to the model,
  such as `lapsed`, appears without a change here);
- snoozed: snoozed at least once (an audited `flag.snooze`, or snoozed now: an un-snooze clears
  `snoozed_until`, so only the audit remembers it);
- suppressed: resolved as `not_indicated` or `declined` (a clinician's decision that holds the
  rule back for the patient);
- re-raised within 30 days: raised within 30 days after an earlier flag of the same patient and
  rule was resolved (the earlier flag may lie before the period);
- open past due: still unresolved and past its due time now.

One aggregate query per call (GROUP BY rule) whatever the number of flags or rules: the snooze
audit rows and the re-raise pairs are uncorrelated `IN (…)` subqueries, which PostgreSQL
evaluates once and hashes, never once per flag (the pairs are found from the flags resolved in
the period, through the `flag_patient_kind` index); the snoozes are read from a partial index of
the `flag.snooze` audit rows (`audit_flag_snooze`), not from every audit row of the period.
The median is PostgreSQL's `percentile_cont`; on SQLite (the embedded default) one more query
reads the acknowledged flags' waits and the median is taken in Python.
"""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    Func,
    Q,
    QuerySet,
    UUIDField,
)
from django.db.models.functions import Trunc
from django.utils import timezone

from itrs.review import RULES
from ivigtrack.api.fields import EARLIEST_DATE, LATEST_DATE
from ivigtrack.audit.models import AuditEvent
from patients.selectors import at_site

from .models import DECISIONS, UNRESOLVED, Priority, Resolution
from .selectors import flag_scope

RE_RAISE_DAYS = 30
RULE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,19}$")
WEEKLY_UP_TO_DAYS = 183  # longer periods are charted per month
_RULE_ORDER = {rule: i for i, (_, rule, _) in enumerate(RULES)}


# --- the period ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    first: date  # both days included, in the clinic's time zone
    last: date

    @property
    def start(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.first, time.min))

    @property
    def end(self) -> datetime:
        return timezone.make_aware(datetime.combine(self.last + timedelta(days=1), time.min))

    @property
    def weekly(self) -> bool:
        return (self.last - self.first).days <= WEEKLY_UP_TO_DAYS


def year_before(day: date) -> date:
    """The first day of the 12 months that end on `day`."""
    try:
        return day.replace(year=day.year - 1) + timedelta(days=1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28) + timedelta(days=1)


def stats_period(first: date | None, last: date | None, *, today: date | None = None) -> Period:
    """The period asked for (default: the 12 months up to today), or a ValidationError naming
    `from` or `to`. The page's form and the API both parse their dates, then call this."""
    last = last or today or timezone.localdate()
    first = first or year_before(last)
    errors = {}
    for name, value in (("from", first), ("to", last)):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            errors[name] = [f"Must be between {EARLIEST_DATE} and {LATEST_DATE}."]
    if not errors and first > last:
        errors["to"] = ["Must be on or after the start of the period (from)."]
    if errors:
        raise ValidationError(errors)
    return Period(first, last)


def check_rule(rule: str) -> str:
    """A rule code as the review rules write them (CLOT-BASELINE), or "" for every rule."""
    rule = (rule or "").strip().upper()
    if rule and not RULE_PATTERN.match(rule):
        raise ValidationError({"rule": ["A rule code such as CLOT-BASELINE (letters, digits and dashes)."]})
    return rule


# --- the figures -----------------------------------------------------------------------------------


@dataclass
class RuleStats:
    rule: str
    raised: int
    escalated: int
    acknowledged: int
    median_to_acknowledge: timedelta | None
    resolved: dict[str, int] = field(default_factory=dict)  # every Resolution value, 0 included
    snoozed: int = 0
    suppressed: int = 0
    re_raised: int = 0
    open_past_due: int = 0

    @property
    def resolved_total(self) -> int:
        return sum(self.resolved.values())

    @property
    def median_seconds(self) -> float | None:
        return None if self.median_to_acknowledge is None else self.median_to_acknowledge.total_seconds()


class _Median(Aggregate):
    """PostgreSQL's percentile_cont(0.5): the median, interpolated between the two middle values
    (as statistics.median does); NULLs are left out."""

    function = "PERCENTILE_CONT"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"


class _FlagIdOfAudit(Func):
    """An audit row's object_id (a flag's public UUID as text) in the form the flag column
    stores: uuid on PostgreSQL, 32 hex digits on SQLite."""

    output_field = UUIDField()

    def as_postgresql(self, compiler, conn, **extra):
        return self.as_sql(compiler, conn, template="CAST(%(expressions)s AS uuid)", **extra)

    def as_sql(self, compiler, conn, template=None, **extra):
        template = template or "REPLACE(%(expressions)s, '-', '')"
        return super().as_sql(compiler, conn, template=template, **extra)


def _wait_to_acknowledge():
    return ExpressionWrapper(F("acknowledged_at") - F("raised_at"), output_field=DurationField())


def raised_in(user, period: Period, rule: str = "", site: str = "") -> QuerySet:
    """The flags the figures count: raised in the period, in the user's scope (one rule or all;
    one of the user's sites, by code or id, or all of them)."""
    flags = flag_scope(user).filter(raised_at__gte=period.start, raised_at__lt=period.end)
    if site:
        flags = at_site(flags, site)
    return (flags.filter(rule=rule) if rule else flags).order_by()


def flag_stats(user, period: Period, *, rule: str = "", site: str = "", now: datetime | None = None) -> list[RuleStats]:
    """Per rule, what became of the flags raised in the period (module docstring); rules in the
    review table's order, then any others by name."""
    now = now or timezone.now()
    flags = raised_in(user, period, rule, site)
    snoozes = (
        AuditEvent.objects.filter(action="flag.snooze", at__gte=period.start)  # index audit_flag_snooze
        .order_by()
        .values(flag_id=_FlagIdOfAudit("object_id"))
    )
    # Flags raised within 30 days after an earlier one of the same patient and rule was resolved:
    # a join through the patient to the patient's flags, driven by the flags resolved in the
    # period (and its 30 days before), found by the (patient, kind, resolved_at) index.
    window = timedelta(days=RE_RAISE_DAYS)
    earlier = "patient__flags__"
    re_raised = flags.filter(
        Q(**{f"{earlier}resolved_at__gte": period.start - window, f"{earlier}resolved_at__lt": period.end}),
        Q(**{f"{earlier}kind": F("kind"), f"{earlier}rule": F("rule"), f"{earlier}raised_at__lt": F("raised_at")}),
        Q(**{f"{earlier}resolved_at__lte": F("raised_at")}),
        Q(**{f"{earlier}resolved_at__gte": F("raised_at") - window}),
    ).values("id")
    resolutions = list(Resolution.values)
    aggregates = {
        "raised": Count("id"),
        "escalated": Count("id", filter=Q(escalated_at__isnull=False)),
        "acknowledged": Count("id", filter=Q(acknowledged_at__isnull=False)),
        "snoozed": Count("id", filter=Q(public_id__in=snoozes) | Q(status="snoozed")),
        "suppressed": Count("id", filter=Q(status="resolved", resolution__in=DECISIONS)),
        "re_raised": Count("id", filter=Q(id__in=re_raised)),
        "open_past_due": Count("id", filter=Q(status__in=UNRESOLVED, due_at__lt=now)),
        **{f"res_{i}": Count("id", filter=Q(status="resolved", resolution=v)) for i, v in enumerate(resolutions)},
    }
    # The counts as one hash aggregate over the period's flags; the median in a second query over
    # the acknowledged ones only (index flag_acknowledged). In the same query, percentile_cont
    # made PostgreSQL sort every flag of the period by rule: at 100k, 126 ms against 35 for the
    # floor (one count per rule), so the page was 3.9x the floor (bench: governance).
    rows = list(flags.values("rule").annotate(**aggregates))
    medians = _medians(flags)
    stats = [
        RuleStats(
            rule=row["rule"],
            raised=row["raised"],
            escalated=row["escalated"],
            acknowledged=row["acknowledged"],
            median_to_acknowledge=medians.get(row["rule"]),
            resolved={v: row[f"res_{i}"] for i, v in enumerate(resolutions)},
            snoozed=row["snoozed"],
            suppressed=row["suppressed"],
            re_raised=row["re_raised"],
            open_past_due=row["open_past_due"],
        )
        for row in rows
    ]
    return sorted(stats, key=lambda s: (_RULE_ORDER.get(s.rule, len(_RULE_ORDER)), s.rule))


def _medians(flags: QuerySet) -> dict[str, timedelta]:
    """Median time to acknowledge per rule, over the acknowledged flags (one query)."""
    acknowledged = flags.filter(acknowledged_at__isnull=False)
    if connection.vendor == "postgresql":
        median = _Median(_wait_to_acknowledge(), output_field=DurationField())
        return {row["rule"]: row["median"] for row in acknowledged.values("rule").annotate(median=median)}
    return _medians_in_python(acknowledged)


def _medians_in_python(flags: QuerySet) -> dict[str, timedelta]:
    waits: dict[str, list[timedelta]] = {}
    for rule, wait in flags.filter(acknowledged_at__isnull=False).values_list("rule", _wait_to_acknowledge()):
        waits.setdefault(rule, []).append(wait)
    return {rule: statistics.median(values) for rule, values in waits.items()}


def raised_series(user, period: Period, *, rule: str = "", site: str = "") -> list[tuple[date, str, int]]:
    """(week or month, priority, flags raised): the chart's data, one query."""
    bucket = Trunc("raised_at", "week" if period.weekly else "month", output_field=DateField())
    rows = (
        raised_in(user, period, rule, site)
        .annotate(bucket=bucket)
        .values("bucket", "priority")
        .annotate(n=Count("id"))
        .order_by("bucket", "priority")
    )
    return [(row["bucket"], row["priority"], row["n"]) for row in rows]


# --- one shape for the table, the CSV and the API -------------------------------------------------------

PRIORITIES = tuple(Priority.values)


def columns() -> list[tuple[str, str]]:
    """(key, heading) of every column, in table order (the CSV's header and the page's)."""
    return [
        ("rule", "Rule"),
        ("raised", "Raised"),
        ("escalated", "Escalated"),
        ("acknowledged", "Acknowledged"),
        ("median_hours_to_acknowledge", "Median hours to acknowledge"),
        *((f"resolved_{value}", f"Resolved: {label.lower()}") for value, label in Resolution.choices),
        ("snoozed", "Snoozed"),
        ("suppressed", "Suppressed"),
        ("re_raised_30d", f"Re-raised within {RE_RAISE_DAYS} days"),
        ("open_past_due", "Open past due"),
    ]


def hours(wait: timedelta | None) -> float | None:
    return None if wait is None else round(wait.total_seconds() / 3600, 2)


def as_row(stat: RuleStats) -> dict:
    """One rule's figures keyed as `columns()` (CSV and page)."""
    return {
        "rule": stat.rule,
        "raised": stat.raised,
        "escalated": stat.escalated,
        "acknowledged": stat.acknowledged,
        "median_hours_to_acknowledge": hours(stat.median_to_acknowledge),
        **{f"resolved_{value}": stat.resolved.get(value, 0) for value in Resolution.values},
        "snoozed": stat.snoozed,
        "suppressed": stat.suppressed,
        "re_raised_30d": stat.re_raised,
        "open_past_due": stat.open_past_due,
    }
