"""Levels: energy averaging, exposure, percentiles, and the streaming meter on signals of known level."""

import dataclasses
import math

import numpy as np
import pytest

from analysis.acoustics.levels import energy_mean, leq, percentile_levels, sound_exposure_level
from analysis.acoustics.meter import SoundLevelMeter
from analysis.acoustics.weighting import weighting_db
from tests.test_time_weighting import chunk_sizes

FS = 48000
S = 94.0  # sensitivity: a full-scale-RMS signal is 94 dB


def test_energy_mean_is_not_an_arithmetic_mean():
    assert energy_mean([60.0, 40.0], [1.0, 9.0]) == pytest.approx(50.374, abs=0.001)
    assert energy_mean([70.0, 70.0, 70.0]) == pytest.approx(70.0)
    assert energy_mean([80.0, 60.0]) == pytest.approx(77.04, abs=0.01)


def test_energy_mean_skips_gaps_and_survives_extreme_levels():
    assert energy_mean([50.0, math.nan, 50.0], [1.0, 5.0, 1.0]) == pytest.approx(50.0)
    assert energy_mean([400.0, 390.0]) == pytest.approx(397.4, abs=0.01)  # no overflow
    assert energy_mean([-math.inf, 50.0], [1.0, 1.0]) == pytest.approx(46.99, abs=0.01)
    assert energy_mean([-math.inf]) == -math.inf


@pytest.mark.parametrize(
    ("levels", "durations"), [([], None), ([math.nan], None), ([50.0], [1.0, 2.0]), ([50.0], [-1.0])]
)
def test_energy_mean_refuses_what_cannot_be_averaged(levels, durations):
    with pytest.raises(ValueError):
        energy_mean(levels, durations)


def test_leq_of_one_pascal_is_94_db_and_silence_is_minus_infinity():
    assert float(leq(1.0)) == pytest.approx(93.979, abs=0.001)
    assert float(leq(0.0)) == -math.inf


def test_sound_exposure_level_adds_ten_lg_duration():
    assert sound_exposure_level([60.0] * 10) == pytest.approx(70.0)
    assert sound_exposure_level([60.0, math.nan], [10.0, 5.0]) == pytest.approx(70.0)


def test_percentiles_are_levels_exceeded_for_n_percent_of_the_time():
    levels = [60.0] * 10 + [40.0] * 90
    assert percentile_levels(levels) == {10: 60.0, 50: 40.0, 90: 40.0}
    assert percentile_levels(list(range(1, 11))) == {10: 10.0, 50: 6.0, 90: 2.0}
    # Durations weight: 45 dB lasts 8 of 10 s, so it is exceeded-or-equalled 90 % of the time only with 50.
    assert percentile_levels([50.0, 45.0, 30.0], [1.0, 8.0, 1.0]) == {10: 50.0, 50: 45.0, 90: 45.0}
    assert percentile_levels([55.0, math.nan], ns=(95,)) == {95: 55.0}
    with pytest.raises(ValueError):
        percentile_levels([50.0], ns=(100,))


def _tone(amplitudes: list[float], seconds_each: float, f: float = 1000.0) -> np.ndarray:
    t = np.arange(round(seconds_each * FS)) / FS
    return np.concatenate([a * np.sin(2 * np.pi * f * t) for a in amplitudes]).astype(np.float32)


@pytest.mark.parametrize("amplitude", [1.0, 0.01])
def test_steady_tone_levels(amplitude):
    intervals = SoundLevelMeter(FS, S).process(_tone([amplitude], 8.0))  # S settles (−0.01 dB) after 7 s
    expected = S + 20 * np.log10(amplitude / np.sqrt(2))
    last = intervals[-1]
    for value in (last.laeq, last.lceq, last.lzeq, last.lafmax, last.lafmin, last.lasmax):
        assert value == pytest.approx(expected, abs=0.05)
    assert last.lcpeak == pytest.approx(expected + 3.01, abs=0.05)  # peak of a sine is √2 × RMS


def test_60_db_for_1_s_and_40_db_for_9_s_is_50_4_db():
    amplitude_60 = np.sqrt(2) * 10 ** ((60 - S) / 20)
    x = _tone([amplitude_60, amplitude_60 / 10], 1.0)
    x = np.concatenate([x[:FS], np.tile(x[FS:], 9)])
    intervals = SoundLevelMeter(FS, S).process(x)
    laeq = energy_mean([i.laeq for i in intervals], [i.duration_s for i in intervals])
    assert laeq == pytest.approx(50.37, abs=0.05)
    whole = SoundLevelMeter(FS, S, interval_s=10.0).process(x)
    assert whole[0].laeq == pytest.approx(laeq, abs=1e-9)


def test_pink_noise_levels_match_its_spectrum():
    n = 10 * FS
    f = np.fft.rfftfreq(n, 1 / FS)
    band = (f >= 10) & (f <= 20000)
    spectrum = np.zeros(f.size, complex)
    phases = np.random.default_rng(7).uniform(0, 2 * np.pi, band.sum())
    spectrum[band] = np.exp(1j * phases) / np.sqrt(f[band])  # power ∝ 1/f
    x = np.fft.irfft(spectrum, n)
    x *= 0.1 / np.sqrt(np.mean(x**2))
    power = np.abs(spectrum[band]) ** 2
    expected = {k: S - 20 + 10 * np.log10(np.sum(power * 10 ** (weighting_db(k, f[band]) / 10)) / power.sum())
                for k in "AC"}  # fmt: skip
    intervals = SoundLevelMeter(FS, S).process(x.astype(np.float32))
    durations = [i.duration_s for i in intervals]
    assert energy_mean([i.laeq for i in intervals], durations) == pytest.approx(expected["A"], abs=0.05)
    assert energy_mean([i.lceq for i in intervals], durations) == pytest.approx(expected["C"], abs=0.05)
    assert energy_mean([i.lzeq for i in intervals], durations) == pytest.approx(S - 20, abs=0.01)


def _levels_table(intervals: list) -> np.ndarray:
    return np.array([[getattr(i, f.name) for f in dataclasses.fields(i)] for i in intervals], dtype=float)


@pytest.mark.parametrize("chunk", [1, 63, 64, 65, 4799, "random"])
@pytest.mark.parametrize(
    ("fs", "interval_s", "seconds"),
    [(48000, 1.0, 3.3), (44100, 0.1, 1.37), (48000, 2.5, 6.1)],  # 2.5 s: spans of 1, 1 and 0.5 s
)
def test_meter_in_chunks_gives_bit_identical_intervals_to_the_whole_stream(chunk, fs, interval_s, seconds):
    if chunk == 1:  # a call per sample: keep it short, but past the 0.625 s of F settling
        seconds = 0.83
    x = 0.1 * np.random.default_rng(3).standard_normal(round(seconds * fs)).astype(np.float32)
    meter = SoundLevelMeter(fs, S, interval_s=interval_s)
    whole = [*meter.process(x), meter.flush()]
    meter = SoundLevelMeter(fs, S, interval_s=interval_s)
    cuts = np.cumsum([0, *chunk_sizes(chunk, x.size)])
    chunked = [i for a, b in zip(cuts, cuts[1:], strict=False) for i in meter.process(x[a:b])]
    chunked.append(meter.flush())
    assert len(chunked) == len(whole) == int(seconds / interval_s) + 1
    assert np.array_equal(_levels_table(chunked), _levels_table(whole), equal_nan=True)
    assert whole[-1].duration_s == pytest.approx(round(seconds * fs) % round(interval_s * fs) / fs)
    assert meter.flush() is None


def test_lafmin_waits_for_the_fast_weighting_to_settle():
    intervals = SoundLevelMeter(FS, S, interval_s=0.5).process(_tone([0.1], 2.0))
    assert math.isnan(intervals[0].lafmin)
    assert intervals[1].lafmin == pytest.approx(S - 23.01, abs=0.05)


def test_reduced_meter_leaves_the_extended_levels_out():
    interval = SoundLevelMeter(FS, S, extended=False).process(_tone([0.1], 1.0))[0]
    assert interval.lceq is None and interval.lasmax is None and interval.lcpeak is None
    assert interval.laeq == pytest.approx(S - 23.01, abs=0.05)
