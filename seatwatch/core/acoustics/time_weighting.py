"""Exponential time weighting F and S of IEC 61672-1:2013 (clause 5.7), kept stateful for streaming.

A time-weighted level is the running exponential average of the squared frequency-weighted signal,
y[n] = a·y[n−1] + (1−a)·x²[n] with a = exp(−1/(τ·fs)), the exact sampled form of the analogue
first-order integrator in equation (2).

Why not a plain recursive filter: that loop is bound by the latency of one multiply-add per sample
(about 5 ns, as slow as the whole A filter), and LAFmax/LAFmin need every sample. So the stream is cut
into blocks of 32 samples on a grid fixed to the stream's first sample. Within a block,
y[k] = a^k·(s[k] + a·y₋₁) with s[k] = Σ_{j≤k} (1−a)·a^(−j)·x²[j], a running sum (a^(−j) ≤ 1.016, so
nothing is lost to its range, and all terms are positive, so nothing cancels); y₋₁, the value before the
block, follows a first-order recursion with one step per block, kept in float64, driven by each block's
s[31] (one float32 dot product per block). Same equation, within 3·10⁻⁷ of the float64 sample-by-sample
recursion. :meth:`TimeWeighting.process` gives every sample, all blocks of a call advancing together
(one numpy operation per position k); a meter needs only each interval's largest, smallest and last
value, and :meth:`TimeWeighting.extremes` gives those exactly from a few blocks, at half the cost on
noise (``benchmarks/bench_acoustics.py`` times the meter).

Why it is bit-identical whatever the chunking: every output is computed by elementwise operations
whose operands depend only on its position on the grid — never on how many samples a call holds (a
BLAS matrix product, a previous form, may change its summation order with the matrix shape; the block
sums use numpy's own ``einsum`` loop, whose result for a row depends on that row alone, which the tests
check). The
inputs of an incomplete block are held and its running sum is redone when the block is completed, and
the block-to-block recursion carries its exact float64 state between calls.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

FAST_S = 0.125
SLOW_S = 1.0
"""Time constants of time weightings F and S, IEC 61672-1:2013 clause 5.7.1."""

_BLOCK = 32
"""Samples per block: fewer blocks cost more steps of the block recursion, more cost more numpy calls."""
_SLACK = 1e-5
"""Relative margin on the bounds of a block, far above float32 rounding (3·10⁻⁷), so none is missed."""
_FULL_FRACTION = 4
"""With more than 1/4 of the blocks to evaluate, evaluating all in the position-major layout is faster."""


class TimeWeighting:
    """Exponential averaging with time constant ``tau_s`` of a squared signal sampled at ``fs``.

    ``initial_mean_square`` is y[−1], the value the average held before the first sample: 0 (the default)
    is a meter switched on in silence, so the first 5·τ rise towards the true level (−0.03 dB after 5·τ).
    """

    def __init__(self, tau_s: float, fs: float, initial_mean_square: float = 0.0) -> None:
        if tau_s <= 0 or fs <= 0:
            raise ValueError(f"time constant ({tau_s}) and sample rate ({fs}) must be positive")
        self.tau_s = float(tau_s)
        self.fs = float(fs)
        a = np.exp(-1.0 / (self.tau_s * self.fs))
        k = np.arange(_BLOCK)
        self._a = a
        self._scale = ((1.0 - a) * a ** (-k)).astype(np.float32)
        self._decay = (a**k).astype(np.float32)[:, np.newaxis]
        self._end_decay = a ** (_BLOCK - 1)
        self._high_slack = self._end_decay * (1.0 - _SLACK) / (1.0 + _SLACK)
        self._low_slack = (1.0 + _SLACK) / ((1.0 - _SLACK) * a**_BLOCK)
        self._recursion = (np.array([1.0]), np.array([1.0, -(a**_BLOCK)]))
        self._before = float(initial_mean_square)  # y just before the current block
        self._zi = np.array([a**_BLOCK * self._before])  # the block recursion's exact float64 state
        self._held = np.empty(0, np.float32)  # inputs of the current, incomplete block

    def process(self, x_squared: np.ndarray) -> np.ndarray:
        """Time-weight the next block of squared samples; returns the mean-square value at every sample."""
        x2 = np.asarray(x_squared, dtype=np.float32).reshape(-1)
        if x2.size == 0:
            return x2.copy()
        held = self._held.size
        grid, before, _ = self._advance(x2)
        return self._all_values(grid, before).reshape(-1)[held : held + x2.size]

    def extremes(
        self, x_squared: np.ndarray, starts: np.ndarray, min_from: int = 0
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Time-weight the next block of squared samples and return, for each segment of it that begins
        at ``starts`` (increasing, the first 0), the largest value, the smallest and the last one.
        Samples before ``min_from`` count for the largest only (an unsettled meter): the smallest and the
        last read inf where a segment has none after it.

        The same values as :meth:`process` reduced per segment, bit for bit, without computing every
        sample: within a block y[k] lies between a^32·y₋₁ and y[31]/a^31, and each block's last value
        y[31] is known from the block recursion, so only the blocks whose bounds reach past their
        segment's largest or smallest block end are evaluated — a few dozen per second of F-weighted
        noise or speech, whose level moves by more than a block's 0.5 %. Where more than a quarter of
        the blocks qualify (a steady tone), all are evaluated as :meth:`process` does.
        """
        x2 = np.asarray(x_squared, dtype=np.float32).reshape(-1)
        first = np.asarray(starts)
        held = self._held.size
        grid, before, ends = self._advance(x2)
        if held or min_from or x2.size % _BLOCK or (first % _BLOCK).any():
            # Segments that cut blocks, or an unsettled stretch: rare (the stream's first 0.625 s, or
            # intervals that are no multiple of 32 samples), so evaluated whole.
            y = self._all_values(grid, before).reshape(-1)[held : held + x2.size]
            settled = y
            if min_from:
                settled = y.copy()
                settled[:min_from] = np.inf
            last = np.concatenate((first[1:], [x2.size])) - 1
            return np.maximum.reduceat(y, first), np.minimum.reduceat(settled, first), settled[last]
        segments = first // _BLOCK
        next_segments = np.concatenate((segments[1:], [grid.shape[0]]))
        # Within a block a^32·y₋₁ ≤ y[k] ≤ s[31] + a·y₋₁ = y[31]/a^31, so a block can hold its segment's
        # largest value only if its end y[31] comes within a^31 of the largest block end, its smallest
        # only if a^32·y₋₁ reaches below the smallest; the slack covers float32 rounding on both sides.
        highest = np.maximum.reduceat(ends, segments) * self._high_slack
        lowest = np.minimum.reduceat(ends, segments) * self._low_slack
        if segments.size > 1:
            highest = np.repeat(highest, next_segments - segments)
            lowest = np.repeat(lowest, next_segments - segments)
        needed = ends >= highest
        needed |= before <= lowest
        needed[next_segments - 1] = True  # the block of each segment's last value
        rows = np.flatnonzero(needed)
        if rows.size > grid.shape[0] // _FULL_FRACTION:
            rows = np.arange(grid.shape[0])
            y = self._all_values(grid, before)
        else:
            y = self._some_values(grid, before, rows)
        cuts = np.searchsorted(rows, segments) * _BLOCK
        y = y.reshape(-1)
        last = np.concatenate((cuts[1:], [y.size])) - 1
        return np.maximum.reduceat(y, cuts), np.minimum.reduceat(y, cuts), y[last]

    def _advance(self, x2: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Lay the held and new samples on the block grid and run the block recursion over the complete
        blocks. Returns the grid (blocks × 32, zero-padded), y₋₁ before each block, and y at the last
        position of each complete block (both float64, the latter within float32 rounding of the value
        there). The incomplete block is held for the next call."""
        held = self._held.size
        total = held + x2.size
        blocks = -(-total // _BLOCK)
        if held == 0 and total == blocks * _BLOCK:
            grid = x2.reshape(blocks, _BLOCK)
        else:
            flat = np.zeros(blocks * _BLOCK, np.float32)  # zeros after the end change no output before it
            flat[:held] = self._held
            flat[held:total] = x2
            grid = flat.reshape(blocks, _BLOCK)
        # One float32 dot product per row: its result depends only on the row (checked in the tests).
        block_sums = np.einsum("ij,j->i", grid, self._scale).astype(np.float64)
        complete = total // _BLOCK
        before = np.empty(blocks)
        before[0] = self._before
        ends = before[:0]
        if complete:
            ends, self._zi = signal.lfilter(
                *self._recursion, self._end_decay * block_sums[:complete], zi=self._zi
            )
            before[1:] = ends[: blocks - 1]
            self._before = float(ends[-1])
        self._held = grid.reshape(-1)[complete * _BLOCK : total].copy()
        return grid, before, ends

    def _all_values(self, grid: np.ndarray, before: np.ndarray) -> np.ndarray:
        """y at every position of every block (blocks × 32)."""
        blocks = grid.shape[0]
        # Position-major layout: row k holds sample k of every block, so one call advances all blocks.
        sums = np.empty((_BLOCK, blocks), np.float32)
        np.multiply(grid, self._scale, out=sums.T)
        for k in range(1, _BLOCK):
            np.add(sums[k - 1], sums[k], out=sums[k])
        sums += (self._a * before).astype(np.float32)
        y = np.empty((blocks, _BLOCK), np.float32)
        np.multiply(sums, self._decay, out=y.T)
        return y

    def _some_values(self, grid: np.ndarray, before: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """y at every position of the blocks ``rows``: the same float32 operations as
        :meth:`_all_values` (a running sum is a running sum however it is laid out)."""
        sums: np.ndarray = grid[rows] * self._scale
        np.cumsum(sums, axis=1, out=sums)
        sums += (self._a * before[rows]).astype(np.float32)[:, np.newaxis]
        sums *= self._decay.T
        return sums
