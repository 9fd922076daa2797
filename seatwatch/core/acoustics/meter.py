"""A streaming sound level meter: every completed interval's LAeq, LAFmax and LAFmin (and C, Z, S levels).

This is what runs on a bridge for every USB microphone, so it is built for speed. The A path — DC
blocker and A weighting (float32 biquads, the same arithmetic as scipy's ``sosfilt``), square, F and S
time weighting (:mod:`seatwatch.core.acoustics.time_weighting`, float64) and each span's energy sum and
extremes — is one compiled loop (:func:`_a_weighted_spans`) that keeps every filter state in registers,
so a sample is read once and nothing in between is written to memory. The extended levels (C, Z, LCpeak)
use scipy's ``sosfilt`` and ``ufunc.reduceat``.

Why it measures in spans: a fixed cost per call makes a 100 ms block cost more per sample than a 1 s
one, and an interval statistic summed in parts depends on where the parts were cut. So
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

from seatwatch.core.acoustics.compiled import compiled, inline
from seatwatch.core.acoustics.decibels import leq
from seatwatch.core.acoustics.time_weighting import FAST_S, SLOW_S, TimeWeighting, step
from seatwatch.core.acoustics.true_peak import TruePeak
from seatwatch.core.acoustics.weighting import WeightingFilter

FLOOR_DB = 100.0
"""Levels more than this far below full scale (an RMS of 1.0) are below measurable range: just above the
quantisation noise of 16-bit PCM (−101.1 dB)."""
_SETTLING_TIME_CONSTANTS = 5.0
_BATCH_S = 1.0
"""Audio filtered per call: long enough that the fixed cost per call is small (scipy's makes a 100 ms call
cost about twice as much per sample), short enough to stay in the core's cache and bound what is held."""
MAX_A_SECTIONS = 5
"""Biquads of the A path the compiled loop holds in registers: the DC blocker and A's three sections, or
four at 88.2 and 96 kHz (:mod:`seatwatch.core.acoustics.weighting`)."""


@inline
def _section(
    x: float, b0: float, b1: float, b2: float, a1: float, a2: float, z0: float, z1: float
) -> tuple[float, float, float]:
    """One biquad, transposed direct form II, in the operation order of scipy's float32 ``sosfilt``, so
    the A-weighted samples are bit for bit what :class:`WeightingFilter` gives (the tests check it)."""
    y = b0 * x + z0
    return y, b1 * x - a1 * y + z1, b2 * x - a2 * y


@compiled
def _a_weighted_spans(
    x: np.ndarray,
    sos: np.ndarray,
    state: np.ndarray,
    starts: np.ndarray,
    fast: np.ndarray,
    slow: np.ndarray,
    min_from: int,
    out: np.ndarray,
) -> None:
    """The meter's A path over ``x`` (float32) cut into spans at ``starts``.

    ``sos``/``state``: the DC blocker and A sections (float32, 4 or 5 rows) and their state, advanced in
    place. ``fast``/``slow``: [a, b, value] of the F and S time weightings, value advanced in place.
    For span j, ``out`` gets: [0] Σ A² in float64, [1] F max, [2] F min and [3] F at the span's last
    sample, both counting only samples from ``min_from`` on (inf if none), [4] S max.
    """
    five = sos.shape[0] == MAX_A_SECTIONS
    b00, b01, b02, a01, a02 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b10, b11, b12, a11, a12 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    b20, b21, b22, a21, a22 = sos[2, 0], sos[2, 1], sos[2, 2], sos[2, 4], sos[2, 5]
    b30, b31, b32, a31, a32 = sos[3, 0], sos[3, 1], sos[3, 2], sos[3, 4], sos[3, 5]
    last = sos.shape[0] - 1
    b40, b41, b42, a41, a42 = sos[last, 0], sos[last, 1], sos[last, 2], sos[last, 4], sos[last, 5]
    z00, z01, z10, z11 = state[0, 0], state[0, 1], state[1, 0], state[1, 1]
    z20, z21, z30, z31 = state[2, 0], state[2, 1], state[3, 0], state[3, 1]
    z40, z41 = state[last, 0], state[last, 1]
    fa, fb, f = fast[0], fast[1], fast[2]
    sa, sb, s = slow[0], slow[1], slow[2]
    for j in range(starts.size):
        end = starts[j + 1] if j + 1 < starts.size else x.size
        total, f_max, f_min, f_last, s_max = 0.0, -np.inf, np.inf, np.inf, -np.inf
        for n in range(starts[j], end):
            v, z00, z01 = _section(x[n], b00, b01, b02, a01, a02, z00, z01)
            v, z10, z11 = _section(v, b10, b11, b12, a11, a12, z10, z11)
            v, z20, z21 = _section(v, b20, b21, b22, a21, a22, z20, z21)
            v, z30, z31 = _section(v, b30, b31, b32, a31, a32, z30, z31)
            if five:
                v, z40, z41 = _section(v, b40, b41, b42, a41, a42, z40, z41)
            energy = np.float64(v * v)  # squared in float32, as numpy squares the filtered samples
            total += energy
            f = step(f, fa, fb, energy)
            s = step(s, sa, sb, energy)
            f_max = max(f_max, f)
            s_max = max(s_max, s)
            if n >= min_from:
                f_min = min(f_min, f)
                f_last = f
        out[0, j], out[1, j], out[2, j], out[3, j], out[4, j] = total, f_max, f_min, f_last, s_max
    state[0, 0], state[0, 1], state[1, 0], state[1, 1] = z00, z01, z10, z11
    state[2, 0], state[2, 1], state[3, 0], state[3, 1] = z20, z21, z30, z31
    if five:
        state[last, 0], state[last, 1] = z40, z41
    fast[2], slow[2] = f, s


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
        if not 4 <= self._a.sos.shape[0] <= MAX_A_SECTIONS:
            raise ValueError(f"the A path at {fs:g} Hz has {self._a.sos.shape[0]} sections, not 4 or 5")
        fast, slow = TimeWeighting(FAST_S, fs), TimeWeighting(SLOW_S, fs)
        self._fast = np.array([fast.a, fast.b, fast.value])  # advanced by the compiled A path
        self._slow = np.array([slow.a, slow.b, slow.value])
        self._filters = [self._a]
        if extended:
            self._c = WeightingFilter("C", fs)
            self._z = WeightingFilter("Z", fs)
            self._filters += [self._c, self._z]
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

        Sums are taken in float64 on each span alone (the compiled loop restarts them per span; the
        extended sums square a float64 copy, so no casting buffer crosses a span boundary): they depend
        only on the span, never on what else was filtered in the same call.
        """
        if self._measured == 0:  # settle the DC blockers on the first span, the same however chunked
            offset = float(np.mean(x[: starts[1]] if starts.size > 1 else x, dtype=np.float64))
            for weighting in self._filters:
                weighting.settle(offset)
        unsettled = max(self._settling - self._measured, 0)
        self._measured += x.size
        a_path = np.empty((5, starts.size))
        _a_weighted_spans(x, self._a.sos, self._a.state, starts, self._fast, self._slow, unsettled, a_path)
        rows = [a_path[0], a_path[1], a_path[2]]
        if self.extended:
            c = self._c.process(x)
            rows += [
                a_path[4],
                np.add.reduceat(np.square(c, dtype=np.float64), starts),
                np.maximum.reduceat(self._peak.process(c), starts),
                np.add.reduceat(np.square(self._z.process(x), dtype=np.float64), starts),
                a_path[3],
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
