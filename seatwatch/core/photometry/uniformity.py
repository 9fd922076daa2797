"""Illuminance averages and uniformity as GB/T 5700 measures them and GB 50034 judges them.

GB/T 5700 centre-point method: the area is divided into M×N equal cells, the meter reads at each cell's
centre on the 0.75 m reference plane, and the average is Eav = ΣEi / (M·N). GB 50034-2024 clause 4.2.1
judges uniformity as U0 = Emin / Eav (≥ 0.60 where people work long hours; docs/standards.md §2, §6).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _lux_array(values: Sequence[float] | Sequence[Sequence[float]] | np.ndarray, what: str) -> np.ndarray:
    """The readings as a float array, refusing ragged rows, emptiness and impossible values."""
    try:
        lux = np.asarray(values, dtype=float)
    except ValueError:
        raise ValueError(f"{what} must be rectangular: every row needs the same number of readings") from None
    if lux.size == 0:
        raise ValueError(f"{what} is empty")
    if not np.all(np.isfinite(lux)) or np.any(lux < 0):
        raise ValueError(f"{what} must hold finite, non-negative lux values")
    return lux


def uniformity(lux_values: Sequence[float] | np.ndarray) -> float:
    """U0 = Emin / Eav of a zone's readings (GB 50034-2024 clause 4.2.1). Raises ValueError if Eav is 0."""
    lux = _lux_array(lux_values, "lux values")
    mean = float(lux.mean())
    if mean <= 0:
        raise ValueError("uniformity is undefined for an area with zero average illuminance")
    return float(lux.min()) / mean


def grid_average(grid: Sequence[Sequence[float]] | np.ndarray) -> float:
    """Average illuminance Eav = ΣEi / (M·N) of an M×N centre-point grid (GB/T 5700 centre-point method).

    The grid must be rectangular (M rows of N readings): a missing reading is a measurement to repeat,
    not a cell to drop, because the method weights every cell by its equal area.
    """
    lux = _lux_array(grid, "illuminance grid")
    if lux.ndim != 2:
        raise ValueError(f"illuminance grid must be M rows of N readings, got {lux.ndim} dimension(s)")
    return float(lux.sum() / lux.size)
