"""Per seat and per check hours: the sums, extremes and level histogram every figure is made from.

The engine judges from these :class:`WindowStats`, whichever way they were obtained — from per-bucket
aggregates of the raw readings (:func:`raw_stats`) or from the hourly rollups the engine writes
(:mod:`analysis.compliance.rollups`) — so both ways give the same figures by construction.

``laeq_p10``/``laeq_p90``, the 10th and 90th percentiles (levels exceeded 10 % and 90 % of the time) of the
readings' LAeq — 1 s values from a seatwatch bridge — come from the covered seconds in 1 dB bins
(:mod:`analysis.compliance.laeq_histogram`), read back with
:func:`seatwatch.core.acoustics.decibels.percentile_levels` at the bin centres: exact to within half a bin.
They are not a sound level meter's LAF10/LAF90, which sample the F time-weighted level every 100 ms
(``seatwatch level``); on speech the two differ by many dB.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np

from analysis.compliance.laeq_histogram import BIN_COUNT, LEVEL_MAX, LEVEL_MIN
from analysis.compliance.reading_queries import Buckets, SeatData
from analysis.compliance.windows import HoursWindow
from seatwatch.core.acoustics.decibels import percentile_levels
from seatwatch.core.schema import level_from_exposure


@dataclass
class WindowStats:
    """One seat over one hours name. Seconds are covered seconds; lux figures are over light buckets."""

    noise_energy: float = 0.0
    noise_seconds: float = 0.0
    lafmax: float | None = None
    below_floor_seconds: float = 0.0
    histogram: np.ndarray = field(default_factory=lambda: np.zeros(BIN_COUNT))  # seconds per 1 dB bin
    lux_sum: float = 0.0  # Σ bucket mean × readings
    lux_count: float = 0.0
    lux_seconds: float = 0.0
    lux_lowest_bucket: float | None = None
    lux_lowest_reading: float | None = None
    below: dict[float, tuple[float, list[int]]] = field(default_factory=dict)  # required -> (s, local hours)

    @property
    def laeq(self) -> float | None:
        """LAeq = 10·lg(Σexposure / Σdur): the energy mean of the covered time (docs/standards.md §5)."""
        return level_from_exposure(self.noise_energy, self.noise_seconds)

    def percentiles(self) -> dict[int, float]:
        """10th and 90th percentiles of the readings' LAeq from the histogram (bin centres), or {}."""
        keep = self.histogram > 0
        if not keep.any():
            return {}
        centres = np.arange(LEVEL_MIN, LEVEL_MAX + 1, dtype=float) + 0.5
        return percentile_levels(centres[keep], self.histogram[keep], ns=(10, 90))

    @property
    def lux_mean(self) -> float | None:
        return self.lux_sum / self.lux_count if self.lux_count > 0 else None


def light_seconds(light: Buckets, period_s: float | None, bucket_s: float) -> np.ndarray:
    """Covered seconds per light bucket: Σdur where light points carry ``dur``; otherwise the count times
    the sensor's median reporting period, capped at the bucket (light points written before ingest stored
    ``dur`` on them; docs/design.md)."""
    dur = light.column("dur")
    if np.any(np.isfinite(dur)):
        return np.nan_to_num(dur)
    return np.minimum(bucket_s, light.column("count") * (period_s or bucket_s))


def local_hours(times_ms: np.ndarray, tz: ZoneInfo) -> list[int]:
    return sorted({datetime.fromtimestamp(t / 1000, UTC).astimezone(tz).hour for t in times_ms.tolist()})


def _in(buckets: Buckets | None, window: HoursWindow) -> np.ndarray | None:
    """Which buckets lie in ``window``; None when there are none (no data in the check's hours)."""
    if buckets is None:
        return None
    mask = np.isin(buckets.t, window.bucket_starts)
    return mask if mask.any() else None


def raw_stats(
    data: SeatData, window: HoursWindow, requirements: list[float], bucket_s: float, tz: ZoneInfo
) -> WindowStats:
    """:class:`WindowStats` of one seat's buckets within ``window``."""
    stats = WindowStats()
    n, mask = data.noise, _in(data.noise, window)
    if n is not None and mask is not None:
        dur = np.nan_to_num(n.column("dur")[mask])
        stats.noise_energy = float(np.nansum(n.column("energy")[mask][dur > 0]))
        stats.noise_seconds = float(dur.sum())
        stats.lafmax = float(np.nanmax(n.column("lafmax")[mask]))
        if data.levels is not None:
            stats.histogram = data.levels.histogram(window.bucket_starts)
    floor, mask = data.below_floor, _in(data.below_floor, window)
    if floor is not None and mask is not None:
        stats.below_floor_seconds = float(np.nansum(floor.column("dur")[mask]))
    light, mask = data.light, _in(data.light, window)
    if light is not None and mask is not None:
        keep = mask & (light.column("count") > 0)
        seconds = light_seconds(light, data.light_period_s, bucket_s)
        means = light.column("lux")
        stats.lux_sum = float(np.sum(means[keep] * light.column("count")[keep]))
        stats.lux_count = float(light.column("count")[keep].sum())
        stats.lux_seconds = float(seconds[keep].sum())
        stats.lux_lowest_bucket = float(means[keep].min()) if keep.any() else None
        stats.lux_lowest_reading = float(np.nanmin(light.column("lux_min")[keep])) if keep.any() else None
        for required in requirements:
            below = keep & (means < required)
            stats.below[required] = (float(seconds[below].sum()), local_hours(light.t[below], tz))
    return stats
