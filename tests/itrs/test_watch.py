"""Watch windows, urgent triage inside them, and check-ins (itrs.watch; risk/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from itrs import watch
from itrs.review import ReviewSettings, symptom_flag
from itrs.types import SymptomSnap

SYD = ZoneInfo("Australia/Sydney")
LON = ZoneInfo("Europe/London")


def test_windows_end_at_the_end_of_local_day_2_and_day_14():
    # Started 1 Dec 23:30 in Sydney (12:30 UTC): day 0 is 1 Dec in Sydney.
    started = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)
    w = watch.watch(started, SYD)
    assert w.arterial_until == datetime(2026, 12, 4, 0, 0, tzinfo=SYD)
    assert w.venous_until == datetime(2026, 12, 16, 0, 0, tzinfo=SYD)
    # The same instant in UTC days: day 0 is still 1 Dec, the ends are UTC midnights.
    assert watch.watch(started, UTC).arterial_until == datetime(2026, 12, 4, tzinfo=UTC)
    # Started 2 Dec 00:30 in Sydney (13:30 UTC on 1 Dec): day 0 is 2 Dec there, 1 Dec in UTC.
    later = datetime(2026, 12, 1, 13, 30, tzinfo=UTC)
    assert watch.watch(later, SYD).arterial_until == datetime(2026, 12, 5, tzinfo=SYD)
    assert watch.watch(later, UTC).arterial_until == datetime(2026, 12, 4, tzinfo=UTC)


@pytest.mark.parametrize(
    ("local", "day", "arterial", "venous"),
    [
        (datetime(2026, 12, 1, 23, 59), 0, True, True),
        (datetime(2026, 12, 3, 23, 59), 2, True, True),  # the last minute of day 2
        (datetime(2026, 12, 4, 0, 0), 3, False, True),  # the first minute of day 3
        (datetime(2026, 12, 15, 23, 59), 14, False, True),  # the last minute of day 14
        (datetime(2026, 12, 16, 0, 0), 15, False, False),
    ],
)
def test_window_day_boundaries_are_local_days(local, day, arterial, venous):
    started = datetime(2026, 12, 1, 8, 0, tzinfo=SYD)
    where = watch.window_day([started], local.replace(tzinfo=SYD), SYD)
    assert (where.day, where.arterial, where.venous) == (day, arterial, venous)


def test_window_day_across_a_clock_change_counts_calendar_days():
    # London leaves summer time on 25 Oct 2026: day 2 still ends at local midnight.
    started = datetime(2026, 10, 24, 9, 0, tzinfo=LON)
    assert watch.watch(started, LON).arterial_until == datetime(2026, 10, 27, tzinfo=LON)
    assert watch.window_day([started], datetime(2026, 10, 26, 23, 30, tzinfo=LON), LON).day == 2


def test_window_day_is_from_the_latest_infusion_before_the_instant():
    starts = [datetime(2026, 12, 1, 9, tzinfo=UTC), datetime(2026, 12, 20, 9, tzinfo=UTC)]
    assert watch.window_day(starts, datetime(2026, 12, 4, 9, tzinfo=UTC)).day == 3
    assert watch.window_day(starts, datetime(2026, 12, 21, 9, tzinfo=UTC)).day == 1
    assert watch.window_day(starts, datetime(2026, 11, 30, tzinfo=UTC)) is None


def _urgent(at):
    return SymptomSnap(reported_at=at, triage="urgent", symptoms=("limb_pain_swelling",))


REPORT_AT = datetime(2026, 12, 4, 10, 0, tzinfo=SYD)  # day 3 after an infusion on 1 Dec
INFUSED = [datetime(2026, 12, 1, 9, 0, tzinfo=SYD)]


@pytest.mark.parametrize("tier", ["moderate", "high"])
def test_urgent_inside_a_venous_window_in_moderate_or_high_tier_is_due_in_4_hours(tier):
    spec = symptom_flag([_urgent(REPORT_AT)], tier=tier, infusion_starts=INFUSED, zone=SYD)
    assert spec.due_at == REPORT_AT + timedelta(hours=4)
    assert "day 3 after IVIG" in spec.reason and f"{tier}-tier" in spec.reason
    assert "within 4 hours" in spec.reason and "same-day" not in spec.reason


def test_low_tier_inside_a_window_keeps_the_same_day_rule():
    spec = symptom_flag([_urgent(REPORT_AT)], tier="low", infusion_starts=INFUSED, zone=SYD)
    assert spec.due_at == datetime(2026, 12, 4, 18, 0, tzinfo=SYD)
    assert "after IVIG" not in spec.reason and "same-day" in spec.reason


@pytest.mark.parametrize("tier", ["low", "moderate", "high"])
def test_outside_every_window_triage_is_unchanged_for_each_tier(tier):
    late = datetime(2026, 12, 16, 10, 0, tzinfo=SYD)  # day 15
    spec = symptom_flag([_urgent(late)], tier=tier, infusion_starts=INFUSED, zone=SYD)
    assert spec.priority == "urgent"  # symptoms escalate whatever the tier
    assert spec.due_at == datetime(2026, 12, 16, 18, 0, tzinfo=SYD)
    assert "watch window" not in spec.reason


@pytest.mark.parametrize("tier", ["low", "moderate", "high"])
def test_emergencies_stay_emergencies_due_now_inside_a_window(tier):
    report = SymptomSnap(reported_at=REPORT_AT, triage="emergency", symptoms=("chest_pain",))
    spec = symptom_flag([report], tier=tier, infusion_starts=INFUSED, zone=SYD)
    assert (spec.rule, spec.due_at) == ("SYM-EMERGENCY", REPORT_AT)


def test_the_4_hours_are_a_setting_and_never_later_than_same_day():
    evening = datetime(2026, 12, 4, 17, 0, tzinfo=SYD)  # same-day would be 21:00 (17:00 + 4 h)
    settings = ReviewSettings(watch_urgent_due_hours=2)
    spec = symptom_flag([_urgent(evening)], settings, tier="high", infusion_starts=INFUSED, zone=SYD)
    assert spec.due_at == evening + timedelta(hours=2)
    early = datetime(2026, 12, 4, 17, 30, tzinfo=SYD)
    wide = ReviewSettings(watch_urgent_due_hours=8, working_day_ends="18:00", same_day_min_hours=1)
    spec = symptom_flag([_urgent(early)], wide, tier="high", infusion_starts=INFUSED, zone=SYD)
    assert spec.due_at == datetime(2026, 12, 4, 18, 30, tzinfo=SYD)  # same-day was sooner


# --- courses and check-ins ---------------------------------------------------------------------


def _five_day_course(first_day=1, given_days=5):
    return [
        watch.Given(datetime(2026, 12, first_day + n, 9, 0, tzinfo=SYD), days_per_course=5) for n in range(given_days)
    ]


def test_a_5_day_course_has_one_day_1_and_one_day_7_check_in():
    found = watch.checkins(_five_day_course(), SYD)
    assert [(c.day, c.opens_at) for c in found] == [
        (1, datetime(2026, 12, 6, tzinfo=SYD)),
        (7, datetime(2026, 12, 12, tzinfo=SYD)),
    ]
    assert found[0].closes_at == found[1].opens_at
    assert found[1].closes_at == datetime(2026, 12, 20, tzinfo=SYD)  # end of day 14 after the course (5 Dec)


def test_no_check_in_between_days_of_a_course_in_progress():
    # Only day 1 of the 5 recorded so far: the course is not over, nothing is offered on 2 Dec.
    given = _five_day_course(given_days=1)
    assert watch.checkin_due(given, [], datetime(2026, 12, 2, 8, 0, tzinfo=SYD), SYD) is None
    assert watch.checkin_due(given, [], datetime(2026, 12, 6, 8, 0, tzinfo=SYD), SYD).day == 1


def test_weekly_infusions_are_separate_courses_a_weekend_gap_is_not():
    weekly = [watch.Given(datetime(2026, 12, d, 9, tzinfo=UTC)) for d in (1, 8, 15)]
    assert len(watch.courses(weekly, UTC)) == 3
    # Weekly courses: the day-7 check-in of one would fall on the next course's day: not offered.
    assert [c.day for c in watch.checkins(weekly, UTC)] == [1, 1, 1, 7]
    mon_fri_gap = [watch.Given(datetime(2026, 12, d, 9, tzinfo=UTC)) for d in (4, 7)]  # Fri, Mon
    assert len(watch.courses(mon_fri_gap, UTC)) == 1


def test_an_answer_closes_the_check_in_and_the_next_opens_later():
    given = _five_day_course()
    day1 = datetime(2026, 12, 6, 10, 0, tzinfo=SYD)
    assert watch.checkin_due(given, [], day1, SYD).day == 1
    assert watch.checkin_due(given, [day1], day1 + timedelta(hours=1), SYD) is None
    assert watch.checkin_due(given, [day1], datetime(2026, 12, 12, 9, tzinfo=SYD), SYD).day == 7
    # An answer before the check-in opened does not answer it.
    assert watch.checkin_due(given, [datetime(2026, 12, 5, 20, tzinfo=SYD)], day1, SYD).day == 1


def test_checkin_missed_24_hours_after_the_day_1_check_in_opened():
    given = _five_day_course()
    opened = datetime(2026, 12, 6, tzinfo=SYD)
    assert watch.checkin_missed(given, [], opened + timedelta(hours=23, minutes=59), SYD) is None
    missed = watch.checkin_missed(given, [], opened + timedelta(hours=24), SYD)
    assert (missed.day, missed.opens_at) == (1, opened)
    # Answered late (on day 3): no longer missed.
    late = opened + timedelta(hours=50)
    assert watch.checkin_missed(given, [late], late, SYD) is None
    # After the venous window of the course: no longer asked.
    assert watch.checkin_missed(given, [], datetime(2026, 12, 20, tzinfo=SYD), SYD) is None
