"""Time weightings F and S: exponential response, streaming, and IEC 61672-1:2013 toneburst response."""

import numpy as np
import pytest

from seatwatch.core.acoustics.decibels import leq
from seatwatch.core.acoustics.meter import FLOOR_DB, SoundLevelMeter
from seatwatch.core.acoustics.time_weighting import FAST_S, SLOW_S, TimeWeighting
from seatwatch.core.acoustics.weighting import WeightingFilter

FS = 48000


@pytest.mark.parametrize("tau", [FAST_S, SLOW_S])
def test_step_response_reaches_one_minus_1_over_e_after_tau(tau):
    y = TimeWeighting(tau, FS).process(np.ones(int(2 * tau * FS), dtype=np.float32))
    # The float64 recursion: after τ·fs steps y = 1 − a^(τ·fs) = 1 − 1/e up to float64 rounding.
    assert y[round(tau * FS) - 1] == pytest.approx(1 - np.exp(-1), rel=1e-9)


@pytest.mark.parametrize(("tau", "decay_db_per_s"), [(FAST_S, 34.7), (SLOW_S, 4.3)])
def test_decay_rate_is_the_standards(tau, decay_db_per_s):
    weighting = TimeWeighting(tau, FS, initial_mean_square=1.0)
    y = weighting.process(np.zeros(FS // 2, dtype=np.float32))
    rate = -10 * np.log10(y[-1]) / (y.size / FS)
    assert rate == pytest.approx(decay_db_per_s, abs=0.05)


def test_matches_the_plain_recursion_sample_by_sample():
    x2 = np.random.default_rng(4).standard_normal(FS // 4) ** 2
    a = np.exp(-1 / (FAST_S * FS))
    expected = np.empty_like(x2)
    y = 0.5
    for n, value in enumerate(x2):  # the defining equation, in float64
        y = a * y + (1 - a) * value
        expected[n] = y
    result = TimeWeighting(FAST_S, FS, initial_mean_square=0.5).process(x2)
    assert np.array_equal(result, expected)  # the same float64 operations in the same order


def test_steady_input_from_a_matching_initial_state_stays_put():
    y = TimeWeighting(FAST_S, FS, initial_mean_square=2.0).process(np.full(1000, 2.0, dtype=np.float32))
    assert np.allclose(y, 2.0, rtol=1e-6)


def chunk_sizes(chunk: int | str, total: int) -> list[int]:
    """``chunk`` samples at a time, or (``"random"``) sizes from 1 to 9000 drawn once, covering ``total``."""
    if chunk == "random":
        sizes = np.random.default_rng(6).integers(1, 9000, size=total).tolist()
    else:
        sizes = [int(chunk)] * -(-total // int(chunk))
    return sizes[: int(np.searchsorted(np.cumsum(sizes), total)) + 1]


@pytest.mark.parametrize("chunk", [1, 15, 16, 17, 31, 32, 33, 63, 64, 65, 4799, "random"])
@pytest.mark.parametrize(("tau", "initial"), [(FAST_S, 0.0), (SLOW_S, 0.3)])
def test_chunks_give_bit_identical_results_to_the_whole_stream(chunk, tau, initial):
    # Every call has a fixed cost: chunks under 100 samples get a shorter stream.
    n = 5000 if chunk != "random" and chunk < 100 else 2 * FS + 777
    x2 = np.random.default_rng(5).standard_normal(n).astype(np.float32) ** 2
    whole = TimeWeighting(tau, FS, initial).process(x2)
    weighting = TimeWeighting(tau, FS, initial)
    cuts = np.cumsum([0, *chunk_sizes(chunk, n)])
    chunks = [weighting.process(x2[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert np.array_equal(np.concatenate(chunks), whole)
    assert whole.dtype == np.float64 and whole.size == n


def _signals(n: int, fs: int) -> dict[str, np.ndarray]:
    """Test signals in full-scale units: noise, a steady tone, a burst on near-silence, speech-like
    modulated noise, digital silence, and noise on a 5 % DC offset."""
    rng = np.random.default_rng(8)
    t = np.arange(n) / fs
    noise = 0.05 * rng.standard_normal(n)
    burst = np.where((t > 1.0) & (t < 1.01), 0.5, 1e-4) * rng.standard_normal(n)
    speech = noise * (1.1 + np.sin(2 * np.pi * 3 * t)) * (rng.random(n) < 0.999)
    signals = {"noise": noise, "tone": 0.1 * np.sin(2 * np.pi * 1000 * t), "burst": burst, "speech": speech}
    signals |= {"silence": np.zeros(n), "offset noise": 0.05 + noise}
    return {name: x.astype(np.float32) for name, x in signals.items()}


@pytest.mark.parametrize(("fs", "interval_s"), [(48000, 1.0), (44100, 0.1), (96000, 0.5)])
def test_meter_extremes_are_the_extremes_of_every_sample(fs, interval_s):
    # Reference, built from the public parts and not from the meter's compiled loop: the DC-blocked
    # A-weighted signal from WeightingFilter (scipy's sosfilt), squared, F and S weighted sample by sample
    # by TimeWeighting, and reduced per interval here. The meter, fed in random chunks, must give the same
    # LAFmax, LAFmin (from 5·τ on), LASmax and LAF bit for bit, and LAeq to float64 rounding (the two sum
    # in different orders).
    n, sensitivity = 3 * fs + 1234, 100.0
    interval = round(interval_s * fs)
    settling = round(5 * FAST_S * fs)
    for name, x in _signals(n, fs).items():
        a = WeightingFilter("A", fs)
        a.settle(float(np.mean(x[: min(interval, fs)], dtype=np.float64)))
        a2 = np.square(a.process(x)).astype(np.float64)
        fast, slow = TimeWeighting(FAST_S, fs).process(a2), TimeWeighting(SLOW_S, fs).process(a2)
        complete = n // interval * interval
        starts = np.arange(0, complete, interval)
        settled = np.where(np.arange(n) < settling, np.inf, fast)[:complete]

        def level(mean_square: np.ndarray) -> np.ndarray:
            db = leq(np.where(np.isfinite(mean_square), mean_square, np.nan), 10 ** (-sensitivity / 10))
            return np.where(mean_square < 10 ** (-FLOOR_DB / 10), -np.inf, db)

        expected = {
            "laeq": level(np.add.reduceat(a2[:complete], starts) / interval),
            "lafmax": level(np.maximum.reduceat(fast[:complete], starts)),
            "lafmin": level(np.minimum.reduceat(settled, starts)),
            "lasmax": level(np.maximum.reduceat(slow[:complete], starts)),
            "laf": level(settled[starts + interval - 1]),
        }
        meter = SoundLevelMeter(fs, sensitivity, interval_s=interval_s)
        cuts = np.cumsum([0, *chunk_sizes("random", n)])
        intervals = [i for a, b in zip(cuts, cuts[1:], strict=False) for i in meter.process(x[a:b])]
        assert len(intervals) == starts.size, name
        for key, want in expected.items():
            have = np.array([getattr(i, key) for i in intervals])
            if key == "laeq":
                assert np.allclose(have, want, rtol=0, atol=1e-9, equal_nan=True), (name, key)
            else:
                assert np.array_equal(have, want, equal_nan=True), (name, key)


def test_bad_time_constant_is_refused():
    with pytest.raises(ValueError):
        TimeWeighting(0.0, FS)


def _max_level(x: np.ndarray, slow: bool) -> float:
    intervals = SoundLevelMeter(FS, 94.0, interval_s=1.0).process(x)
    levels = [i.lasmax if slow else i.lafmax for i in intervals]
    measured = [level for level in levels if level is not None]
    assert len(measured) == len(levels)  # a loud tone: every interval has its maximum
    return max(measured)


# IEC 61672-1:2013 Table 4: 4 kHz toneburst response relative to the steady level,
# δref = 10·lg(1 − e^(−Tb/τ)), and class 1 acceptance limits (upper, lower).
TONEBURSTS_F = [(1000, 0.0, 0.5, -0.5), (200, -1.0, 0.5, -0.5), (10, -11.1, 1.0, -1.0), (2, -18.0, 1.0, -1.5),
                (0.25, -27.0, 1.0, -3.0)]  # fmt: skip
TONEBURSTS_S = [(1000, -2.0, 0.5, -0.5), (200, -7.4, 0.5, -0.5), (2, -27.0, 1.0, -1.5)]


@pytest.mark.parametrize(("slow", "bursts"), [(False, TONEBURSTS_F), (True, TONEBURSTS_S)])
def test_toneburst_response(slow, bursts):
    tau = SLOW_S if slow else FAST_S
    t = np.arange(4 * FS) / FS
    tone = (0.1 * np.sin(2 * np.pi * 4000 * t)).astype(np.float32)
    steady = _max_level(tone, slow)
    for duration_ms, table_db, upper, lower in bursts:
        burst = np.zeros_like(tone)
        n = round(duration_ms * FS / 1000)  # whole cycles of 4 kHz (12 samples), from a zero crossing
        burst[FS : FS + n] = tone[:n]
        deviation = _max_level(burst, slow) - steady - table_db
        assert lower <= deviation <= upper, (duration_ms, deviation)
        # The exponential is exact: within 0.2 dB of the unrounded formula (a 0.25 ms burst spreads its
        # energy over frequencies the A filter weighs differently, which costs it 0.13 dB).
        exact = 10 * np.log10(1 - np.exp(-duration_ms / 1000 / tau))
        assert abs(_max_level(burst, slow) - steady - exact) < 0.2, duration_ms
