"""Lux sensor calibration: a gain fitted against a reference illuminance meter at the work plane.

GB/T 5700 has illuminance measured with a grade 1 meter (verified per JJG 245) on the 0.75 m reference
plane; a sensor is calibrated against such a meter. Photodiode lux sensors are linear through zero — a dark
room reads 0 lx — so the default fit is a **gain only**, least squares through the origin
(gain = Σ r·e / Σ r²); an additive offset would turn darkness into a negative reading (docs/standards.md §6).
An offset is fitted only on request, for a sensor known to have one, and needs two distinct raw values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LuxFit:
    """calibrated = gain·raw + offset; residuals = reference − calibrated, in lx, one per point."""

    gain: float
    offset: float
    residuals: tuple[float, ...]
    max_relative_residual: float
    """Largest |residual| / reference over points with a positive reference (0 if there are none)."""

    def apply(self, raw: float) -> float:
        """Calibrated lux of a raw sensor reading."""
        return self.gain * raw + self.offset


def fit_lux_gain(raw: Sequence[float], reference: Sequence[float], with_offset: bool = False) -> LuxFit:
    """Fit a sensor's lux gain (and offset if ``with_offset``) from paired raw/reference readings.

    Raises ValueError for mismatched or empty inputs, negative or non-finite values, and data that cannot
    determine the fit (all raw values zero; fewer than two distinct raw values with an offset; a gain that
    is not positive).
    """
    r = np.asarray(raw, dtype=np.float64).reshape(-1)
    e = np.asarray(reference, dtype=np.float64).reshape(-1)
    if r.size == 0 or r.size != e.size:
        raise ValueError(f"need matching raw and reference readings, got {r.size} raw and {e.size} reference")
    if not (np.all(np.isfinite(r)) and np.all(np.isfinite(e))) or np.any(r < 0) or np.any(e < 0):
        raise ValueError("raw and reference lux must be finite and not negative")
    if with_offset:
        if np.unique(r).size < 2:
            raise ValueError("a gain with an offset needs at least two different raw readings")
        gain, offset = np.linalg.lstsq(np.column_stack([r, np.ones_like(r)]), e, rcond=None)[0]
    else:
        if not np.any(r > 0):
            raise ValueError("all raw readings are zero: the gain is undetermined (measure in light)")
        gain, offset = float(np.dot(r, e) / np.dot(r, r)), 0.0
    if gain <= 0:
        raise ValueError(f"fitted gain {gain:.4g} is not positive: are raw and reference paired correctly?")
    residuals = e - (gain * r + offset)
    lit = e > 0
    worst = float(np.max(np.abs(residuals[lit]) / e[lit])) if np.any(lit) else 0.0
    return LuxFit(float(gain), float(offset), tuple(float(v) for v in residuals), worst)
