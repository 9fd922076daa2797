"""Noise calibration against a sound calibrator: when a window of LAeq readings is stable, and the offset.

A class 1 calibrator (IEC 60942) holds its level within 0.25 dB, so a seated calibrator gives readings
that agree to about 0.1 dB; anything wider is a calibrator slipping or room noise leaking in. A level far
below the reference means the calibrator is not seated (or not switched on) — the sensor hears the room.
The offset is the reference minus the window's energy-mean level (decibels average as energy,
docs/design.md principle 1), applied by ingest as calibrated = raw + offset.
"""

from __future__ import annotations

from firmware_bridge.calibrate.window import Judge, StableWindow, Verdict
from seatwatch.core.acoustics.decibels import energy_mean
from seatwatch.core.acoustics.sensitivity import DriftResult, drift_check

MAX_SPREAD_DB = 0.2
"""Default stability limit: the window's readings may span at most this much."""
MAX_OFFSET_DB = 10.0
"""A sensor further than this from the calibrator is not measuring the calibrator (or is broken)."""
FLOOR_MARGIN_DB = 3.0
"""Within this of the sensor's self-noise floor a reading is below measurable range (docs/standards.md §7)."""


def noise_judge(reference_db: float, max_spread_db: float, noise_floor_db: float | None) -> Judge:
    """A judge that accepts a window only if it is steady and near the calibrator's level."""

    def judge(window: StableWindow) -> Verdict:
        level = energy_mean(window.values, window.durations)
        spread = max(window.values) - min(window.values)
        problem = None
        if level < reference_db - MAX_OFFSET_DB:
            at_floor = noise_floor_db is not None and level < noise_floor_db + FLOOR_MARGIN_DB
            problem = (
                f"level too low: {level:.1f} dB is more than {MAX_OFFSET_DB:g} dB below the calibrator's "
                f"{reference_db:g} dB{' (at the sensor self-noise floor)' if at_floor else ''} — "
                "is the calibrator seated on the microphone and switched on?"
            )
        elif level > reference_db + MAX_OFFSET_DB:
            problem = (
                f"level too high: {level:.1f} dB is more than {MAX_OFFSET_DB:g} dB above {reference_db:g} dB "
                "— is the calibrator set to 114 dB? then pass --reference-db 114"
            )
        elif spread > max_spread_db:
            problem = (
                f"level unstable: readings span {spread:.2f} dB over the window (limit {max_spread_db:g} dB) "
                "— hold the calibrator still and keep the room quiet"
            )
        return Verdict(level, spread, problem)

    return judge


def noise_offset(reference_db: float, level_db: float) -> float:
    """The dB offset that makes the measured calibrator level read the reference."""
    return reference_db - level_db


def post_check(reference_db: float, corrected_db: float) -> DriftResult:
    """A second window, read corrected with the new offset, against the reference: GB 3096's 0.5 dB rule."""
    return drift_check(reference_db, corrected_db)
