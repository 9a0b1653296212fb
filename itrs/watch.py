"""The days after an infusion: watch windows and patient check-ins (risk/README.md, "Watch windows").

Arterial excess risk after IVIG is concentrated in days 0-2 and venous events appear over days
0-14 (self-controlled risk-interval and claims analyses: Ammann EM et al., FDA Sentinel, J Thromb
Thrombolysis 2021 [R17]; Ammann 2016 [R16]; Daniel GW 2012 [R13]; risk/README.md references).
Every administered infusion therefore opens

- an *arterial window*: from its start to the end of local day 2 (day 0 = the day it started),
- a *venous window*: from its start to the end of local day 14.

Days are local calendar days in ``zone`` (the patient's site; the caller passes it). Window ends
are exclusive instants: the first moment of local day 3 (or day 15).

Check-ins ("How are you since your infusion?") open at the start of local day 1 and day 7 after
the end of each course. A course is a run of administered infusions each starting at most
``COURSE_GAP_DAYS`` calendar days after the previous one; while the regimen still has days of the
course to give, the course is not over (a 5-day course gets one day-1 check-in, after day 5).

Plain Python: no Django, no ORM.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

ARTERIAL_WINDOW_DAYS = 2
VENOUS_WINDOW_DAYS = 14
COURSE_GAP_DAYS = 3  # as the course definition of the ITRS-v1 T1/T3 items
CHECKIN_DAYS = (1, 7)
ELEVATED_TIERS = frozenset({"moderate", "high"})


@dataclass(frozen=True)
class Watch:
    """The two windows of one administered infusion (ends exclusive, aware datetimes)."""

    started_at: datetime
    arterial_until: datetime
    venous_until: datetime

    def as_dict(self) -> dict:
        return {"arterial_until": self.arterial_until.isoformat(), "venous_until": self.venous_until.isoformat()}


@dataclass(frozen=True)
class Given:
    """An administered infusion as the check-ins see it: when it started, and how many
    consecutive days its regimen's course has (1 for a one-off infusion)."""

    started_at: datetime
    days_per_course: int = 1


@dataclass(frozen=True)
class Checkin:
    """One check-in: ``day`` 1 or 7 after the course that ended on ``course_last_day``."""

    day: int
    course_first_day: date
    course_last_day: date
    opens_at: datetime  # start of that local day
    closes_at: datetime  # when the next check-in opens, or the venous window of the course ends

    @property
    def key(self) -> str:
        return f"{self.course_last_day.isoformat()}+{self.day}"


@dataclass(frozen=True)
class WindowDay:
    """Where an instant falls after the latest infusion before it."""

    day: int  # local days after the infusion's day (0 = the same day)
    arterial: bool
    venous: bool

    @property
    def words(self) -> str:
        return "the day of IVIG" if self.day == 0 else f"day {self.day} after IVIG"


def local_day(instant: datetime, zone: tzinfo = UTC) -> date:
    return _aware(instant).astimezone(zone).date()


def start_of_day(day: date, zone: tzinfo = UTC) -> datetime:
    """The first instant of ``day`` in ``zone`` (correct across a clock change)."""
    return datetime.combine(day, time.min, tzinfo=zone)


def watch(started_at: datetime, zone: tzinfo = UTC) -> Watch:
    day0 = local_day(started_at, zone)
    return Watch(
        started_at=started_at,
        arterial_until=start_of_day(day0 + timedelta(days=ARTERIAL_WINDOW_DAYS + 1), zone),
        venous_until=start_of_day(day0 + timedelta(days=VENOUS_WINDOW_DAYS + 1), zone),
    )


def window_day(starts: Iterable[datetime], at: datetime, zone: tzinfo = UTC) -> WindowDay | None:
    """The local day of ``at`` after the latest infusion started at or before it, or None when
    none started by then."""
    at = _aware(at)
    before = [_aware(s) for s in starts if _aware(s) <= at]
    if not before:
        return None
    latest = max(before)
    day = (local_day(at, zone) - local_day(latest, zone)).days
    return WindowDay(day=day, arterial=day <= ARTERIAL_WINDOW_DAYS, venous=day <= VENOUS_WINDOW_DAYS)


def urgent_due(
    reported_at: datetime, triage: str, tier: str | None, where: WindowDay | None, hours: int
) -> datetime | None:
    """The due time of an urgent report inside a venous window in a moderate- or high-tier
    patient (``hours`` after it was reported); None when the usual same-day rule applies.
    Emergencies are never changed."""
    if triage != "urgent" or tier not in ELEVATED_TIERS or where is None or not where.venous:
        return None
    return (_aware(reported_at).astimezone(UTC) + timedelta(hours=hours)).astimezone(reported_at.tzinfo or UTC)


def courses(given: Iterable[Given], zone: tzinfo = UTC) -> list[tuple[date, date]]:
    """(first day, last day) of each course, oldest first. The last day is the later of the
    last infusion given and the course's planned last day (first day + days_per_course - 1)."""
    days = sorted((local_day(g.started_at, zone), max(g.days_per_course, 1)) for g in given)
    runs: list[list] = []
    for day, planned in days:
        if runs and (day - runs[-1][1]).days <= COURSE_GAP_DAYS:
            run = runs[-1]
            run[1] = max(run[1], day)
            run[2] = max(run[2], run[0] + timedelta(days=planned - 1))
        else:
            runs.append([day, day, day + timedelta(days=planned - 1)])
    return [(first, max(last, planned_last)) for first, last, planned_last in runs]


def checkins(given: Iterable[Given], zone: tzinfo = UTC) -> list[Checkin]:
    """Every check-in of every course, oldest first. A course that another course follows
    before a check-in opens gets no further check-ins (the next course has its own)."""
    found: list[Checkin] = []
    runs = courses(given, zone)
    for n, (first, last) in enumerate(runs):
        next_first = runs[n + 1][0] if n + 1 < len(runs) else None
        ends = start_of_day(last + timedelta(days=VENOUS_WINDOW_DAYS + 1), zone)
        for i, day in enumerate(CHECKIN_DAYS):
            opens_on = last + timedelta(days=day)
            if next_first is not None and next_first <= opens_on:
                break
            later = CHECKIN_DAYS[i + 1] if i + 1 < len(CHECKIN_DAYS) else None
            closes = start_of_day(last + timedelta(days=later), zone) if later else ends
            if next_first is not None:
                closes = min(closes, start_of_day(next_first, zone))
            found.append(Checkin(day, first, last, start_of_day(opens_on, zone), closes))
    return found


def checkin_due(
    given: Iterable[Given], answered_at: Iterable[datetime], at: datetime, zone: tzinfo = UTC
) -> Checkin | None:
    """The check-in open at ``at`` that no check-in answer (``answered_at``) has answered since
    it opened, or None."""
    at = _aware(at)
    answers = [_aware(a) for a in answered_at]
    for checkin in reversed(checkins(given, zone)):
        if checkin.opens_at <= at < checkin.closes_at:
            if any(checkin.opens_at <= a <= at for a in answers):
                return None
            return checkin
    return None


def checkin_missed(
    given: Iterable[Given],
    answered_at: Iterable[datetime],
    at: datetime,
    zone: tzinfo = UTC,
    after_hours: int = 24,
) -> Checkin | None:
    """The latest day-1 check-in unanswered ``after_hours`` after it opened (and still within
    its course's venous window), or None. An answer at any time after it opened answers it."""
    at = _aware(at)
    answers = [_aware(a) for a in answered_at]
    for checkin in reversed(checkins(given, zone)):
        if checkin.day != 1:
            continue
        if checkin.opens_at + timedelta(hours=after_hours) > at:
            continue
        venous_end = start_of_day(checkin.course_last_day + timedelta(days=VENOUS_WINDOW_DAYS + 1), zone)
        if at >= venous_end:
            return None
        if any(a >= checkin.opens_at for a in answers):
            return None
        return checkin
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
