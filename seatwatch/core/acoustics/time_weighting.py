"""Exponential time weighting F and S of IEC 61672-1:2013 (clause 5.7), kept stateful for streaming.

A time-weighted level is the running exponential average of the squared frequency-weighted signal,
y[n] = a·y[n−1] + (1−a)·x²[n] with a = exp(−1/(τ·fs)), the exact sampled form of the analogue
first-order integrator in equation (2). It is computed exactly so, one float64 step per sample, in a
compiled loop (:mod:`seatwatch.core.acoustics.compiled`): no approximation to check, and the state is one
float64 number, so a stream fed in any chunks gives bit-identical values.

The meter does not call :meth:`TimeWeighting.process`: it runs the same :func:`step` inside its fused A
path (:mod:`seatwatch.core.acoustics.meter`), which needs only each interval's largest, smallest and last
value. ``process`` gives every sample, for tests and for anyone who wants the F or S level as a signal.
"""

from __future__ import annotations

import numpy as np

from seatwatch.core.acoustics.compiled import compiled, inline

FAST_S = 0.125
SLOW_S = 1.0
"""Time constants of time weightings F and S, IEC 61672-1:2013 clause 5.7.1."""


@inline
def step(value: float, a: float, b: float, x_squared: float) -> float:
    """One sample of the time weighting: y[n] = a·y[n−1] + b·x²[n], b = 1 − a, in float64."""
    return a * value + b * x_squared


@compiled
def _weigh(x_squared: np.ndarray, a: float, b: float, value: float) -> tuple[np.ndarray, float]:
    y = np.empty(x_squared.size)
    for n in range(x_squared.size):
        value = step(value, a, b, x_squared[n])
        y[n] = value
    return y, value


class TimeWeighting:
    """Exponential averaging with time constant ``tau_s`` of a squared signal sampled at ``fs``.

    ``initial_mean_square`` is y[−1], the value the average held before the first sample: 0 (the default)
    is a meter switched on in silence, so the first 5·τ rise towards the true level (−0.03 dB after 5·τ).
    ``a`` and ``b`` are the recursion's coefficients, ``value`` the current mean square (float64): the
    meter's compiled loop reads and advances them.
    """

    def __init__(self, tau_s: float, fs: float, initial_mean_square: float = 0.0) -> None:
        if not (tau_s > 0 and fs > 0):
            raise ValueError(f"time constant ({tau_s}) and sample rate ({fs}) must be positive")
        self.tau_s = float(tau_s)
        self.fs = float(fs)
        self.a = float(np.exp(-1.0 / (self.tau_s * self.fs)))
        self.b = 1.0 - self.a
        self.value = float(initial_mean_square)

    def process(self, x_squared: np.ndarray) -> np.ndarray:
        """Time-weight the next block of squared samples; returns the mean square at each sample (float64)."""
        x2 = np.ascontiguousarray(x_squared, dtype=np.float64).reshape(-1)
        y, self.value = _weigh(x2, self.a, self.b, self.value)
        return y
