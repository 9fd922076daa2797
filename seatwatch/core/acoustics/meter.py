"""A streaming sound level meter: every completed interval's LAeq, LAFmax and LAFmin (and C, Z, S levels).

This is what runs on a bridge for every USB microphone, so it is built for speed: float32 throughout,
A-weighted once (scipy's sosfilt), squared, F time-weighted (see
:mod:`seatwatch.core.acoustics.time_weighting`), and every statistic reduced with one ``ufunc.reduceat``.

Why it measures in spans: scipy's fixed cost per call makes a 100 ms block cost about twice as much per
sample as a 1 s one, and an interval statistic summed in parts depends on where the parts were cut. So
the stream is cut into spans on a grid fixed to the stream — a span ends at every interval end and every
1 s within an interval — and the meter holds samples until their span is complete, then filters up to
1 s of complete spans per call. Each statistic is reduced over one span at a time and the spans of an
interval are merged in order, so the levels are bit-identical however the stream was chunked (the
filters and the time weighting carry their state exactly, too). Held samples are at most one span, and
an interval is still reported by the call that brings its last sample.
Interval energies are summed in float64 so a 1-s sum of 48,000 float32 squares loses nothing.

Levels (IEC 61672-1:2013): LAeq = time-averaged A-weighted level (clause 3.9); LAFmax/LAFmin = highest
and lowest A-weighted F time-weighted level (clauses 3.7, 3.10); LASmax the same with S; LCpeak = C-weighted
peak sound level (clause 3.11), read from the 4× interpolated signal
(:mod:`seatwatch.core.acoustics.true_peak`); LZeq unweighted; LAF = the F time-weighted level at the
interval's last sample, what a meter samples every 100 ms for its percentile levels LAFN. A meter starts from
silence, so the F level needs 5·τ (0.625 s) to settle: LAFmin and LAF ignore that first stretch of the stream
(NaN for an interval inside it).

Every weighting (Z too) starts with a DC blocker (:mod:`seatwatch.core.acoustics.weighting`), settled on the
mean of the stream's first span — a fixed stretch of the stream, so the levels still do not depend on the
chunking — so a microphone's DC offset neither rings at the start nor adds to any level.

Below measurable range: a digital signal cannot carry a level far below its full scale (16-bit PCM
quantises near −101 dB re full-scale RMS, float32 arithmetic leaves residues near −290 dB after a signal
stops). Any level more than ``floor_db`` below full scale — by default ``FLOOR_DB``, 16-bit PCM's, what a
bridge's microphones deliver — is reported as −inf, "below measurable range", never as a number such as
−294 dB; −inf adds no energy to an average and sorts below every level.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from seatwatch.core.acoustics.decibels import leq
from seatwatch.core.acoustics.time_weighting import FAST_S, SLOW_S, TimeWeighting
from seatwatch.core.acoustics.true_peak import TruePeak
from seatwatch.core.acoustics.weighting import WeightingFilter

FLOOR_DB = 100.0
"""Levels more than this far below full scale (an RMS of 1.0) are below measurable range: just above the
quantisation noise of 16-bit PCM (−101.1 dB)."""
_SETTLING_TIME_CONSTANTS = 5.0
_BATCH_S = 1.0
"""Audio filtered per call: long enough that scipy's fixed cost per call is small (a 100 ms call costs
about twice as much per sample), short enough to stay in the core's cache and bound what the meter holds."""


@dataclass(frozen=True)
class IntervalLevels:
    """The levels of one completed interval, in dB re 20 µPa. ``start_s`` counts from the stream's start.

    Fields after ``lafmin`` are None when the meter was built with ``extended=False``. A level below
    measurable range is −inf; NaN means not yet settled (``lafmin``, ``laf``).
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
    laf: float | None = None


def _latest(_earlier: float, later: float) -> float:
    """Merge of a value sampled at the end of a part: the later part's value wins."""
    return later


# Per-interval statistics, in the order the reduction table holds them: how two partial values merge,
# the value of an empty part, and what a sum is divided by (n: the interval's samples) to give a mean
# square. The first three are always computed, the rest only when extended.
_MERGE = (np.add, np.maximum, np.minimum, np.maximum, np.add, np.maximum, np.add, _latest)
_EMPTY = (0.0, -np.inf, np.inf, -np.inf, 0.0, 0.0, 0.0, np.nan)
_PER_SAMPLE = (True, False, False, False, True, False, True, False)


class SoundLevelMeter:
    """Stateful meter for a stream sampled at ``fs``; ``sensitivity_db`` is the level of a signal whose
    RMS is 1.0 in full-scale units (so a sample value x corresponds to x·10^(S/20)·20 µPa).

    ``extended=False`` computes only LAeq, LAFmax and LAFmin (what a reading carries, docs/design.md), about
    half the work of the full set. ``floor_db``: levels more than this far below full scale are −inf.
    """

    def __init__(
        self,
        fs: float,
        sensitivity_db: float,
        interval_s: float = 1.0,
        extended: bool = True,
        floor_db: float = FLOOR_DB,
    ):
        self.fs = float(fs)
        self.interval_samples = round(interval_s * fs)
        if self.interval_samples < 1:
            raise ValueError(f"interval of {interval_s} s is shorter than one sample at {fs:g} Hz")
        self.interval_s = self.interval_samples / self.fs
        self.extended = extended
        self._reference = 10.0 ** (-sensitivity_db / 10.0)
        self._floor_mean_square = 10.0 ** (-floor_db / 10.0)
        self._a = WeightingFilter("A", fs)
        self._fast = TimeWeighting(FAST_S, fs)
        self._filters = [self._a]
        if extended:
            self._c = WeightingFilter("C", fs)
            self._z = WeightingFilter("Z", fs)
            self._filters += [self._c, self._z]
            self._slow = TimeWeighting(SLOW_S, fs)
            self._peak = TruePeak(fs)
        self._settling = round(_SETTLING_TIME_CONSTANTS * FAST_S * fs)
        self._stats = len(_MERGE) if extended else 3
        self._batch = max(round(_BATCH_S * fs), 1)
        self._span = min(self.interval_samples, self._batch)
        self._waiting = np.empty(self._span, np.float32)  # samples of the incomplete span
        self._waiting_n = 0
        self._carried = np.array(_EMPTY[: self._stats])
        self._filled = 0  # samples of the current interval already reduced into _carried
        self._measured = 0  # samples filtered since the start of the stream
        self._intervals = 0  # completed intervals so far

    def process(self, samples: np.ndarray) -> list[IntervalLevels]:
        """Feed the next block (1-D, full-scale units, any length); return the intervals it completed.

        Samples that do not complete a span wait for the next call, so a stream fed in short blocks is
        measured in the same spans, with the same arithmetic, as the stream fed whole.
        """
        x = np.asarray(samples, dtype=np.float32)
        if x.ndim != 1:
            raise ValueError(f"samples must be one channel (1-D), got shape {x.shape}")
        completed: list[IntervalLevels] = []
        used = 0
        if self._waiting_n:
            span = self._next_span(self._filled)
            used = min(span - self._waiting_n, x.size)
            self._waiting[self._waiting_n : self._waiting_n + used] = x[:used]
            self._waiting_n += used
            if self._waiting_n < span:
                return completed
            completed += self._measure(self._waiting[:span], [span])
            self._waiting_n = 0
        while spans := self._spans_in(x.size - used):
            end = used + sum(spans)
            completed += self._measure(x[used:end], spans)
            used = end
        self._waiting_n = x.size - used
        self._waiting[: self._waiting_n] = x[used:]
        return completed

    def _next_span(self, filled: int) -> int:
        """Length of the span that starts ``filled`` samples into an interval: spans end at every interval
        end and every ``_span`` samples within an interval, a grid fixed to the stream."""
        return min(self._span, self.interval_samples - filled)

    def _spans_in(self, available: int) -> list[int]:
        """Lengths of the complete spans that start the next ``available`` samples, one batch at most."""
        spans: list[int] = []
        total, filled = 0, self._filled
        while total + (span := self._next_span(filled)) <= available and (
            not spans or total + span <= self._batch
        ):
            spans.append(span)
            total += span
            filled = (filled + span) % self.interval_samples
        return spans

    def _measure(self, x: np.ndarray, spans: list[int]) -> list[IntervalLevels]:
        """Filter consecutive complete spans, reduce every statistic over each, merge them into the
        current interval in stream order, and return the intervals they complete."""
        table = self._reduce(x, np.array(list(accumulate(spans[:-1], initial=0))))
        completed = []
        for column, span in zip(table.T, spans, strict=True):
            merged = zip(_MERGE[: self._stats], self._carried, column, strict=True)
            self._carried = np.array([merge(carried, value) for merge, carried, value in merged])
            self._filled += span
            if self._filled == self.interval_samples:
                completed.append(self._levels(self._carried, self.interval_samples))
                self._carried = np.array(_EMPTY[: self._stats])
                self._filled = 0
        return completed

    def _reduce(self, x: np.ndarray, starts: np.ndarray) -> np.ndarray:
        """Filter the spans and reduce every statistic over the segments that begin at ``starts``.

        Sums are taken in float64 on each span alone (a float64 copy, so no casting buffer crosses a span
        boundary): they depend only on the span, never on what else was filtered in the same call.
        """
        if self._measured == 0:  # settle the DC blockers on the first span, the same however chunked
            offset = float(np.mean(x[: starts[1]] if starts.size > 1 else x, dtype=np.float64))
            for weighting in self._filters:
                weighting.settle(offset)
        a2 = self._a.process(x)
        np.square(a2, out=a2)
        unsettled = max(self._settling - self._measured, 0)
        self._measured += x.size
        fast_max, fast_min, fast_last = self._fast.extremes(a2, starts, min_from=unsettled)
        rows = [np.add.reduceat(a2.astype(np.float64), starts), fast_max, fast_min]
        if self.extended:
            c = self._c.process(x)
            rows += [
                self._slow.extremes(a2, starts)[0],
                np.add.reduceat(np.square(c, dtype=np.float64), starts),
                np.maximum.reduceat(self._peak.process(c), starts),
                np.add.reduceat(np.square(self._z.process(x), dtype=np.float64), starts),
                fast_last,
            ]
        return np.array(rows, dtype=np.float64)

    def flush(self) -> IntervalLevels | None:
        """End the stream: the levels of the incomplete last interval (its real, shorter duration), if any.

        For a finite recording, so that its last fraction of an interval is not lost from the Leq.
        """
        if self._waiting_n:
            self._measure(self._waiting[: self._waiting_n], [self._waiting_n])
            self._waiting_n = 0
        if self._filled == 0:
            return None
        partial = self._levels(self._carried, self._filled)
        self._carried = np.array(_EMPTY[: self._stats])
        self._filled = 0
        return partial

    def _levels(self, stats: np.ndarray, n: int) -> IntervalLevels:
        """Turn the statistics of an interval of ``n`` samples into levels and advance the interval count."""
        means = stats / np.where(_PER_SAMPLE[: self._stats], n, 1)
        if self.extended:
            means[5] = stats[5] ** 2  # peak: the largest |interpolated sample|, squared
            means[7] = means[7] if np.isfinite(means[7]) else np.nan  # LAF still settling
        means[2] = means[2] if np.isfinite(means[2]) else np.nan  # LAFmin still settling
        db = leq(means, self._reference)
        db[means < self._floor_mean_square] = -np.inf  # below measurable range (NaN compares False: kept)
        start = self._intervals * self.interval_s
        self._intervals += 1
        return IntervalLevels(start, n / self.fs, *db.tolist())
