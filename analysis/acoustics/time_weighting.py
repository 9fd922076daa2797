"""Exponential time weighting F and S of IEC 61672-1:2013 (clause 5.7), kept stateful for streaming.

A time-weighted level is the running exponential average of the squared frequency-weighted signal,
y[n] = a·y[n−1] + (1−a)·x²[n] with a = exp(−1/(τ·fs)), the exact sampled form of the analogue
first-order integrator in equation (2).

Why not a plain recursive filter: that loop is bound by the latency of one multiply-add per sample
(about 5 ns, as slow as the whole A filter), and LAFmax/LAFmin need every sample. So the stream is cut
into blocks of 16 samples on a grid fixed to the stream's first sample, and all blocks of a call advance
together, one numpy operation per position k in the block. Within a block, y[k] = a^k·(s[k] + a·y₋₁) with
s[k] = Σ_{j≤k} (1−a)·a^(−j)·x²[j], a running sum (a^(−j) ≤ 1.008, so nothing is lost to its range, and all
terms are positive, so nothing cancels); y₋₁, the value before the block, follows a first-order
recursion with one step per block, kept in float64. Same equation, within 3·10⁻⁷ of the float64
sample-by-sample recursion, 1.9 times as fast as it.

Why it is bit-identical whatever the chunking: every output is computed by elementwise operations
whose operands depend only on its position on the grid — never on how many samples a call holds (a
BLAS matrix product, the previous form, may change its summation order with the matrix shape). The
inputs of an incomplete block are held and its running sum is redone when the block is completed, and
the block-to-block recursion carries its exact float64 state between calls.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

FAST_S = 0.125
SLOW_S = 1.0
"""Time constants of time weightings F and S, IEC 61672-1:2013 clause 5.7.1."""

_BLOCK = 16
"""Samples per block: fewer blocks cost more steps of the block recursion, more cost more numpy calls."""


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
        total = held + x2.size
        blocks = -(-total // _BLOCK)
        if held == 0 and total == blocks * _BLOCK:
            grid = x2
        else:
            grid = np.zeros(blocks * _BLOCK, np.float32)  # zeros after the end change no output before it
            grid[:held] = self._held
            grid[held:total] = x2
        # Position-major layout: row k holds sample k of every block, so one call advances all blocks.
        sums = np.empty((_BLOCK, blocks), np.float32)
        np.multiply(grid.reshape(blocks, _BLOCK), self._scale, out=sums.T)
        for k in range(1, _BLOCK):
            np.add(sums[k - 1], sums[k], out=sums[k])
        complete = total // _BLOCK
        before = np.empty(blocks)
        before[0] = self._before
        if complete:
            block_ends = self._end_decay * sums[-1, :complete].astype(np.float64)
            ends, self._zi = signal.lfilter(*self._recursion, block_ends, zi=self._zi)
            before[1:] = ends[: blocks - 1]
            self._before = float(ends[-1])
        sums += (self._a * before).astype(np.float32)
        y = np.empty((blocks, _BLOCK), np.float32)
        np.multiply(sums, self._decay, out=y.T)
        self._held = grid[complete * _BLOCK : total].copy()
        return y.reshape(-1)[held:total]
