"""The WAV reader on files built byte by byte here: good ones in every format, and malformed ones.

The files are assembled with ``struct`` from the RIFF layout (not by the reader under test), so a header
fault is exactly the one named; hypothesis then throws random damage at the reader.
"""

from __future__ import annotations

import itertools
import math
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.io import wavfile

from seatwatch.core.acoustics.wav import WavError, WavStream, read_wav

FS = 48000


def wav_bytes(
    data: bytes,
    *,
    tag: int = 1,
    channels: int = 1,
    fs: int = FS,
    bits: int = 16,
    claimed: int | None = None,
    block_align: int | None = None,
    extensible: bool = False,
    extra_chunk: bytes = b"",
) -> bytes:
    """A RIFF/WAVE file: fmt (plain or WAVE_FORMAT_EXTENSIBLE), an optional chunk, then data."""
    align = channels * bits // 8 if block_align is None else block_align
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, fs, fs * align, align, bits)
    if extensible:  # cbSize, valid bits, channel mask, then the sub-format GUID starting with the tag
        fmt += struct.pack("<HHI", 22, bits, 4) + struct.pack("<H", tag) + bytes(14)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + extra_chunk
    body += b"data" + struct.pack("<I", len(data) if claimed is None else claimed) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _write(tmp_path: Path, content: bytes, name: str = "x.wav") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def _tone(seconds: float = 0.5, amplitude: float = 0.25, f: float = 1000.0, fs: int = FS) -> np.ndarray:
    t = np.arange(round(seconds * fs)) / fs
    return amplitude * np.sin(2 * np.pi * f * t)


def test_every_format_reads_as_the_same_full_scale_samples(tmp_path):
    x = _tone()
    codes16 = np.round(x * 32767).astype("<i2")
    codes24 = np.round(x * (2**23 - 1)).astype("<i4")
    files = {
        "uint8": wav_bytes((np.round(x * 127) + 128).astype("u1").tobytes(), bits=8),
        "int16": wav_bytes(codes16.tobytes()),
        "int24": wav_bytes(codes24.view(np.uint8).reshape(-1, 4)[:, :3].tobytes(), bits=24),
        "int32": wav_bytes(np.round(x * (2**31 - 1)).astype("<i4").tobytes(), bits=32),
        "float32": wav_bytes(x.astype("<f4").tobytes(), tag=3, bits=32),
        "float64": wav_bytes(x.astype("<f8").tobytes(), tag=3, bits=64),
        "extensible int24": wav_bytes(
            codes24.view(np.uint8).reshape(-1, 4)[:, :3].tobytes(), bits=24, extensible=True
        ),
    }
    step = {"uint8": 1 / 128, "int16": 1 / 32768}
    for name, content in files.items():
        audio = read_wav(_write(tmp_path, content, f"{name}.wav"))
        assert audio.fs == FS and audio.samples.size == x.size, name
        assert np.max(np.abs(audio.samples - x)) <= step.get(name, 1e-6), name


def test_a_channel_of_a_stereo_file_and_unknown_chunks(tmp_path):
    x = _tone()
    stereo = np.column_stack([np.zeros_like(x), x])
    content = wav_bytes(
        np.round(stereo * 32767).astype("<i2").tobytes(),
        channels=2,
        extra_chunk=b"LIST\x03\x00\x00\x00abc\x00",
    )
    path = _write(tmp_path, content)
    assert np.allclose(read_wav(path, 1).samples, x, atol=1 / 32768)
    assert np.all(read_wav(path, 0).samples == 0)
    with pytest.raises(WavError, match="2 channels; choose one"):
        read_wav(path)
    # scipy, an independent reader, agrees on the same bytes
    assert np.array_equal(wavfile.read(path)[1][:, 1] / 32768, read_wav(path, 1).samples.astype(float))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"RIFF\x10\x00", "truncated header: 6 bytes"),
        (b"OggS" + bytes(40), "does not start with RIFF"),
        (wav_bytes(bytes(200), channels=0, block_align=0), "zero channels"),
        (wav_bytes(bytes(200), fs=0), "sample rate is 0 Hz"),
        (wav_bytes(bytes(200), bits=12, block_align=2), "unsupported sample format (PCM, 12 bits)"),
        (wav_bytes(bytes(200), tag=0x55), "format tag 0x0055"),
        (wav_bytes(bytes(200), block_align=3), "block align 3 bytes"),
        (wav_bytes(bytes(200))[:30], "truncated 'fmt ' chunk"),
        (wav_bytes(bytes(200))[:38], "truncated chunk header at byte 36"),
        (b"RIFF\x04\x00\x00\x00WAVE", "no data chunk"),
        (b"RIFF\x0c\x00\x00\x00WAVEdata\x00\x00\x00\x00", "no fmt chunk"),
        (wav_bytes(b""), "contains no samples"),
        (wav_bytes(bytes(9600), claimed=96000), "claims 1.000 s of audio but the file holds 0.100 s"),
        (wav_bytes(bytes(9600), claimed=0xFFFFFFF0), "claims 44739.243 s"),
    ],
)
def test_malformed_files_are_refused_with_what_is_wrong(tmp_path, content, words):
    with pytest.raises(WavError) as refused:
        read_wav(_write(tmp_path, content, "bad.wav"))
    assert words in str(refused.value) and "bad.wav" in str(refused.value)


def test_a_truncated_file_can_be_measured_on_request_and_says_what_is_missing(tmp_path):
    x = _tone(0.3)
    content = wav_bytes(np.round(x * 32767).astype("<i2").tobytes(), claimed=4 * FS * 2)
    with WavStream(_write(tmp_path, content + b"\x01"), allow_truncated=True) as stream:  # and half a frame
        assert stream.duration_s == pytest.approx(0.3)
        assert stream.missing_s == pytest.approx(3.7)
        assert sum(block.size for block in stream.blocks()) == x.size


def test_nan_samples_are_refused_with_their_time(tmp_path):
    x = _tone().astype("<f4")
    x[12000] = np.nan
    with pytest.raises(WavError, match=r"NaN or infinite samples \(the first at 0.250 s\)"):
        read_wav(_write(tmp_path, wav_bytes(x.tobytes(), tag=3, bits=32)))


def _int16_file(tmp_path: Path, x: np.ndarray, fs: int = FS) -> Path:
    return _write(tmp_path, wav_bytes(np.round(x).astype("<i2").tobytes(), fs=fs), "sine.wav")


@pytest.mark.parametrize("f", [10.0, 20.0, 100.0, 1000.0])
def test_an_unclipped_full_scale_sine_is_not_clipping(tmp_path, f):
    # Amplitude 32767.49: the peaks round to 32767 over several samples at 10–20 Hz, without clipping.
    x = _tone(2.0, 32767.49, f)
    if f <= 20:  # the old rule refused two equal samples at full scale, which these sines hold for 4+
        assert np.max(np.convolve(np.round(x) == 32767, np.ones(4), "valid")) == 4
    assert read_wav(_int16_file(tmp_path, x)).samples.size == x.size


@pytest.mark.parametrize(("f", "clip_db"), [(20.0, 0.1), (1000.0, 0.1), (10000.0, 6.0), (440.0, 3.0)])
def test_a_clipped_sine_is_refused_with_the_count_at_the_rails(tmp_path, f, clip_db):
    x = np.clip(_tone(2.0, 32767 * 10 ** (clip_db / 20), f), -32768, 32767)
    # A sine clipped by clip_db spends (2/π)·arccos(10^(−clip/20)) of its time at the rails: ≥ 9 % here.
    assert 2 / math.pi * math.acos(10 ** (-clip_db / 20)) > 0.09
    with pytest.raises(WavError, match=r"clipped — \d+ of the 4800 samples from 0.000 s") as refused:
        read_wav(_int16_file(tmp_path, x))
    count = int(str(refused.value).split("— ")[1].split(" of")[0])
    runs = [len(list(run)) for rail, run in itertools.groupby(np.abs(np.round(x[:4800])) >= 32767) if rail]
    assert count == sum(run for run in runs if run >= 2)  # samples at the rails in runs of two or more


def test_a_short_burst_of_clipping_in_a_long_quiet_file_is_found(tmp_path):
    x = _tone(5.0, 300.0)
    x[3 * FS : 3 * FS + 2400] = np.clip(_tone(0.05, 60000.0), -32768, 32767)
    with pytest.raises(WavError, match=r"from 3.000 s"):
        read_wav(_int16_file(tmp_path, x))


def _valid_file() -> bytes:
    return wav_bytes(
        np.round(_tone(0.05) * 32767).astype("<i2").tobytes(), extra_chunk=b"junk\x02\x00\x00\x00ab"
    )


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    damage=st.lists(st.tuples(st.integers(0, 120), st.integers(0, 255)), max_size=8),
    cut=st.one_of(st.none(), st.integers(0, 200)),
)
def test_fuzz_damaged_headers_give_samples_or_a_wav_error(tmp_path, damage, cut):
    content = bytearray(_valid_file())
    for position, value in damage:
        content[position] = value
    if cut is not None:
        content = content[:cut]
    _read_or_refuse(_write(tmp_path, bytes(content), "fuzz.wav"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=120), prefix=st.booleans())
def test_fuzz_random_bytes_give_samples_or_a_wav_error(tmp_path, content, prefix):
    raw = (b"RIFF\x00\x00\x00\x00WAVE" if prefix else b"") + content
    _read_or_refuse(_write(tmp_path, raw, "fuzz.wav"))


def _read_or_refuse(path: Path) -> None:
    """The reader either gives finite float32 samples of the length its header promises, or a WavError."""
    try:
        with WavStream(path, channel=0, allow_truncated=True) as stream:
            blocks = list(stream.blocks())
    except WavError as error:
        assert str(error).startswith(str(path))
        return
    samples = np.concatenate(blocks)
    assert samples.dtype == np.float32 and samples.size == stream.frames > 0
    assert np.all(np.isfinite(samples))


def test_rf64_takes_the_data_size_from_its_ds64_chunk(tmp_path):
    """RF64 (EBU Tech 3306), what recorders write past 4 GB: sizes 0xFFFFFFFF, the real ones in ds64."""
    codes = np.round(_tone(0.5) * 32767).astype("<i2").tobytes()

    def rf64(data_size: int) -> bytes:
        ds64 = struct.pack("<QQQI", 0, data_size, data_size // 2, 0)
        fmt = struct.pack("<HHIIHH", 1, 1, FS, 2 * FS, 2, 16)
        body = b"WAVE" + b"ds64" + struct.pack("<I", len(ds64)) + ds64 + b"fmt " + struct.pack("<I", 16) + fmt
        unknown = struct.pack("<I", 0xFFFFFFFF)
        return b"RF64" + unknown + body + b"data" + unknown + codes

    with WavStream(_write(tmp_path, rf64(len(codes)))) as stream:
        assert stream.duration_s == pytest.approx(0.5)
        assert np.allclose(np.concatenate(list(stream.blocks())), _tone(0.5), atol=1 / 32768)
    with pytest.raises(WavError, match="claims 5.000 s of audio but the file holds 0.500 s"):
        WavStream(_write(tmp_path, rf64(10 * len(codes))))
