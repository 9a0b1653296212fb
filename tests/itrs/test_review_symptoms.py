"""Symptom alerts in the pure rules (itrs/review.py `symptom_flag`, `same_day_due`): the flag over
every report on it, and due times that match the words ("same-day", "now"). No database."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from itrs.review import ReviewSettings, same_day_due, symptom_flag
from itrs.types import SymptomSnap
from tests.itrs.review_builders import at


def report(hh: int, mm: int, triage: str, *symptoms: str) -> SymptomSnap:
    return SymptomSnap(at(2025, 3, 3, hh, mm), triage, symptoms)


# --- due times -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raised", "due"),
    [
        ((8, 0), (18, 0)),  # morning: the end of the working day
        ((13, 59), (18, 0)),  # 4 h 1 min before the day ends: still the end of the day
        ((14, 0), (18, 0)),  # exactly 4 h before: the two agree
        ((14, 1), (18, 1)),  # later than 14:00: 4 hours, past the end of the day
        ((16, 30), (20, 30)),
        ((19, 0), (23, 0)),  # after hours: 4 hours, never a time already past
    ],
)
def test_same_day_is_the_end_of_the_working_day_or_4_hours_if_later(raised, due):
    assert same_day_due(at(2025, 3, 3, *raised)) == at(2025, 3, 3, *due)


def test_same_day_after_21_00_runs_into_the_next_day():
    assert same_day_due(at(2025, 3, 3, 22, 30)) == at(2025, 3, 4, 2, 30)


def test_working_day_end_and_minimum_are_settings():
    late = ReviewSettings(working_day_ends="20:00", same_day_min_hours=2)
    assert same_day_due(at(2025, 3, 3, 17, 0), late) == at(2025, 3, 3, 20, 0)
    assert same_day_due(at(2025, 3, 3, 19, 0), late) == at(2025, 3, 3, 21, 0)
    with pytest.raises(ValueError):
        ReviewSettings(working_day_ends="6pm")


def test_same_day_is_the_working_day_of_the_instant_s_own_time_zone():
    sydney = ZoneInfo("Australia/Sydney")
    morning = datetime(2025, 3, 3, 9, 0, tzinfo=sydney)  # 22:00 UTC the day before
    assert same_day_due(morning) == datetime(2025, 3, 3, 18, 0, tzinfo=sydney)
    # 4 real hours across the end of daylight saving time (Sydney, 6 April 2025, 03:00 -> 02:00):
    # 23:30 AEDT is 12:30 UTC, due 16:30 UTC, which is 02:30 AEST on the clock (3 hours on)
    night = datetime(2025, 4, 5, 23, 30, tzinfo=sydney)
    due = same_day_due(night)
    assert due.astimezone(ZoneInfo("UTC")) == at(2025, 4, 5, 16, 30)
    assert (due.hour, due.minute) == (2, 30)


def test_urgent_symptom_flags_are_due_the_same_day_and_emergencies_now():
    assert symptom_flag([report(10, 0, "urgent", "blurred_vision")]).due_at == at(2025, 3, 3, 18, 0)
    assert symptom_flag([report(15, 0, "urgent", "blurred_vision")]).due_at == at(2025, 3, 3, 19, 0)
    assert symptom_flag([report(15, 0, "emergency", "chest_pain")]).due_at == at(2025, 3, 3, 15, 0)
    assert "same-day" in symptom_flag([report(10, 0, "urgent", "rapid_pulse")]).reason


# --- one flag over all its reports ------------------------------------------------------------


def test_the_reason_lists_every_report_newest_first_and_the_most_urgent_decides():
    reports = [
        report(10, 0, "emergency", "chest_pain"),
        report(11, 0, "urgent", "blurred_vision"),
        report(12, 0, "emergency", "one_sided_weakness"),
        report(12, 30, "routine", "other"),
    ]
    spec = symptom_flag(reports)
    assert (spec.rule, spec.priority) == ("SYM-EMERGENCY", "emergency")
    assert spec.reason == (
        "4 symptom reports, newest first: "
        "routine on 2025-03-03 12:30 UTC (other symptoms); "
        "emergency on 2025-03-03 12:00 UTC (weakness or numbness on one side); "
        "urgent on 2025-03-03 11:00 UTC (blurred vision); "
        "emergency on 2025-03-03 10:00 UTC (chest pain). "
        "Contact the patient now and advise emergency services."
    )
    assert [r["triage"] for r in spec.evidence["reports"]] == ["routine", "emergency", "urgent", "emergency"]
    assert spec.evidence["triage"] == "emergency"
    # due from the newest report that needs action, at the flag's priority (the routine one asks for nothing)
    assert spec.due_at == at(2025, 3, 3, 12, 0)


def test_a_milder_report_never_lowers_the_flag():
    emergency = report(10, 0, "emergency", "chest_pain")
    for milder in (report(11, 0, "urgent", "rapid_pulse"), report(11, 0, "routine", "other")):
        spec = symptom_flag([milder, emergency])
        assert spec.priority == "emergency" and "chest pain" in spec.reason
        assert spec.reason.endswith("Contact the patient now and advise emergency services.")


def test_only_routine_reports_raise_nothing_and_the_order_given_does_not_matter():
    assert symptom_flag([report(9, 0, "routine", "other"), report(10, 0, "routine", "other")]) is None
    reports = [report(9, 0, "urgent", "rapid_pulse"), report(10, 0, "routine", "other")]
    assert symptom_flag(reports) == symptom_flag(list(reversed(reports)))


def test_a_report_with_no_symptom_named_says_so():
    assert "not specified" in symptom_flag([report(9, 0, "urgent")]).reason
