"""Light calibration against a reference lux meter: stable readings, a gain through zero, a tolerance.

Each point pairs the sensor's raw lux with the reference meter's lux at the work plane (GB/T 5700,
0.75 m). The gain is fitted through zero by :func:`analysis.photometry.calibration.fit_lux_gain`
(STANDARDS.md §6: darkness must read 0 lx). A fit whose points disagree by more than the tolerance is
refused: the sensor is shaded differently from the meter, or not linear, and one gain would mislead.
"""

from __future__ import annotations

from analysis.photometry.calibration import LuxFit, fit_lux_gain
from firmware_bridge.calibrate.window import CalibrationRefused, Judge, Verdict, Window

MAX_SPREAD = 0.02
"""Default stability limit: the readings of the window may span 2 % of their mean."""
MAX_RESIDUAL = 0.05
"""Default tolerance: every point must lie within 5 % of the fitted gain."""


def lux_judge(max_spread: float) -> Judge:
    """A judge that accepts a lit, steady window; its value is the time-weighted mean lux."""

    def judge(window: Window) -> Verdict:
        mean = sum(v * d for v, d in zip(window.values, window.durations, strict=True)) / window.seconds
        spread = (max(window.values) - min(window.values)) / mean if mean > 0 else 0.0
        problem = None
        if mean <= 0:
            problem = "the sensor reads 0 lx: is it covered, or the light off?"
        elif spread > max_spread:
            problem = (
                f"light unstable: readings span {100 * spread:.1f} % of their mean "
                f"(limit {100 * max_spread:g} %) — keep shadows off the sensor and the meter, "
                "and wait for daylight to settle"
            )
        return Verdict(mean, spread, problem)

    return judge


def parse_point(text: str) -> tuple[float, float]:
    """``RAW:REF`` (sensor lux : reference lux) -> a pair; ValueError names what is wrong."""
    raw, sep, ref = text.partition(":")
    try:
        if not sep:
            raise ValueError
        pair = float(raw), float(ref)
    except ValueError:
        raise ValueError(f"--point {text!r} must be RAW:REF in lux, e.g. 442:520") from None
    if not all(0 <= v < float("inf") for v in pair) or pair[1] == 0:
        raise ValueError(f"--point {text!r}: lux must be finite, not negative, and the reference above 0")
    return pair


def fit_gain(points: list[tuple[float, float]], max_residual: float) -> LuxFit:
    """The gain through zero of (raw, reference) points; refused when any residual exceeds the tolerance."""
    try:
        fit = fit_lux_gain([r for r, _ in points], [e for _, e in points])
    except ValueError as exc:
        raise CalibrationRefused(f"cannot fit a gain: {exc}") from exc
    if fit.max_relative_residual > max_residual:
        raise CalibrationRefused(
            f"the points do not fit one gain: the worst residual is {100 * fit.max_relative_residual:.1f} % "
            f"(tolerance {100 * max_residual:g} %) — check that sensor and meter see the same light"
        )
    return fit


def uncalibrated_deviation(points: list[tuple[float, float]]) -> float:
    """The worst relative error of the raw readings before calibration (the record's pre-deviation)."""
    return max(abs(raw / ref - 1.0) for raw, ref in points)
