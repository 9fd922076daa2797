"""Acoustic calibration maths: a microphone's sensitivity from a calibrator recording, and drift checks.

A sound calibrator (IEC 60942:2017) puts a known level — 94 dB (1 Pa) or 114 dB — at 1 kHz on the
microphone. The recording's 1 kHz tone level in full-scale units then fixes the sensitivity
S = L_cal − L_tone,FS: the level of a full-scale-RMS (1.0) signal, the number ``seatwatch level
--sensitivity-db`` and :class:`~seatwatch.core.acoustics.meter.SoundLevelMeter` take. The tone's energy is
read from a Hann-windowed spectrum in a band around the peak, so room noise outside the band does not bias it.

A recording only calibrates anything if it really is the calibrator: the checks refuse a tone off 1 kHz,
a signal that is mostly not the tone, and a level that moves (the calibrator slipping or not seated).
GB 3096-2008 asks for a calibration before and after each measurement; a drift over 0.5 dB between them
invalidates the measurement (docs/standards.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from seatwatch.core.acoustics.decibels import leq

CALIBRATOR_FREQUENCY_HZ = 1000.0
FREQUENCY_TOLERANCE = 0.02
"""IEC 60942 allows a class 1 calibrator ±1 % in frequency; 2 % leaves room for a cheap sound card clock."""
MIN_DURATION_S = 1.0
MIN_TONE_FRACTION = 0.9
"""At least 90 % of the recording's energy must be the tone (calibrator THD is a few %, room noise less)."""
MAX_LEVEL_SPREAD_DB = 0.3
"""Largest allowed spread of the 100 ms tone levels: a seated calibrator is steady to about 0.1 dB."""
DRIFT_LIMIT_DB = 0.5
"""GB 3096-2008: a pre/post calibration difference over 0.5 dB invalidates the measurement."""

_BAND_HZ = 50.0
_BLOCK_S = 0.1


class CalibrationError(ValueError):
    """The recording cannot be used as a calibration: the message says what was wrong with it."""


@dataclass(frozen=True)
class CalibratorResult:
    """Sensitivity (dB for a full-scale-RMS signal) and the evidence that the recording was a calibrator."""

    sensitivity_db: float
    tone_level_dbfs: float
    frequency_hz: float
    tone_fraction: float
    level_spread_db: float
    duration_s: float


@dataclass(frozen=True)
class DriftResult:
    """Difference between the calibration after and before a measurement, and whether it keeps it valid."""

    drift_db: float
    limit_db: float
    valid: bool


def sensitivity_from_calibrator(samples: np.ndarray, fs: float, level_db: float = 94.0) -> CalibratorResult:
    """Sensitivity from a recording of a calibrator producing ``level_db`` at 1 kHz (full-scale units).

    Raises :class:`CalibrationError` when the recording is too short, silent, not a 1 kHz tone, not
    mostly tone, or not steady.
    """
    x = np.asarray(samples, dtype=np.float64)
    duration = x.size / fs
    if x.ndim != 1 or duration < MIN_DURATION_S:
        raise CalibrationError(
            f"calibrator recording must be one channel of at least {MIN_DURATION_S:g} s, got {duration:.2f} s"
        )
    x = x - x.mean()
    window = np.hanning(x.size)
    power = np.abs(np.fft.rfft(x * window)) ** 2
    power[0] = 0.0
    total = power.sum()
    if total <= 0.0:
        raise CalibrationError("calibrator recording is silent")
    bin_hz = fs / x.size
    peak = int(np.argmax(power))
    frequency = _peak_frequency(power, peak) * bin_hz
    if abs(frequency / CALIBRATOR_FREQUENCY_HZ - 1.0) > FREQUENCY_TOLERANCE:
        raise CalibrationError(
            f"calibrator recording is not a 1 kHz tone: its strongest component is at {frequency:.1f} Hz"
        )
    band = slice(max(1, peak - round(_BAND_HZ / bin_hz)), peak + round(_BAND_HZ / bin_hz) + 1)
    fraction = float(power[band].sum() / total)
    if fraction < MIN_TONE_FRACTION:
        raise CalibrationError(
            f"calibrator recording is not a clean tone: only {100 * fraction:.0f} % of its energy is near "
            f"1 kHz (need {100 * MIN_TONE_FRACTION:.0f} %); is the calibrator seated and switched on?"
        )
    # Parseval for a windowed record: the mean square of the tone is 2·Σ|X|² / (N·Σw²), one-sided.
    tone_mean_square = 2.0 * power[band].sum() / (x.size * np.sum(window**2))
    spread = _level_spread(x, fs)
    if spread > MAX_LEVEL_SPREAD_DB:
        raise CalibrationError(
            f"calibrator recording is not steady: its 100 ms levels span {spread:.2f} dB "
            f"(limit {MAX_LEVEL_SPREAD_DB} dB); hold the calibrator still on the microphone"
        )
    tone_dbfs = float(leq(tone_mean_square, 1.0))
    return CalibratorResult(level_db - tone_dbfs, tone_dbfs, float(frequency), fraction, spread, duration)


def _peak_frequency(power: np.ndarray, peak: int) -> float:
    """Peak position in bins, refined by a parabola through the log power of the peak and its neighbours."""
    if not 0 < peak < power.size - 1:
        return float(peak)
    left, centre, right = np.log(power[peak - 1 : peak + 2] + np.finfo(float).tiny)
    return float(peak + 0.5 * (left - right) / (left - 2.0 * centre + right))


def _level_spread(x: np.ndarray, fs: float) -> float:
    """Range in dB of the levels of consecutive 100 ms blocks (each 100 cycles of a 1 kHz tone)."""
    block = round(_BLOCK_S * fs)
    blocks = x[: x.size // block * block].reshape(-1, block)
    levels = leq(np.mean(blocks**2, axis=1), 1.0)
    return float(levels.max() - levels.min())


def drift_check(pre_db: float, post_db: float, limit_db: float = DRIFT_LIMIT_DB) -> DriftResult:
    """Compare the sensitivity (or calibrator reading) after a measurement with the one before it.

    Valid while |post − pre| ≤ ``limit_db``; exactly 0.5 dB still passes GB 3096's "over 0.5 dB" rule.
    """
    drift = float(post_db) - float(pre_db)
    return DriftResult(drift, limit_db, abs(drift) <= limit_db + 1e-9)
