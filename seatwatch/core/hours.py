"""Occupied hours: the site's shift calendar, turned into UTC intervals.

Compliance is judged over the hours people work (docs/standards.md §3: LAeq over occupied hours, background
over unoccupied hours), in the site's own time zone. Shifts may cross midnight (a 22:00–06:00 night shift
belongs to the day it starts) and days may cross a DST change, so intervals are built from local wall-clock
times with :mod:`zoneinfo` and only then converted to UTC.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

Interval = tuple[datetime, datetime]


def parse_clock(text: str) -> int:
    """'08:30' -> minutes after midnight; '24:00' is allowed as the end of a day."""
    m = _TIME.match(text)
    if not m or (m.group(1) == "24" and m.group(2) != "00"):
        raise ValueError(f"{text!r} is not a time of day HH:MM (00:00 to 24:00)")
    return int(m.group(1)) * 60 + int(m.group(2))


def parse_days(spec: str | list[str]) -> frozenset[int]:
    """Days as 'daily', 'mon-fri', 'sat' or a list of day names -> weekday numbers (Monday = 0)."""
    items = [spec] if isinstance(spec, str) else list(spec)
    days: set[int] = set()
    for item in items:
        item = str(item).strip().lower()
        if item == "daily":
            days.update(range(7))
        elif "-" in item:
            first, _, last = item.partition("-")
            if first not in DAY_NAMES or last not in DAY_NAMES:
                raise ValueError(f"{item!r} is not a day range like 'mon-fri'")
            a, b = DAY_NAMES.index(first), DAY_NAMES.index(last)
            days.update(range(a, b + 1) if a <= b else [*range(a, 7), *range(0, b + 1)])
        elif item in DAY_NAMES:
            days.add(DAY_NAMES.index(item))
        else:
            raise ValueError(f"{item!r} is not a day name (mon..sun), a range like 'mon-fri', or 'daily'")
    if not days:
        raise ValueError("no days given")
    return frozenset(days)


@dataclass(frozen=True)
class Shift:
    """A block of working time that starts on the given weekdays; ``end <= start`` crosses midnight."""

    name: str
    days: frozenset[int]
    start_min: int
    end_min: int

    @property
    def minutes(self) -> int:
        length = self.end_min - self.start_min
        return length if length > 0 else length + 24 * 60


@dataclass(frozen=True)
class OccupiedHours:
    """The site calendar: shifts in a time zone, minus closed dates (public holidays)."""

    timezone: ZoneInfo
    shifts: tuple[Shift, ...]
    closed: frozenset[date] = frozenset()

    def intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """Occupied time within [start, end) as merged, sorted UTC intervals."""
        # In UTC, so that durations are real seconds: Python subtracts two datetimes that share a tzinfo
        # on the wall clock, which would give a DST-change day 24 hours.
        start, end = _utc(start), _utc(end)
        local_first = start.astimezone(self.timezone).date() - timedelta(days=1)
        local_last = end.astimezone(self.timezone).date()
        raw: list[Interval] = []
        day = local_first
        while day <= local_last:
            raw.extend(_day_intervals(self, day))
            day += timedelta(days=1)
        return clip(merge(raw), start, end)

    def unoccupied_intervals(self, start: datetime, end: datetime) -> list[Interval]:
        """The complement of :meth:`intervals` within [start, end)."""
        return complement(self.intervals(start, end), _utc(start), _utc(end))

    def is_occupied(self, t: datetime) -> bool:
        """Whether ``t`` falls in a shift; cheap enough to call per reading (simulator, backfill)."""
        t = _utc(t)
        day = t.astimezone(self.timezone).date()
        # A shift that started yesterday may still be running (night shifts).
        return any(a <= t < b for d in (day - timedelta(days=1), day) for a, b in _day_intervals(self, d))


@functools.lru_cache(maxsize=4096)
def _day_intervals(hours: OccupiedHours, day: date) -> tuple[Interval, ...]:
    """The UTC intervals of the shifts that start on local ``day`` (none on a closed date)."""
    if day in hours.closed:
        return ()
    midnight = datetime(day.year, day.month, day.day)
    out = []
    for shift in hours.shifts:
        if day.weekday() not in shift.days:
            continue
        a = midnight + timedelta(minutes=shift.start_min)
        b = a + timedelta(minutes=shift.minutes)
        # Wall-clock times → aware; zoneinfo resolves DST gaps and folds consistently.
        out.append(
            (
                a.replace(tzinfo=hours.timezone).astimezone(UTC),
                b.replace(tzinfo=hours.timezone).astimezone(UTC),
            )
        )
    return tuple(out)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sort and merge overlapping or touching intervals."""
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def clip(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    return [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]


def complement(intervals: list[Interval], start: datetime, end: datetime) -> list[Interval]:
    out: list[Interval] = []
    cursor = start
    for a, b in merge(intervals):
        if a > cursor:
            out.append((cursor, min(a, end)))
        cursor = max(cursor, b)
    if cursor < end:
        out.append((cursor, end))
    return [(a, b) for a, b in out if b > a]


def total_seconds(intervals: Iterable[Interval]) -> float:
    return sum((b - a).total_seconds() for a, b in intervals)


def _utc(t: datetime) -> datetime:
    if t.tzinfo is None:
        raise ValueError(f"{t.isoformat()} has no time zone; seatwatch works in aware datetimes")
    return t.astimezone(UTC)
