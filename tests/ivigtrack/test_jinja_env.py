"""The Jinja2 fragments' filters print exactly what the page templates' filters they replace print
(the site's date format: ``ivigtrack.template_dates``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.template.defaultfilters import truncatechars as django_truncatechars
from django.utils import timezone
from django.utils.timezone import template_localtime
from hypothesis import given
from hypothesis import strategies as st

from ivigtrack import dates
from ivigtrack.jinja_env import age, day_time, day_time_year, truncatechars
from ivigtrack.template_dates import date as page_date

moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC))
zones = st.sampled_from(["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Adelaide"])


@given(moments, zones, st.sampled_from([code for code, _ in dates.CHOICES]))
def test_day_time_prints_what_the_date_filter_prints(moment, zone, code):
    dates.activate(code)
    try:
        with timezone.override(zone):
            assert day_time(moment) == page_date(template_localtime(moment), "j M H:i")
            assert day_time_year(moment) == page_date(template_localtime(moment), "j M Y H:i")
    finally:
        dates.deactivate()


def test_day_time_is_local():
    summer = datetime(2026, 7, 5, 23, 30, tzinfo=UTC)
    with timezone.override("Europe/London"):
        assert day_time(summer) == "06/07/2026 00:30"  # the default format: day first, with the year
    assert day_time(None) == "" and day_time_year(None) == ""


def test_age():
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    assert age(now - timedelta(seconds=30), now) == "just now"
    assert age(now - timedelta(hours=2, minutes=5), now) == "2\xa0hours, 5\xa0minutes ago"
    assert age(None, now) == ""


@given(st.text(max_size=200), st.integers(min_value=1, max_value=150))
def test_truncatechars_matches_django(text, length):
    assert truncatechars(text, length) == django_truncatechars(text, length)
