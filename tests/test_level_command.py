"""``seatwatch level`` run as the real command on WAV files written here, good and bad.

Two tests start the installed command in a subprocess (exit code, output, no traceback); the rest call
the same ``seatwatch`` entry point in this process, because importing scipy.signal costs a new process
about a second.
"""

import contextlib
import io
import json
import math
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from seatwatch.cli import main
from tests.test_wav import wav_bytes

FS = 48000
S = 94.0
LEVELS = ("laeq", "lceq", "lzeq", "lafmax", "lafmin", "lasmax", "lcpeak", "laf10", "laf50", "laf90")
KEYS = {*LEVELS, "duration_s", "below_range", "floor_db", "below_range_s", "class_1"}


def _seatwatch_process(*args: str | Path | float) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "seatwatch", "level", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _seatwatch(*args: str | Path | float) -> subprocess.CompletedProcess[str]:
    """The same command through ``seatwatch.cli.main`` in this process, captured like a subprocess."""
    words = ["level", *map(str, args)]
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(words)
        except SystemExit as exit_:  # argparse usage errors; the status Python would exit with
            code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    return subprocess.CompletedProcess(words, code, out.getvalue(), err.getvalue())


def _signal(seconds: float = 10.0) -> np.ndarray:
    """A 1 kHz tone at 60 dB for 1 s, then 40 dB for the rest, with S = 94 dB full scale."""
    t = np.arange(round(seconds * FS)) / FS
    amplitude = np.sqrt(2) * 10 ** ((60 - S) / 20)
    return amplitude * np.where(t < 1.0, 1.0, 0.1) * np.sin(2 * np.pi * 1000 * t)


def _write_24bit(path: Path, x: np.ndarray) -> None:
    codes = np.round(x * 2**23).astype("<i4")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(3)
        out.setframerate(FS)
        out.writeframes(codes.view(np.uint8).reshape(-1, 4)[:, :3].tobytes())


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("wav")
    x = _signal()
    paths = {name: folder / f"{name}.wav" for name in ("int16", "int24", "int32", "float32", "stereo")}
    wavfile.write(paths["int16"], FS, np.round(x * 32768).astype(np.int16))
    _write_24bit(paths["int24"], x)
    wavfile.write(paths["int32"], FS, np.round(x * 2**31).astype(np.int32))
    wavfile.write(paths["float32"], FS, x.astype(np.float32))
    wavfile.write(paths["stereo"], FS, np.column_stack([np.zeros_like(x), x]).astype(np.float32))
    return paths


def test_json_levels_of_a_known_signal(recordings):
    done = _seatwatch_process(recordings["int16"], "--sensitivity-db", S, "--json")
    assert done.returncode == 0, done.stderr
    levels = json.loads(done.stdout)
    assert set(levels) == KEYS
    assert levels["laeq"] == pytest.approx(50.37, abs=0.05)
    assert levels["lceq"] == pytest.approx(50.37, abs=0.05)
    assert levels["lzeq"] == pytest.approx(50.37, abs=0.05)
    assert levels["lafmax"] == pytest.approx(60.0, abs=0.1)
    assert levels["lafmin"] == pytest.approx(40.0, abs=0.1)
    assert levels["duration_s"] == pytest.approx(10.0)
    assert levels["below_range"] == [] and levels["class_1"] is True


@pytest.mark.parametrize("name", ["int24", "int32", "float32"])
def test_every_sample_format_gives_the_same_levels(recordings, name):
    reference = json.loads(_seatwatch(recordings["int16"], "--sensitivity-db", S, "--json").stdout)
    done = _seatwatch(recordings[name], "--sensitivity-db", S, "--json")
    assert done.returncode == 0, done.stderr
    levels = json.loads(done.stdout)
    for key in ("laeq", "lafmax", "lafmin", "laf90"):
        assert levels[key] == pytest.approx(reference[key], abs=0.05), key  # int16 quantises the 40 dB part


def test_channel_choice_and_table_output(recordings):
    done = _seatwatch(recordings["stereo"], "--sensitivity-db", S, "--channel", "2")
    assert done.returncode == 0, done.stderr
    assert "LAeq      50.4 dB" in done.stdout and "duration 10.000 s" in done.stdout
    refused = _seatwatch(recordings["stereo"], "--sensitivity-db", S)
    assert refused.returncode == 2 and "2 channels" in refused.stderr


def test_calibrator_recording_sets_the_sensitivity(recordings, tmp_path):
    t = np.arange(2 * FS) / FS
    calibrator = tmp_path / "cal.wav"  # 94 dB → amplitude √2 in units of a 94 dB full-scale RMS
    wavfile.write(calibrator, FS, np.round(0.5 * np.sin(2 * np.pi * 1000 * t) * 32767).astype(np.int16))
    done = _seatwatch(recordings["int16"], "--calibrator", calibrator, "--calibrator-level", "94", "--json")
    assert done.returncode == 0, done.stderr
    expected = 50.37 + 20 * np.log10(np.sqrt(2) / (0.5 * 32767 / 32768))
    assert json.loads(done.stdout)["laeq"] == pytest.approx(expected, abs=0.05)


def _assert_refused(done: subprocess.CompletedProcess, *words: str) -> None:
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    for word in words:
        assert word in done.stderr, done.stderr


def test_clipped_recording_is_refused(tmp_path):
    path = tmp_path / "clipped.wav"
    wavfile.write(
        path, FS, np.round(np.clip(3 * _signal(2.0) / _signal(2.0).max(), -1, 1) * 32767).astype(np.int16)
    )
    _assert_refused(_seatwatch(path, "--sensitivity-db", S), "clipped.wav", "clipped")


def test_file_that_is_not_wav_is_refused(tmp_path):
    path = tmp_path / "notes.wav"
    path.write_text("not audio")
    _assert_refused(_seatwatch_process(path, "--sensitivity-db", S), "notes.wav", "not a readable WAV")
    _assert_refused(_seatwatch(tmp_path / "missing.wav", "--sensitivity-db", S), "no such file")


def test_sample_rate_under_16khz_is_refused(tmp_path):
    path = tmp_path / "phone.wav"
    wavfile.write(path, 8000, np.round(_signal(1.0)[::6] * 32767).astype(np.int16))
    _assert_refused(_seatwatch(path, "--sensitivity-db", S), "phone.wav", "8000 Hz")


def test_calibrator_that_is_not_a_1khz_tone_is_refused(recordings, tmp_path):
    path = tmp_path / "bad_cal.wav"
    t = np.arange(2 * FS) / FS
    wavfile.write(path, FS, np.round(0.5 * np.sin(2 * np.pi * 250 * t) * 32767).astype(np.int16))
    _assert_refused(_seatwatch(recordings["int16"], "--calibrator", path), "bad_cal.wav", "not a 1 kHz tone")


def test_missing_sensitivity_or_bad_channel_is_a_usage_error(recordings):
    _assert_refused(_seatwatch(recordings["int16"]), "--sensitivity-db")
    _assert_refused(_seatwatch(recordings["int16"], "--sensitivity-db", S, "--channel", "0"), "counts from 1")
    _assert_refused(_seatwatch(recordings["int16"], "--sensitivity-db", S, "--channel", "3"), "no channel 3")


def test_percentiles_are_laf_sampled_every_100_ms(recordings):
    """LAFN of the 60/40 dB signal against the F level the formula gives every 100 ms: a rise from silence,
    then exponential decay with τ = 0.125 s after the step down at 1 s (ISO 1996-1's LAFN, meters' way)."""
    levels = json.loads(_seatwatch(recordings["float32"], "--sensitivity-db", S, "--json").stdout)
    t = np.arange(1, 101) / 10  # the end of every 100 ms interval
    t = t[t > 0.625]  # the meter's F level settles for 0.625 s first
    m60, m40 = 10.0**6, 10.0**4
    at_step = m60 * (1 - np.exp(-1 / 0.125))
    rise, decay = m60 * (1 - np.exp(-t / 0.125)), m40 + (at_step - m40) * np.exp(-(t - 1.0) / 0.125)
    mean_square = np.where(t <= 1.0, rise, decay)
    laf = np.sort(10 * np.log10(mean_square))[::-1]
    for n in (10, 50, 90):  # the level reached or exceeded by N % of the samples
        expected = laf[math.ceil(n / 100 * laf.size) - 1]
        assert levels[f"laf{n}"] == pytest.approx(expected, abs=0.05), n
    assert levels["laf10"] > 41.0  # the decay's tail, not the 40 dB floor that 100 ms LAeq values give


def test_digital_silence_is_below_measurable_range_never_a_number(tmp_path):
    silent = tmp_path / "silent.wav"
    wavfile.write(silent, FS, np.zeros(3 * FS, np.int16))
    done = _seatwatch(silent, "--sensitivity-db", S, "--json")
    assert done.returncode == 0, done.stderr
    levels = json.loads(done.stdout)
    assert sorted(levels["below_range"]) == sorted(LEVELS)
    assert all(levels[key] is None for key in LEVELS) and levels["below_range_s"] == 3.0
    table = _seatwatch(silent, "--sensitivity-db", S).stdout
    assert table.count("below measurable range (more than 100 dB below full scale)") == len(LEVELS)
    # A tone then trailing zeros: the zeros add no energy and pull LAF90 below range, not to −294 dB.
    trailing = tmp_path / "trailing.wav"
    x = np.concatenate([_signal(2.0), np.zeros(8 * FS)])
    wavfile.write(trailing, FS, np.round(x * 32767).astype(np.int16))
    levels = json.loads(_seatwatch(trailing, "--sensitivity-db", S, "--json").stdout)
    # LAF falls from 40 dB at 34.7 dB/s and passes S − 100 = −6 dB 1.3 s after the tone: 67 of 94 samples.
    assert levels["below_range"] == ["lafmin", "laf50", "laf90"] and levels["floor_db"] == 100
    assert levels["below_range_s"] == pytest.approx(8.0, abs=0.1)  # the zeros' LAeq: −inf from the start
    wavfile.write(trailing, FS, x.astype(np.float32))  # a float file carries 40 dB more: −46 dB, 2.5 s
    levels = json.loads(_seatwatch(trailing, "--sensitivity-db", S, "--json").stdout)
    assert levels["below_range"] == ["lafmin", "laf50", "laf90"] and levels["floor_db"] == 140
    assert levels["laeq"] == pytest.approx(10 * np.log10((10**6 + 10**4) / 10), abs=0.05)


@pytest.mark.parametrize("value", ["inf", "nan", "-10", "20", "250"])
def test_implausible_sensitivity_is_refused(recordings, value):
    _assert_refused(
        _seatwatch(recordings["int16"], "--sensitivity-db", value), "--sensitivity-db", "40 to 194"
    )


def test_implausible_calibrator_level_is_refused(recordings):
    done = _seatwatch(recordings["int16"], "--calibrator", recordings["int16"], "--calibrator-level", "nan")
    _assert_refused(done, "--calibrator-level", "70 to 140")


@pytest.mark.parametrize(("fs", "class_1", "words"), [
    (16000, False, "not class 1: at 16000 Hz the weightings meet the class 1 limits only up to the 6.3 kHz"),
    (22050, False, "only up to the 8 kHz band"),
    (44100, True, "class 1 (IEC 61672-1:2013 Table 3) from 10 Hz to 16 kHz at 44100 Hz"),
    (96000, True, "from 10 Hz to 20 kHz at 96000 Hz"),
])  # fmt: skip
def test_class_1_is_claimed_only_where_the_rate_carries_16khz(tmp_path, fs, class_1, words):
    path = tmp_path / f"{fs}.wav"
    t = np.arange(fs) / fs
    wavfile.write(path, fs, (0.1 * np.sin(2 * np.pi * 1000 * t)).astype(np.float32))
    assert json.loads(_seatwatch(path, "--sensitivity-db", S, "--json").stdout)["class_1"] is class_1
    assert words in _seatwatch(path, "--sensitivity-db", S).stdout


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"RIFF\x10\x00", "truncated header"),
        (wav_bytes(bytes(200), channels=0, block_align=0), "zero channels"),
        (wav_bytes(bytes(9600), claimed=0xFFFFFFF0), "truncated — its header claims 44739.243 s"),
    ],
)
def test_malformed_files_exit_2_with_a_message_and_no_traceback(tmp_path, content, words):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    _assert_refused(_seatwatch_process(path, "--sensitivity-db", S), "bad.wav", words)


def test_a_truncated_file_is_measured_only_on_request_with_a_warning(tmp_path):
    path = tmp_path / "cut.wav"
    codes = np.round(_signal(2.0) * 32767).astype("<i2")
    path.write_bytes(wav_bytes(codes.tobytes(), claimed=10 * FS * 2))
    _assert_refused(
        _seatwatch(path, "--sensitivity-db", S), "claims 10.000 s", "holds 2.000 s", "--allow-truncated"
    )
    done = _seatwatch(path, "--sensitivity-db", S, "--allow-truncated", "--json")
    assert done.returncode == 0
    assert "truncated; measuring the 2.000 s it holds, 8.000 s claimed are missing" in done.stderr
    assert json.loads(done.stdout)["duration_s"] == pytest.approx(2.0)


def test_a_file_over_a_minute_shows_progress_on_stderr(tmp_path):
    path = tmp_path / "long.wav"
    fs = 16000
    wavfile.write(path, fs, (0.01 * np.random.default_rng(1).standard_normal(61 * fs)).astype(np.float32))
    done = _seatwatch(path, "--sensitivity-db", S, "--json")
    assert done.returncode == 0
    assert [line.split(": ")[1].split(" (")[0] for line in done.stderr.splitlines()] == [
        f"{10 * k} %" for k in range(1, 11)
    ]
    assert json.loads(done.stdout)["duration_s"] == pytest.approx(61.0)
