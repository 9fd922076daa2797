"""Read a WAV recording as float32 samples in full-scale units, refusing what would give wrong levels.

Full scale follows the sensitivity convention of ``seatwatch level``: integer samples are divided by
2^(bits−1), so they lie in [−1, 1) and a full-scale-RMS signal is 1.0; float files are taken as they are.
scipy's reader handles 8/16/24/32-bit PCM and 32/64-bit float, including WAVE_FORMAT_EXTENSIBLE; 24-bit
arrives left-justified in int32, so one divisor serves 24- and 32-bit.

A clipped recording understates every level it contains, so it is refused: two or more consecutive
samples at full scale (the largest or smallest code; exactly ±1.0 for float) are taken as clipping, because a
sine that merely peaks near full scale touches it at single samples, while a limiter holds it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.io import wavfile

# Divisor to full-scale units and the magnitude from which an integer sample is at full scale. A float
# file may legitimately exceed 1.0, so there only samples of exactly ±1.0 (what a limiter writes) count.
_FULL_SCALE: dict[str, tuple[float, float | None]] = {
    "uint8": (128.0, 127.0 / 128.0),
    "int16": (32768.0, 32767.0 / 32768.0),
    # 24-bit is left-justified: its largest code is 2^31 − 256, which this threshold still catches.
    "int32": (2.0**31, 1.0 - 256.0 / 2.0**31),
    "float32": (1.0, None),
    "float64": (1.0, None),
}


class WavError(ValueError):
    """The file cannot be measured; the message names the file and what is wrong with it."""


@dataclass(frozen=True)
class WavAudio:
    """One channel of a recording in full-scale units (float32)."""

    samples: np.ndarray
    fs: int
    channels: int
    sample_format: str

    @property
    def duration_s(self) -> float:
        return self.samples.size / self.fs


def read_wav(path: str | Path, channel: int | None = None) -> WavAudio:
    """Read ``path``; ``channel`` (0-based) picks one channel of a multi-channel file, and is required there.

    Raises :class:`WavError` for a missing or non-WAV file, an unsupported sample format, a missing or
    out-of-range channel, an empty or non-finite recording, and clipping.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", wavfile.WavFileWarning)  # unknown chunks (LIST, bext) are fine
            fs, data = wavfile.read(path)
    except FileNotFoundError:
        raise WavError(f"{path}: no such file") from None
    except (ValueError, EOFError, OSError) as error:
        raise WavError(f"{path}: not a readable WAV file ({error})") from None
    if data.dtype.name not in _FULL_SCALE:
        raise WavError(f"{path}: unsupported sample format {data.dtype.name}")
    channels = 1 if data.ndim == 1 else data.shape[1]
    if channel is None and channels > 1:
        raise WavError(f"{path}: has {channels} channels; choose one")
    index = channel or 0
    if not 0 <= index < channels:
        raise WavError(f"{path}: has {channels} channel(s), there is no channel {index + 1}")
    raw = data if data.ndim == 1 else data[:, index]
    if raw.size == 0:
        raise WavError(f"{path}: contains no samples")
    divisor, clip_level = _FULL_SCALE[data.dtype.name]
    offset = 128.0 if data.dtype == np.uint8 else 0.0
    samples = ((raw.astype(np.float64) - offset) / divisor).astype(np.float32)
    if not np.all(np.isfinite(samples)):
        raise WavError(f"{path}: contains NaN or infinite samples")
    _refuse_clipping(path, samples, clip_level, fs)
    return WavAudio(samples, int(fs), channels, data.dtype.name)


def _refuse_clipping(path: str | Path, samples: np.ndarray, clip_level: float | None, fs: int) -> None:
    magnitude = np.abs(samples)
    at_full_scale = magnitude == 1.0 if clip_level is None else magnitude >= clip_level
    held = at_full_scale[1:] & at_full_scale[:-1]
    if held.any():
        first = int(np.argmax(held))
        raise WavError(
            f"{path}: clipped — {int(at_full_scale.sum())} samples at full scale, first run at "
            f"{first / fs:.3f} s; record again with less gain"
        )
