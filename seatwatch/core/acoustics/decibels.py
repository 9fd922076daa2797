"""Levels from mean squares, and the energy averaging every part of seatwatch uses for level series.

Decibels are averaged as energy, never arithmetically (docs/standards.md §5, docs/design.md principle 1):
LAeq,T = 10·lg((1/T)·Σ tᵢ·10^(Lᵢ/10)) (IEC 61672-1:2013 equation 3 applied to consecutive intervals). An
arithmetic mean of 60 dB for 1 s and 40 dB for 9 s gives 42 dB; the energy mean is 50.4 dB.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

Levels = Sequence[float] | np.ndarray
"""A level (or duration) series: any sequence of numbers; NaN levels mark gaps."""

P0_PA = 20e-6
"""Reference sound pressure, 20 µPa (IEC 61672-1:2013 clause 3.2)."""


def leq(p_squared_mean: np.ndarray | float, reference_squared: float = P0_PA**2) -> np.ndarray:
    """Level in dB of mean-square value(s) ``p_squared_mean`` relative to ``reference_squared``.

    With pressures in Pa the default reference gives dB re 20 µPa; a meter working in digital full-scale
    units passes the mean square that corresponds to 0 dB instead. Zero gives −inf (silence), not an error.
    """
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(np.asarray(p_squared_mean, dtype=np.float64) / reference_squared)


def _series(levels_db: Levels, durations_s: Levels | None) -> tuple[np.ndarray, np.ndarray]:
    """Levels and durations as float arrays with NaN levels (gaps) dropped; rejects bad durations."""
    levels = np.asarray(levels_db, dtype=float).reshape(-1)
    if durations_s is None:
        durations = np.ones_like(levels)
    else:
        durations = np.asarray(durations_s, dtype=float).reshape(-1)
        if durations.shape != levels.shape:
            raise ValueError(f"{levels.size} levels but {durations.size} durations")
        if not np.all(np.isfinite(durations)) or np.any(durations < 0):
            raise ValueError("durations must be finite and not negative")
    keep = ~np.isnan(levels)
    levels, durations = levels[keep], durations[keep]
    if levels.size == 0 or durations.sum() <= 0:
        raise ValueError("no levels to average (empty, all NaN, or zero total duration)")
    return levels, durations


def energy_mean(levels_db: Levels, durations_s: Levels | None = None) -> float:
    """Energy (time-weighted) mean of a level series: the Leq of the time the series covers.

    NaN entries are gaps: their time is left out rather than counted as silence, so a period with a
    sensor outage reports the level of the time that was measured (coverage is reported separately).
    Durations weight each level; without them every level counts equally. Raises ValueError if nothing
    is left to average.
    """
    levels, durations = _series(levels_db, durations_s)
    peak = levels.max()  # factor out the largest level so 10^(L/10) cannot overflow
    if np.isneginf(peak):
        return -np.inf
    energy = np.sum(durations * 10.0 ** ((levels - peak) / 10.0)) / durations.sum()
    return float(peak + 10.0 * np.log10(energy))


def sound_exposure_level(levels_db: Levels, durations_s: Levels | None = None) -> float:
    """Sound exposure level LE: the energy of the series normalised to 1 s, LE = Leq,T + 10·lg(T / 1 s).

    IEC 61672-1:2013 clause 3.16 (sound exposure level, reference duration T0 = 1 s). Gaps (NaN) add no
    energy; durations default to 1 s each.
    """
    levels, durations = _series(levels_db, durations_s)
    return energy_mean(levels, durations) + 10.0 * float(np.log10(durations.sum()))


def percentile_levels(
    levels_db: Levels, durations_s: Levels | None = None, ns: Sequence[int] = (10, 50, 90)
) -> dict[int, float]:
    """Statistical levels LN: the level exceeded for N % of the time (L10, L50, L90 by default).

    Each level holds for its duration; LN is the highest level L such that the levels at or above L last
    at least N % of the covered time (a step function, no interpolation, so LN is always a level that
    occurred). NaN entries are gaps and do not count.
    """
    levels, durations = _series(levels_db, durations_s)
    order = np.argsort(levels)[::-1]
    exceeded = np.cumsum(durations[order]) / durations.sum()  # time fraction at or above each level
    result: dict[int, float] = {}
    for n in ns:
        if not 0 < n < 100:
            raise ValueError(f"percentile N must be between 0 and 100 exclusive, got {n}")
        i = min(int(np.searchsorted(exceeded, n / 100.0 - 1e-12)), levels.size - 1)
        result[n] = float(levels[order[i]])
    return result
