"""The engine counts the calendar days of the patient's site (snapshot.time_zone), not UTC days:
a course, T1-T5 and "today" are local, across daylight-saving changes too."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from itrs import engine
from itrs.facts import read_facts
from tests.itrs import builders as b

SYDNEY, NEW_YORK = ZoneInfo("Australia/Sydney"), ZoneInfo("America/New_York")


def two_bags_a_day(first: date, zone, hours=(8, 12), grams=13.0, days=5):
    """A daily course: two 13 g bags a day, at these local hours (26 g/day, 130 g in 5 days)."""
    return tuple(
        b.infusion(datetime(d.year, d.month, d.day, hour, tzinfo=zone), grams)
        for d in (first + timedelta(days=n) for n in range(days))
        for hour in hours
    )


def t3_words(snapshot, as_of) -> str:
    result = engine.assess(snapshot, as_of)
    return next(f.label for f in result.factors if f.code == "T3")


def test_a_5_day_course_at_8am_sydney_is_5_local_days():
    first = date(2026, 2, 2)
    infusions = two_bags_a_day(first, SYDNEY)
    as_of = datetime(2026, 2, 7, 9, tzinfo=SYDNEY)
    local = b.patient(weight_kg=65.0, infusions=infusions, time_zone="Australia/Sydney")
    utc = b.patient(weight_kg=65.0, infusions=infusions)  # the same instants counted in UTC days
    assert "130 g = 2.00 g/kg of the actual weight 65 kg within 5 day(s)" in t3_words(local, as_of)
    assert "within 6 day(s)" in t3_words(utc, as_of)  # 08:00 in Sydney is the UTC day before
    by_day = engine._grams_by_day(read_facts(local, as_of).infusions)
    assert by_day == {first + timedelta(days=n): 26.0 for n in range(5)}


def test_today_is_the_sites_calendar_day():
    as_of = datetime(2026, 2, 7, 0, 30, tzinfo=SYDNEY)  # 13:30 UTC on the 6th
    assert read_facts(b.patient(time_zone="Australia/Sydney"), as_of).today == date(2026, 2, 7)
    assert read_facts(b.patient(time_zone="America/New_York"), as_of).today == date(2026, 2, 6)
    assert read_facts(b.patient(), as_of).today == date(2026, 2, 6)


def test_sydney_daylight_saving_end_neither_drops_nor_doubles_a_day():
    """DST ends on the first Sunday of April (5 April 2026: 03:00 -> 02:00, a 25-hour day)."""
    first = date(2026, 4, 3)
    snapshot = b.patient(weight_kg=65.0, infusions=two_bags_a_day(first, SYDNEY, hours=(0, 23)),
                         time_zone="Australia/Sydney")  # fmt: skip
    as_of = datetime(2026, 4, 8, 9, tzinfo=SYDNEY)
    assert engine._grams_by_day(read_facts(snapshot, as_of).infusions) == {
        first + timedelta(days=n): 26.0 for n in range(5)
    }
    assert "within 5 day(s)" in t3_words(snapshot, as_of)


def test_new_york_daylight_saving_start_neither_drops_nor_doubles_a_day():
    """DST starts on the second Sunday of March (8 March 2026: 02:00 -> 03:00, a 23-hour day)."""
    first = date(2026, 3, 6)
    snapshot = b.patient(weight_kg=65.0, infusions=two_bags_a_day(first, NEW_YORK, hours=(0, 23)),
                         time_zone="America/New_York")  # fmt: skip
    as_of = datetime(2026, 3, 11, 9, tzinfo=NEW_YORK)
    assert engine._grams_by_day(read_facts(snapshot, as_of).infusions) == {
        first + timedelta(days=n): 26.0 for n in range(5)
    }
    assert "within 5 day(s)" in t3_words(snapshot, as_of)
