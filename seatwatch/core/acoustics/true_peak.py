"""True peak of a sampled signal: the largest magnitude of the band-limited waveform between samples.

Why not the largest sample: a peak falls between two samples, and a sample can miss it by up to a factor
cos(π·f/fs) — at 44.1 kHz a steady 8 kHz tone reads up to 1.5 dB low, a one-cycle 8 kHz pulse 1.1 dB, a
16 kHz tone 7.6 dB. LCpeak (IEC 61672-1:2013 clause 3.11, the peak of the C-weighted sound pressure) is
the peak of the continuous signal, so the signal is first interpolated 4× — the oversampling ITU-R
BS.1770-4 Annex 2 uses for true-peak meters — and the peak read from the interpolated samples. At 4× the
between-sample loss is at most a factor cos(π·f/(4·fs)): at 44.1 kHz 0.09 dB at 8 kHz, 0.36 dB at 16 kHz.

The interpolator is a 96-tap Kaiser-window low-pass (24 taps per phase) with its cutoff at the input's
Nyquist frequency, run by ``scipy.signal.upfirdn`` (a compiled polyphase filter). It is flat to 0.01 dB
up to 0.4·fs and −0.10 dB at 0.42·fs (20 kHz at 48 kHz). State between calls is the last 23 input
samples, prepended to the next block, and every output is one fixed dot product of the taps with the
inputs, so a stream interpolated in blocks gives bit-identical samples to the stream interpolated whole.
The interpolated sample at 4·n + k lies (96 − 1)/2 interpolated samples (about 6 input samples) behind
its input, which moves a peak that late in an interval into the next one: 0.12 ms at 48 kHz.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

OVERSAMPLING = 4
_TAPS = 96
_KAISER_BETA = 8.0


class TruePeak:
    """Streaming 4× interpolation of a float32 signal at ``fs``, reduced to a peak per input sample."""

    def __init__(self, fs: float) -> None:
        taps = signal.firwin(_TAPS, fs / 2.0, window=("kaiser", _KAISER_BETA), fs=OVERSAMPLING * fs)
        self._taps = (OVERSAMPLING * taps).astype(np.float32)  # zero stuffing divides the amplitude by 4
        self._history = np.zeros(_TAPS // OVERSAMPLING - 1, np.float32)

    def process(self, x: np.ndarray) -> np.ndarray:
        """For each sample of ``x``, the largest |value| of the 4 interpolated samples that start at it."""
        x = np.asarray(x, dtype=np.float32)
        held = self._history.size
        extended = np.concatenate([self._history, x])
        self._history = extended[extended.size - held :].copy()
        interpolated = signal.upfirdn(self._taps, extended, up=OVERSAMPLING)
        start = OVERSAMPLING * held  # the first output with a full history behind it
        window = interpolated[start : start + OVERSAMPLING * x.size].astype(np.float32, copy=False)
        peaks: np.ndarray = np.abs(window).reshape(x.size, OVERSAMPLING).max(axis=1)
        return peaks
