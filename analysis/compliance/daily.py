"""The report's daily series: per seat and local calendar day, occupied LAeq and lowest bucket mean lux.

A day runs from one local midnight of the site's time zone to the next (:func:`local_days`), so across a
DST change it lasts 23 or 25 hours (Europe/Berlin: 2026-03-29 and 2026-10-25). Both sources of an
assessment build the series with the same reduction (:func:`_series`) from per-bucket energy, covered
seconds and lux, so they agree by construction:

- the raw readings' per-bucket aggregates (:func:`raw_daily`), summed per day in Python;
- the hourly rollups (:func:`rollup_daily`), summed per day by the database. InfluxQL's ``GROUP BY
  time(1d, offset)`` has fixed 24 h buckets at one UTC offset, so there is one statement per stretch of
  days whose midnights share a UTC offset; the 25 h day at the end of a stretch comes back as two
  buckets (24 h and 1 h), both inside it, and is summed back into one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from analysis.compliance.reading_queries import SeatData
from analysis.compliance.rollups import hours_filter, rollups_where
from analysis.compliance.windows import HoursWindow
from seatwatch.core.influxql import InfluxQLClient, quote_ident
from seatwatch.core.schema import SeatRollup, level_from_exposure

DailySeries = dict[str, list[float | None]]
"""``{"laeq_occupied": [dB per day], "lux_min_occupied": [lx per day]}``, None where a day has no data."""


@dataclass(frozen=True)
class Days:
    """The local days an assessment touches: ``starts[i]`` to ``ends[i]``, consecutive local midnights."""

    starts: list[datetime]
    ends: list[datetime]

    def __len__(self) -> int:
        return len(self.starts)

    @property
    def midnights_ms(self) -> np.ndarray:
        return np.array([int(d.timestamp() * 1000) for d in self.starts], dtype=np.int64)

    def index(self, times_ms: np.ndarray) -> np.ndarray:
        """The day each time (epoch ms) falls in; −1 or ``len(self)`` for a time outside every day."""
        if not self.starts:
            return np.full(len(times_ms), -1, dtype=np.int64)
        idx = np.searchsorted(self.midnights_ms, times_ms, side="right") - 1
        last_end = int(self.ends[-1].timestamp() * 1000)
        return np.where(np.asarray(times_ms) >= last_end, len(self), idx)

    def stretches(self) -> list[tuple[int, datetime, datetime]]:
        """Runs of consecutive days whose midnights have the same UTC offset: (offset of the midnights
        within the UTC day in seconds, first day's start, last day's end)."""
        out: list[tuple[int, datetime, datetime]] = []
        for start, end in zip(self.starts, self.ends, strict=True):
            offset = int(start.timestamp()) % 86400
            if out and out[-1][0] == offset and out[-1][2] == start:
                out[-1] = (offset, out[-1][1], end)
            else:
                out.append((offset, start, end))
        return out


def local_days(start: datetime, end: datetime, tz: ZoneInfo) -> Days:
    """Every local day of ``tz`` that [start, end) touches, from its midnight to the next one."""
    day = start.astimezone(tz).date()
    starts: list[datetime] = []
    while (midnight := datetime(day.year, day.month, day.day, tzinfo=tz)) < end:
        starts.append(midnight)
        day += timedelta(days=1)
    ends = [*starts[1:], datetime(day.year, day.month, day.day, tzinfo=tz)] if starts else []
    return Days(starts, ends)


def no_data(days: Days) -> DailySeries:
    return {"laeq_occupied": [None] * len(days), "lux_min_occupied": [None] * len(days)}


def _series(
    days: Days,
    noise_t: np.ndarray,
    energy: np.ndarray,
    dur: np.ndarray,
    light_t: np.ndarray,
    lux_low: np.ndarray,
) -> DailySeries:
    """Per day: LAeq from the summed energy and seconds of its noise buckets (those with covered time),
    and the lowest of its light buckets' values (NaN: no light in that bucket)."""
    n = len(days)
    out = no_data(days)
    idx = days.index(noise_t)
    keep = (idx >= 0) & (idx < n) & (dur > 0)
    energy_sum = np.bincount(idx[keep], energy[keep], minlength=n)
    dur_sum = np.bincount(idx[keep], dur[keep], minlength=n)
    for i, (e, d) in enumerate(zip(energy_sum.tolist(), dur_sum.tolist(), strict=True)):
        level = level_from_exposure(e, d)
        out["laeq_occupied"][i] = None if level is None else round(level, 1)
    idx = days.index(light_t)
    keep = (idx >= 0) & (idx < n) & np.isfinite(lux_low)
    lows = np.full(n, np.inf)
    np.minimum.at(lows, idx[keep], lux_low[keep])
    out["lux_min_occupied"] = [round(float(v), 0) if np.isfinite(v) else None for v in lows]
    return out


def raw_daily(data: SeatData, occupied: HoursWindow, days: Days) -> DailySeries:
    """One seat's daily series from its per-bucket aggregates of the readings, occupied buckets only."""
    empty = np.zeros(0)
    noise_t, energy, dur, light_t, lows = empty.astype(np.int64), empty, empty, empty.astype(np.int64), empty
    if data.noise is not None:
        mask = np.isin(data.noise.t, occupied.bucket_starts)
        noise_t, energy, dur = (
            data.noise.t[mask],
            data.noise.column("energy")[mask],
            data.noise.column("dur")[mask],
        )
    if data.light is not None:
        mask = np.isin(data.light.t, occupied.bucket_starts) & (data.light.column("count") > 0)
        light_t, lows = data.light.t[mask], data.light.column("lux")[mask]
    return _series(days, noise_t, energy, dur, light_t, lows)


def rollup_daily(
    client: InfluxQLClient, site: str, key: str, start: datetime, end: datetime, days: Days
) -> dict[str, DailySeries]:
    """Per data seat, the daily series from the rollups of calendar ``key`` over [start, end)."""
    energy, dur, lux = (quote_ident(f) for f in (SeatRollup.ENERGY, SeatRollup.DUR, SeatRollup.LUX))
    rows: dict[str, list[tuple[int, float, float, float]]] = {}
    for offset_s, a, b in days.stretches():
        a, b = max(a, start), min(b, end)
        q = (
            f"SELECT sum({energy}), sum({dur}), min({lux}) FROM {quote_ident(SeatRollup.NAME)} "
            f"WHERE {rollups_where(site, key, a, b)}{hours_filter('occupied')} "
            f"GROUP BY time(1d, {offset_s}s), {quote_ident(SeatRollup.SEAT)} fill(none)"
        )
        for series in client.query(q):
            rows.setdefault(series.tags[SeatRollup.SEAT], []).extend(
                (t, _number(e), _number(d), _number(low)) for t, e, d, low in series.values
            )
    out: dict[str, DailySeries] = {}
    for seat, values in rows.items():
        table = np.array(values, dtype=float).reshape(-1, 4)
        t = table[:, 0].astype(np.int64)
        out[seat] = _series(days, t, table[:, 1], table[:, 2], t, table[:, 3])
    return out


def _number(value: float | None) -> float:
    """A null aggregate (no such field in the bucket) as NaN."""
    return np.nan if value is None else float(value)
