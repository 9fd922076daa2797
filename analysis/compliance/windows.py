"""The hours a check applies to, as exact UTC intervals, and the bucket size that makes them exact.

A check is judged over occupied hours, unoccupied hours, the whole period, or a daily clock window of the
profile (GB 3096 day 06:00–22:00), always in the site's time zone (docs/standards.md §3), across midnight and
DST changes (:mod:`seatwatch.core.hours` builds the intervals from wall-clock times). The database aggregates
by time bucket; choosing the bucket as the largest divisor of 60 minutes that every interval boundary falls on
(60 min for whole-hour zones such as Asia/Shanghai, 30 for Asia/Kolkata, 15 for Asia/Kathmandu) makes every
bucket lie wholly inside or wholly outside each check's hours, so no bucket is split or guessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from math import gcd

import numpy as np

from seatwatch.core.hours import Interval, OccupiedHours, Shift, parse_clock, total_seconds
from seatwatch.core.rules.profile import RulesProfile
from seatwatch.core.site import Site


class PeriodError(ValueError):
    """The period or the check hours do not fall on whole UTC minutes, so no bucket size fits them."""


@dataclass(frozen=True)
class HoursWindow:
    """The intervals of one hours name within the period, and their bucket starts (epoch ms)."""

    name: str
    intervals: list[Interval]
    bucket_starts: np.ndarray

    @property
    def seconds(self) -> float:
        return total_seconds(self.intervals)


def check_intervals(
    site: Site, profile: RulesProfile, hours: str, start: datetime, end: datetime
) -> list[Interval]:
    """UTC intervals of ``hours`` ('occupied', 'unoccupied', 'all' or a profile clock window)."""
    if hours == "occupied":
        return site.hours.intervals(start, end)
    if hours == "unoccupied":
        return site.hours.unoccupied_intervals(start, end)
    if hours == "all":
        return [(start, end)]
    clock = profile.clock_hours[hours]
    shift = Shift(hours, frozenset(range(7)), parse_clock(clock.start), parse_clock(clock.end) or 24 * 60)
    return OccupiedHours(site.hours.timezone, (shift,)).intervals(start, end)


def bucket_minutes(boundaries: list[datetime]) -> int:
    """The largest divisor of 60 that every boundary's UTC minute is a multiple of (seconds must be 0)."""
    step = 60
    for t in boundaries:
        if t.second or t.microsecond:
            raise PeriodError(
                f"{t.isoformat()} is not on a whole UTC minute; periods and check hours must start on "
                "minutes (the site's time zone may have had an offset with seconds then)"
            )
        step = gcd(step, t.minute)
    return step or 60


def windows(
    site: Site,
    profile: RulesProfile,
    names: set[str],
    start: datetime,
    end: datetime,
    bucket: int | None = None,
) -> tuple[int, dict[str, HoursWindow]]:
    """The bucket size in minutes and a :class:`HoursWindow` for each hours name.

    ``bucket`` imposes the bucket size (the upkeep rolls up single hours in the buckets a report over whole
    days uses); it must divide the one the edges allow."""
    spans = {name: check_intervals(site, profile, name, start, end) for name in sorted(names)}
    edges = [start, end, *(t for ivs in spans.values() for iv in ivs for t in iv)]
    minutes = bucket_minutes(edges)
    if bucket is not None:
        if minutes % bucket:
            raise PeriodError(f"{bucket}-minute buckets do not fit the hours from {start} to {end}")
        minutes = bucket
    step_ms = minutes * 60_000
    out = {}
    for name, ivs in spans.items():
        starts = [
            np.arange(int(a.timestamp() * 1000), int(b.timestamp() * 1000), step_ms, dtype=np.int64)
            for a, b in ivs
        ]
        out[name] = HoursWindow(name, ivs, np.concatenate(starts) if starts else np.zeros(0, dtype=np.int64))
    return minutes, out
