"""The demo backfill's one-day calendar (seatwatch/demo/backfill.py) is the site's calendar, only faster."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from seatwatch.core.hours import OccupiedHours
from seatwatch.core.site_file import load_site
from seatwatch.demo.backfill import _DayHours, last_working_day
from tests.conftest import EXAMPLE_SITE


def test_day_hours_is_the_site_calendar_with_the_same_answers_over_its_day() -> None:
    """It stands in for ``site.hours`` (an OccupiedHours, so ``intervals`` and the rest work on it) and
    says occupied exactly when the site's calendar does, at every minute of the day it was made for."""
    site = load_site(EXAMPLE_SITE)
    day = last_working_day(site, date(2026, 3, 5))
    start = datetime.combine(day, datetime.min.time(), site.hours.timezone).astimezone(UTC)
    end = start + timedelta(days=1)
    fast = _DayHours.of_day(site.hours, start, end)
    assert isinstance(fast, OccupiedHours)
    assert fast.intervals(start, end) == site.hours.intervals(start, end) != []
    minutes = [start + timedelta(minutes=m) for m in range(24 * 60)]
    answers = [fast.is_occupied(t) for t in minutes]
    assert answers == [site.hours.is_occupied(t) for t in minutes]
    assert True in answers and False in answers
