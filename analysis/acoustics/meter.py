"""A streaming sound level meter: every completed interval's LAeq, LAFmax and LAFmin (and C, Z, S levels).

This is what runs on a bridge for every USB microphone, so it is built for speed: float32 throughout,
each block A-weighted once (scipy's sosfilt), squared, F time-weighted (a blocked matrix form, see
:mod:`analysis.acoustics.time_weighting`), and every interval statistic reduced with one
``ufunc.reduceat`` over the block's interval boundaries — whole intervals, the tail of the previous block
and the start of the next all go down the same path.
Interval energies are summed in float64 so a 1-s sum of 48,000 float32 squares loses nothing.

Levels (IEC 61672-1:2013): LAeq = time-averaged A-weighted level (clause 3.9); LAFmax/LAFmin = highest
and lowest A-weighted F time-weighted level (clauses 3.7, 3.10); LASmax the same with S; LCpeak = C-weighted
peak sound level (clause 3.11); LZeq unweighted. A meter starts from silence, so the F level needs 5·τ
(0.625 s) to settle: LAFmin ignores that first stretch of the stream (NaN for an interval inside it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.acoustics.levels import leq
from analysis.acoustics.time_weighting import FAST_S, SLOW_S, TimeWeighting
from analysis.acoustics.weighting import WeightingFilter

_SETTLING_TIME_CONSTANTS = 5.0


@dataclass(frozen=True)
class IntervalLevels:
    """The levels of one completed interval, in dB re 20 µPa. ``start_s`` counts from the stream's start.

    Fields after ``lafmin`` are None when the meter was built with ``extended=False``.
    """

    start_s: float
    duration_s: float
    laeq: float
    lafmax: float
    lafmin: float
    lasmax: float | None = None
    lceq: float | None = None
    lcpeak: float | None = None
    lzeq: float | None = None


# Per-interval statistics, in the order the reduction table holds them: how two partial values merge,
# and the value of an empty part. The first three are always computed, the rest only when extended.
_MERGE = (np.add, np.maximum, np.minimum, np.maximum, np.add, np.maximum, np.add)
_EMPTY = (0.0, -np.inf, np.inf, -np.inf, 0.0, 0.0, 0.0)


class SoundLevelMeter:
    """Stateful meter for a stream sampled at ``fs``; ``sensitivity_db`` is the level of a signal whose
    RMS is 1.0 in full-scale units (so a sample value x corresponds to x·10^(S/20)·20 µPa).

    ``extended=False`` computes only LAeq, LAFmax and LAFmin (what a reading carries, DESIGN.md), about
    half the work of the full set.
    """

    def __init__(self, fs: float, sensitivity_db: float, interval_s: float = 1.0, extended: bool = True):
        self.fs = float(fs)
        self.interval_samples = round(interval_s * fs)
        if self.interval_samples < 1:
            raise ValueError(f"interval of {interval_s} s is shorter than one sample at {fs:g} Hz")
        self.interval_s = self.interval_samples / self.fs
        self.extended = extended
        self._reference = 10.0 ** (-sensitivity_db / 10.0)
        self._a = WeightingFilter("A", fs)
        self._fast = TimeWeighting(FAST_S, fs)
        if extended:
            self._c = WeightingFilter("C", fs)
            self._slow = TimeWeighting(SLOW_S, fs)
        self._settling = round(_SETTLING_TIME_CONSTANTS * FAST_S * fs)
        self._stats = len(_MERGE) if extended else 3
        self._carried = np.array(_EMPTY[: self._stats])
        self._filled = 0  # samples of the current interval already reduced into _carried
        self._intervals = 0  # completed intervals so far

    def process(self, samples: np.ndarray) -> list[IntervalLevels]:
        """Feed the next block (1-D, full-scale units, any length); return the intervals it completed."""
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"samples must be one channel (1-D), got shape {x.shape}")
        if x.size == 0:
            return []
        first_end = self.interval_samples - self._filled
        ends = np.arange(first_end, x.size + 1, self.interval_samples)
        starts = np.r_[0, ends[ends < x.size]]
        table = self._reduce(x, starts)
        for row, merge in enumerate(_MERGE[: self._stats]):
            table[row, 0] = merge(self._carried[row], table[row, 0])
        completed = [self._levels(table[:, i], self.interval_samples) for i in range(ends.size)]
        if ends.size < starts.size:
            self._carried = table[:, -1].copy()
            self._filled = x.size - int(starts[-1]) if ends.size else self._filled + x.size
        else:
            self._carried = np.array(_EMPTY[: self._stats])
            self._filled = 0
        return completed

    def _reduce(self, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Filter the block and reduce every statistic over the segments that begin at ``starts``."""
        a2 = self._a.process(x)
        np.square(a2, out=a2)
        fast = self._fast.process(a2)
        fast_for_min = fast
        stream_offset = self._intervals * self.interval_samples + self._filled
        if stream_offset < self._settling:
            fast_for_min = fast.copy()
            fast_for_min[: self._settling - stream_offset] = np.inf
        rows = [
            np.add.reduceat(a2, starts, dtype=np.float64),
            np.maximum.reduceat(fast, starts),
            np.minimum.reduceat(fast_for_min, starts),
        ]
        if self.extended:
            c = self._c.process(x)
            np.abs(c, out=c)
            rows += [
                np.maximum.reduceat(self._slow.process(a2), starts),
                np.add.reduceat(np.square(c), starts, dtype=np.float64),
                np.maximum.reduceat(c, starts),
                np.add.reduceat(np.square(x), starts, dtype=np.float64),
            ]
        return np.array(rows, dtype=np.float64)

    def flush(self) -> IntervalLevels | None:
        """End the stream: the levels of the incomplete last interval (its real, shorter duration), if any.

        For a finite recording, so that its last fraction of an interval is not lost from the Leq.
        """
        if self._filled == 0:
            return None
        partial = self._levels(self._carried, self._filled)
        self._carried = np.array(_EMPTY[: self._stats])
        self._filled = 0
        return partial

    def _levels(self, stats: np.ndarray, n: int) -> IntervalLevels:
        """Turn the statistics of an interval of ``n`` samples into levels and advance the interval count."""
        db = leq(stats / np.array([n, 1, 1, 1, n, 1, n])[: self._stats], self._reference)
        db[2] = db[2] if np.isfinite(stats[2]) else np.nan  # LAFmin still settling
        if self.extended:
            db[5] = leq(stats[5] ** 2, self._reference)  # peak: the largest |sample|, squared
        start = self._intervals * self.interval_s
        self._intervals += 1
        return IntervalLevels(start, n / self.fs, *(float(v) for v in db))
