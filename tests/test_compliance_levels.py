"""The level histogram behind L10/L90 (issue #6): every reading's seconds in the 1 dB bin of its level."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.compliance.laeq_histogram import LEVEL_MIN, LevelBinner
from analysis.compliance.stats import WindowStats

HOUR_MIN = 29_500_000 // 60 * 60  # an hour boundary, in epoch minutes


def test_readings_are_binned_per_bucket_exactly_and_chunks_merge() -> None:
    """Six loud minutes in an hour are its L10 even though they are only 10 % of it — what per-bucket
    quintiles could only estimate. A series split over two chunks adds up; a reading without a level
    is not counted."""
    binner = LevelBinner(bucket_min=60)
    quiet = [[HOUR_MIN + m, 40.4, 60.0] for m in range(54)]
    loud = [[HOUR_MIN + 54 + m, 70.9, 60.0] for m in range(6)]
    binner.add("A", quiet[:30])
    binner.add("A", quiet[30:] + loud + [[HOUR_MIN + 60, None, 60.0]])
    binner.add("A", [[HOUR_MIN + 61, 50.0, 60.0]])  # the next hour
    (levels,) = binner.result().values()
    assert levels.t.tolist() == [HOUR_MIN * 60_000] * 2 + [(HOUR_MIN + 60) * 60_000]
    assert (levels.bins + LEVEL_MIN).tolist() == [40, 70, 50]
    assert levels.seconds.tolist() == [3240.0, 360.0, 60.0]
    first_hour = np.array([HOUR_MIN * 60_000])
    stats = WindowStats(histogram=levels.histogram(first_hour))
    assert stats.histogram.sum() == 3600.0
    l10_l90 = stats.percentiles()
    assert l10_l90[10] == pytest.approx(70.5, abs=0.5)
    assert l10_l90[90] == pytest.approx(40.5, abs=0.5)
