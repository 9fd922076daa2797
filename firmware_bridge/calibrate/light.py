"""Light calibration against a reference lux meter: stable readings, a gain through zero, a tolerance.

Each point pairs the sensor's raw lux with the reference meter's lux at the work plane (GB/T 5700,
0.75 m). The gain is fitted through zero by :func:`seatwatch.core.photometry.gain_fit.fit_lux_gain`
(docs/standards.md §6: darkness must read 0 lx). A fit whose points disagree by more than the tolerance is
refused: the sensor is shaded differently from the meter, or not linear, and one gain would mislead.
"""

from __future__ import annotations

from firmware_bridge.calibrate.window import CalibrationRefused, Judge, StableWindow, Verdict
from seatwatch.core.photometry.gain_fit import LuxFit, fit_lux_gain

MAX_SPREAD = 0.02
"""Default stability limit: the readings of the window may span 2 % of their mean."""
MAX_RESIDUAL = 0.05
"""Default tolerance: every point must lie within 5 % of the fitted gain."""


def lux_judge(max_spread: float) -> Judge:
    """A judge that accepts a lit, steady window; its value is the time-weighted mean lux."""

    def judge(window: StableWindow) -> Verdict:
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


def relative_residuals(fit: LuxFit, points: list[tuple[float, float]]) -> list[float]:
    """Each point's residual as a fraction of its reference reading (reference − calibrated) / reference."""
    return [residual / reference for residual, (_, reference) in zip(fit.residuals, points, strict=True)]


def _describe(number: int, point: tuple[float, float], relative: float) -> str:
    return f"point {number} (sensor {point[0]:.1f} lx, meter {point[1]:g} lx, {100 * relative:+.1f} %)"


def fit_gain(points: list[tuple[float, float]], max_residual: float) -> LuxFit:
    """The gain through zero of (raw, reference) points; refused when any residual exceeds the tolerance.

    The refusal names the point at fault: with three points or more, the one point without which all the
    others fit within the tolerance (a meter misread, a shadow at that lighting); otherwise the worst.
    """
    try:
        fit = fit_lux_gain([r for r, _ in points], [e for _, e in points])
    except ValueError as exc:
        raise CalibrationRefused(f"cannot fit a gain: {exc}") from exc
    relative = relative_residuals(fit, points)
    if max(abs(r) for r in relative) <= max_residual:
        return fit
    odd = []
    if len(points) >= 3:
        for i in range(len(points)):
            others = points[:i] + points[i + 1 :]
            rest = fit_lux_gain([r for r, _ in others], [e for _, e in others])
            if rest.max_relative_residual <= max_residual:
                odd.append(i)
    residuals = ", ".join(f"point {n} {100 * r:+.1f} %" for n, r in enumerate(relative, start=1))
    if len(odd) == 1:
        i = odd[0]
        raise CalibrationRefused(
            f"{_describe(i + 1, points[i], relative[i])} does not fit the others: without it they agree "
            f"within the {100 * max_residual:g} % tolerance (residuals: {residuals}) — read the meter "
            f"again at that lighting, or leave the point out"
        )
    worst = max(range(len(points)), key=lambda i: abs(relative[i]))
    raise CalibrationRefused(
        f"the points do not fit one gain: the worst is {_describe(worst + 1, points[worst], relative[worst])}"
        f" (tolerance {100 * max_residual:g} %; residuals: {residuals}) — check that sensor and meter see "
        "the same light"
    )


def uncalibrated_deviation(points: list[tuple[float, float]]) -> float:
    """The worst relative error of the raw readings before calibration (the record's pre-deviation)."""
    return max(abs(raw / ref - 1.0) for raw, ref in points)
