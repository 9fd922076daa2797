"""``seatwatch level`` run as the real command on WAV files written here, good and bad.

Two tests start the installed command in a subprocess (exit code, output, no traceback); the rest call
the same ``seatwatch`` entry point in this process, because importing scipy.signal costs a new process
about a second.
"""

import contextlib
import io
import json
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
from scipy.io import wavfile

from seatwatch.cli import main

FS = 48000
S = 94.0
KEYS = {"laeq", "lceq", "lzeq", "lafmax", "lafmin", "lasmax", "lcpeak", "la10", "la50", "la90", "duration_s"}


def _seatwatch_process(*args: str | Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "seatwatch", "level", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def _seatwatch(*args: str | Path) -> subprocess.CompletedProcess:
    """The same command through ``seatwatch.cli.main`` in this process, captured like a subprocess."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(["level", *map(str, args)])
        except SystemExit as exit_:  # argparse usage errors
            code = exit_.code
    return subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())


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
    assert (levels["la10"], levels["la50"], levels["la90"]) == (pytest.approx(60.0, abs=0.2),
            pytest.approx(40.0, abs=0.1), pytest.approx(40.0, abs=0.1))  # fmt: skip
    assert levels["duration_s"] == pytest.approx(10.0)


@pytest.mark.parametrize("name", ["int24", "int32", "float32"])
def test_every_sample_format_gives_the_same_levels(recordings, name):
    reference = json.loads(_seatwatch(recordings["int16"], "--sensitivity-db", S, "--json").stdout)
    done = _seatwatch(recordings[name], "--sensitivity-db", S, "--json")
    assert done.returncode == 0, done.stderr
    levels = json.loads(done.stdout)
    for key in ("laeq", "lafmax", "lafmin", "la90"):
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
