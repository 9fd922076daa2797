"""IEC 61672-1:2013 frequency-weighting conformance data, and the margins of a real digital filter.

A weighting filter is only as good as its measured response at the standard's test frequencies, so the
design (:mod:`seatwatch.core.acoustics.weighting`), the tests and ``docs/acoustics.md`` all judge it here, by
one rule, against one copy of the acceptance limits.

Sources: IEC 61672-1:2013 clause 5.5 (design goals at the exact base-10 frequencies
f = 1000·10^((n−30)/10) Hz) and Table 3 (class 1 acceptance limits). docs/standards.md §5 confirms the limits
from 31.5 Hz up to 16 kHz; those at 10–25 Hz, 40–50 Hz and 20 kHz are taken from the same table of the
2013 edition (not the 2002 tolerances, which are 0.5 dB wider).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import signal

NOMINAL_FREQUENCIES_HZ: tuple[float, ...] = (
    10, 12.5, 16, 20, 25, 31.5, 40, 50, 63, 80, 100, 125, 160, 200, 250, 315, 400, 500, 630, 800,
    1000, 1250, 1600, 2000, 2500, 3150, 4000, 5000, 6300, 8000, 10000, 12500, 16000, 20000,
)  # fmt: skip
"""One-third-octave nominal frequencies of IEC 61672-1:2013 Table 3 (10 Hz to 20 kHz)."""

EXACT_FREQUENCIES_HZ: np.ndarray = 1000.0 * 10.0 ** ((np.arange(10, 44) - 30) / 10.0)
"""The exact base-10 frequencies at which the design goals hold (clause 5.5.9), same order as above."""

CLASS1_LIMITS_DB: tuple[tuple[float, float], ...] = (
    (3.0, -np.inf), (2.5, -np.inf), (2.0, -4.0), (2.0, -2.0), (2.0, -1.5), (1.5, -1.5), (1.0, -1.0),
    (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0),
    (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (0.7, -0.7),
    (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.0, -1.0), (1.5, -1.5),
    (1.5, -2.0), (1.5, -2.5), (2.0, -3.0), (2.0, -5.0), (2.5, -16.0), (3.0, -np.inf),
)  # fmt: skip
"""Class 1 acceptance limits (upper, lower) in dB around the design goal, IEC 61672-1:2013 Table 3."""

_HALF_BAND = 10.0 ** (1.0 / 20.0)


def band_indices(fs: float) -> np.ndarray:
    """Indices of the bands a sampled system can be judged on: those whose upper band edge is below Nyquist.

    A digital filter's response is forced to a real value at fs/2, so a band that straddles Nyquist cannot
    be held to a one-third-octave limit. At 48 kHz every band 10 Hz–20 kHz counts, at 44.1 kHz up to
    16 kHz, at 16 kHz up to 6.3 kHz.
    """
    upper_edges = EXACT_FREQUENCIES_HZ * _HALF_BAND
    return np.flatnonzero(upper_edges < fs / 2.0)


@dataclass(frozen=True)
class BandConformance:
    """A filter's measured deviation from the design goal in one band, and how far it is from the limits."""

    nominal_hz: float
    exact_hz: float
    deviation_db: float
    upper_db: float
    lower_db: float

    @property
    def margin_db(self) -> float:
        """Distance to the nearer acceptance limit; negative means the band fails class 1."""
        return min(self.upper_db - self.deviation_db, self.deviation_db - self.lower_db)


def filter_conformance(sos: np.ndarray, goal_db: np.ndarray, fs: float) -> list[BandConformance]:
    """Measure ``sos`` (as it will run: float32 coefficients) at every judged band against ``goal_db``.

    ``goal_db`` holds the design goal at every exact frequency of the table (all 34 bands).
    """
    idx = band_indices(fs)
    coefficients = np.asarray(sos, dtype=np.float32).astype(np.float64)
    _, h = signal.sosfreqz(coefficients, worN=EXACT_FREQUENCIES_HZ[idx], fs=fs)
    deviation = 20.0 * np.log10(np.abs(h)) - np.asarray(goal_db)[idx]
    return [
        BandConformance(
            NOMINAL_FREQUENCIES_HZ[i], float(EXACT_FREQUENCIES_HZ[i]), float(d), *CLASS1_LIMITS_DB[i]
        )
        for i, d in zip(idx, deviation, strict=True)
    ]


_CLASS1_TOP_HZ = 16000
"""The highest band with a finite class 1 lower limit (−16 dB): a rate that cannot carry it is not class 1."""


def rate_statement(fs: float) -> tuple[bool, str]:
    """Whether A/C/Z levels at sample rate ``fs`` can be class 1, and a sentence saying so and why.

    Class 1 bounds the response from below up to 16 kHz (Table 3: +2.5/−16 dB there). A rate whose Nyquist
    frequency lies below the 16 kHz band's upper edge cannot carry that band, so however good the filter,
    sound with energy there reads low: at 16 kHz sampling everything above 6.3 kHz is missing.
    """
    judged = band_indices(fs)
    top = NOMINAL_FREQUENCIES_HZ[judged[-1]] if judged.size else None
    if top is not None and top >= _CLASS1_TOP_HZ:
        return True, f"class 1 (IEC 61672-1:2013 Table 3) from 10 Hz to {top / 1000:g} kHz at {fs:g} Hz"
    return False, (
        f"not class 1: at {fs:g} Hz the weightings meet the class 1 limits only up to the "
        f"{(top or 0) / 1000:g} kHz band, and the bands above it up to 16 kHz, which class 1 requires, "
        "are not in the recording (sound there reads low); record at 44.1 kHz or more"
    )
