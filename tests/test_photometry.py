"""Lux gain calibration, GB/T 5700 grid average and GB 50034 uniformity."""

import numpy as np
import pytest

from seatwatch.core.photometry.gain_fit import fit_lux_gain
from seatwatch.core.photometry.uniformity import grid_average, uniformity


def test_gain_through_zero_is_the_least_squares_slope():
    raw = [100.0, 220.0, 410.0]
    reference = [118.0, 270.0, 490.0]
    fit = fit_lux_gain(raw, reference)
    assert fit.offset == 0.0
    assert fit.gain == pytest.approx(np.dot(raw, reference) / np.dot(raw, raw))
    assert fit.apply(0.0) == 0.0  # a dark room reads 0 lx
    residuals = np.array(reference) - fit.gain * np.array(raw)
    assert np.allclose(fit.residuals, residuals)
    assert fit.max_relative_residual == pytest.approx(np.max(np.abs(residuals) / reference))


def test_a_single_reference_point_gives_its_ratio():
    fit = fit_lux_gain([250.0], [300.0])
    assert fit.gain == pytest.approx(1.2)
    assert fit.residuals == (0.0,)


def test_offset_only_on_request():
    raw, reference = [100.0, 200.0, 400.0], [130.0, 230.0, 430.0]
    assert fit_lux_gain(raw, reference).offset == 0.0
    fit = fit_lux_gain(raw, reference, with_offset=True)
    assert fit.gain == pytest.approx(1.0) and fit.offset == pytest.approx(30.0)
    assert fit.max_relative_residual < 1e-9


@pytest.mark.parametrize(
    ("raw", "reference", "with_offset"),
    [
        ([], [], False),
        ([1.0, 2.0], [1.0], False),
        ([0.0, 0.0], [10.0, 20.0], False),
        ([100.0, 100.0], [110.0, 120.0], True),
        ([-5.0], [10.0], False),
        ([100.0, 200.0], [300.0, 100.0], True),
    ],
)
def test_unusable_calibration_data_is_refused(raw, reference, with_offset):
    with pytest.raises(ValueError):
        fit_lux_gain(raw, reference, with_offset=with_offset)


def test_uniformity_is_minimum_over_average():
    assert uniformity([300.0, 400.0, 500.0]) == pytest.approx(0.75)
    with pytest.raises(ValueError):
        uniformity([0.0, 0.0])
    with pytest.raises(ValueError):
        uniformity([])


def test_grid_average_is_the_centre_point_mean():
    grid = [[310.0, 330.0, 350.0], [290.0, 300.0, 320.0]]
    assert grid_average(grid) == pytest.approx(1900.0 / 6)
    with pytest.raises(ValueError, match="rectangular"):
        grid_average([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match="M rows of N"):
        grid_average([1.0, 2.0])  # type: ignore[list-item]  # the wrong shape is the point
