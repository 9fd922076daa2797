"""Time weightings F and S: exponential response, streaming, and IEC 61672-1:2013 toneburst response."""

import numpy as np
import pytest

from seatwatch.core.acoustics.meter import SoundLevelMeter
from seatwatch.core.acoustics.time_weighting import FAST_S, SLOW_S, TimeWeighting

FS = 48000


@pytest.mark.parametrize("tau", [FAST_S, SLOW_S])
def test_step_response_reaches_one_minus_1_over_e_after_tau(tau):
    y = TimeWeighting(tau, FS).process(np.ones(int(2 * tau * FS), dtype=np.float32))
    # float32 rounding over 48,000 steps of S leaves about 1e-3 (0.004 dB); F about 1e-4.
    assert y[round(tau * FS) - 1] == pytest.approx(1 - np.exp(-1), rel=1e-3)


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
    assert np.allclose(result, expected, rtol=1e-6, atol=0)  # measured 3e-7: float32 rounding


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
    # Every call costs tens of µs: for chunks under 100 samples, 5000 samples cross 156 blocks of 32.
    n = 5000 if chunk != "random" and chunk < 100 else 2 * FS + 777
    x2 = np.random.default_rng(5).standard_normal(n).astype(np.float32) ** 2
    whole = TimeWeighting(tau, FS, initial).process(x2)
    weighting = TimeWeighting(tau, FS, initial)
    cuts = np.cumsum([0, *chunk_sizes(chunk, n)])
    chunks = [weighting.process(x2[a:b]) for a, b in zip(cuts, cuts[1:], strict=False)]
    assert np.array_equal(np.concatenate(chunks), whole)
    assert whole.dtype == np.float32 and whole.size == n


def _signals(n: int) -> dict[str, np.ndarray]:
    """Squared test signals: noise, a steady tone (every block a candidate), a burst on near-silence,
    speech-like modulated noise, and digital silence."""
    rng = np.random.default_rng(8)
    t = np.arange(n) / FS
    noise = 0.05 * rng.standard_normal(n)
    burst = np.where((t > 1.0) & (t < 1.01), 0.5, 1e-4) * rng.standard_normal(n)
    speech = noise * (1.1 + np.sin(2 * np.pi * 3 * t)) * (rng.random(n) < 0.999)
    signals = {"noise": noise, "tone": 0.1 * np.sin(2 * np.pi * 1000 * t), "burst": burst, "speech": speech}
    signals["silence"] = np.zeros(n)
    return {name: (x**2).astype(np.float32) for name, x in signals.items()}


@pytest.mark.parametrize("tau", [FAST_S, SLOW_S])
@pytest.mark.parametrize(
    ("segment", "per_call"), [(FS, 1), (4800, 1), (4800, 10), (4410, 1), (4410, 10), (100, 7)]
)
def test_extremes_are_the_per_segment_extremes_of_every_sample(tau, segment, per_call):
    # Reference: every sample from process() on the whole stream, reduced per segment here. Calls hold
    # whole segments (``per_call`` of them), as the meter makes them; the first 30,000 samples are
    # unsettled (they count for the largest value only).
    n, unsettled = 3 * FS, 30_000
    for name, x2 in _signals(n).items():
        y = TimeWeighting(tau, FS).process(x2)
        starts = np.arange(0, n, segment)
        settled = np.where(np.arange(n) < unsettled, np.inf, y)
        ends = np.r_[starts[1:], n] - 1
        expected = np.maximum.reduceat(y, starts), np.minimum.reduceat(settled, starts), settled[ends]
        weighting = TimeWeighting(tau, FS)
        got: list[list[np.ndarray]] = [[], [], []]
        for first in range(0, starts.size, per_call):
            call = starts[first : first + per_call]
            end = starts[first + per_call] if first + per_call < starts.size else n
            parts = weighting.extremes(x2[call[0] : end], call - call[0], max(unsettled - call[0], 0))
            for collected, part in zip(got, parts, strict=True):
                collected.append(part)
        for kind, (want, have) in enumerate(zip(expected, got, strict=True)):
            assert np.array_equal(np.concatenate(have), want), (name, kind)


def test_block_sums_depend_on_the_row_alone():
    # What bit-identity across chunkings rests on: numpy's einsum gives each row's dot product the same
    # value whatever the number of rows and wherever the rows sit in memory.
    rng = np.random.default_rng(9)
    scale = (1 + 0.01 * rng.random(32)).astype(np.float32)
    values = (rng.standard_normal(32 * 2000) ** 2).astype(np.float32)
    single = np.array([np.einsum("j,j->", row, scale) for row in values.reshape(-1, 32)], np.float32)
    for offset in range(0, 16, 3):
        moved = np.empty(values.size + 16, np.float32)[offset : offset + values.size]
        moved[:] = values
        for first, last in [(0, 1), (0, 7), (3, 1500), (0, 2000), (1999, 2000)]:
            rows = moved.reshape(-1, 32)[first:last]
            assert np.array_equal(np.einsum("ij,j->i", rows, scale), single[first:last])


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
