"""Microphone sensitivity from a calibrator recording, its plausibility checks, and GB 3096 drift."""

import numpy as np
import pytest

from seatwatch.core.acoustics.meter import SoundLevelMeter
from seatwatch.core.acoustics.sensitivity import CalibrationError, drift_check, sensitivity_from_calibrator

FS = 48000
T = np.arange(3 * FS) / FS


def _calibrator(amplitude: float, frequency: float = 1000.0, noise: float = 1e-4) -> np.ndarray:
    hum = noise * np.random.default_rng(11).standard_normal(T.size)
    return amplitude * np.sin(2 * np.pi * frequency * T) + hum


@pytest.mark.parametrize("level_db", [94.0, 114.0])
def test_sensitivity_makes_the_calibrator_read_its_level(level_db):
    recording = _calibrator(0.1, frequency=1003.0)
    result = sensitivity_from_calibrator(recording, FS, level_db)
    assert result.sensitivity_db == pytest.approx(level_db - 20 * np.log10(0.1 / np.sqrt(2)), abs=0.01)
    assert result.frequency_hz == pytest.approx(1003.0, abs=0.5)
    assert result.tone_fraction > 0.99 and result.level_spread_db < 0.05
    # Closing the loop: the meter given that sensitivity reads the calibrator's level.
    intervals = SoundLevelMeter(FS, result.sensitivity_db).process(recording.astype(np.float32))
    assert intervals[-1].laeq == pytest.approx(level_db, abs=0.05)


def test_room_noise_outside_the_tone_does_not_bias_the_sensitivity():
    quiet = sensitivity_from_calibrator(_calibrator(0.1), FS).sensitivity_db
    noisy = sensitivity_from_calibrator(_calibrator(0.1, noise=0.01), FS).sensitivity_db
    assert noisy == pytest.approx(quiet, abs=0.02)


@pytest.mark.parametrize(
    ("recording", "message"),
    [
        (_calibrator(0.1, frequency=500.0), "not a 1 kHz tone"),
        (_calibrator(0.1, noise=0.2), "not a clean tone"),
        (_calibrator(0.1) * np.where(T < 1.5, 1.0, 0.9), "not steady"),
        (np.zeros(T.size), "silent"),
        (_calibrator(0.1)[: FS // 2], "at least 1 s"),
    ],
)
def test_a_recording_that_is_not_a_steady_1khz_tone_is_refused(recording, message):
    with pytest.raises(CalibrationError, match=message):
        sensitivity_from_calibrator(recording, FS)


def test_calibration_error_is_a_value_error():
    assert issubclass(CalibrationError, ValueError)


@pytest.mark.parametrize(
    ("pre", "post", "valid"),
    [(93.8, 94.3, True), (93.8, 93.3, True), (93.8, 94.31, False), (94.0, 93.2, False)],
)
def test_drift_over_half_a_decibel_invalidates(pre, post, valid):
    result = drift_check(pre, post)
    assert result.valid is valid
    assert result.drift_db == pytest.approx(post - pre)
