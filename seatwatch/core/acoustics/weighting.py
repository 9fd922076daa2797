"""Frequency weightings A, C and Z of IEC 61672-1:2013 as digital filters that stay class 1 up to Nyquist.

Why not the textbook filter: the bilinear transform maps the analogue frequency axis onto the digital one
through tan(), so the weighting's 12194 Hz pole pair arrives too early and the response falls too fast
towards fs/2 — at 48 kHz a plain bilinear A filter is 1.2 dB low at 10 kHz and 6.2 dB low at 16 kHz, and
reads white noise 0.9 dB low. The low poles (20.6, 107.7, 737.9 Hz) are far below Nyquist, where the bilinear
transform is exact to well under 0.01 dB, so they are kept; the section that holds the 12194 Hz poles and
the zeros that the bilinear transform puts at z = −1 is instead fitted, by least squares on the dB error
against the analogue design goal (clause 5.5.9), over every one-third-octave band that lies below Nyquist.
The fit keeps the filter at the bilinear design's order (A: 3 biquads, C: 2), so correcting it costs no
speed. At 88.2 and 96 kHz the bands stop at 20 kHz well below Nyquist, and one fitted section left the
response up to +9 dB high at 40 kHz; there a second fitted section lets the cascade follow the design
goal up to 0.45·fs as well. Measured margins to the class 1 limits are in ``docs/acoustics.md`` and
tested in ``tests/test_weighting.py``.

Why a DC blocker ahead of every weighting, Z included: MEMS microphones and cheap ADCs carry a DC
offset. A and C have zeros at DC, but the offset's step at the start of a stream rings through their
20.6 Hz poles — 1 % of full scale on a 40 dB tone (S = 123 dB) read LAeq 41.0, LAFmax 53.3, LCpeak 82.9
dB, on 30 dB noise LAeq +7.8 dB — and Z carries the offset itself (LZeq 83.0 dB). A first-order
high-pass at 1 Hz removes it first: one real pole, which float32 holds well, and −0.043 dB at 10 Hz, so
Table 3 still holds down to 10 Hz with nearly the same margins. :meth:`WeightingFilter.settle` starts it
settled on the offset, as a meter switched on before the measurement would be, so there is no step.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, signal

from seatwatch.core.acoustics.conformance import EXACT_FREQUENCIES_HZ, band_indices

F1_HZ = 20.598997
F2_HZ = 107.65265
F3_HZ = 737.86223
F4_HZ = 12194.217
"""Pole frequencies of the analogue weightings, IEC 61672-1:2013 clause E.2 (equations E.1–E.6)."""

A1000_DB = -2.000
C1000_DB = -0.062
"""Normalisation constants that make A and C exactly 0 dB at 1 kHz (IEC 61672-1:2013 E.4, E.5)."""

KINDS = ("A", "C", "Z")
MIN_FS_HZ = 16_000.0
MAX_FS_HZ = 96_000.0

DC_BLOCK_HZ = 1.0
"""Corner of the first-order DC-blocking high-pass ahead of every weighting: −0.043 dB at 10 Hz, the
lowest band of Table 3, and a time constant of 0.16 s for a change of offset."""

_FIT_POINTS = 300
_WIDE_FIT_TOP = 0.45
"""With Nyquist more than 30 % above the top band (88.2, 96 kHz), the fit reaches 0.45·fs, not the band."""


def _check_kind(kind: str) -> str:
    kind = kind.upper()
    if kind not in KINDS:
        raise ValueError(f"frequency weighting must be one of {', '.join(KINDS)}, got {kind!r}")
    return kind


def weighting_db(kind: str, f: np.ndarray | float) -> np.ndarray:
    """The analogue design goal of weighting ``kind`` at frequencies ``f`` (Hz), in dB (IEC 61672-1 E.6, E.1).

    This is the formula, not a filter: use it as the target, and :func:`design_weighting` to measure.
    """
    kind = _check_kind(kind)
    f2 = np.asarray(f, dtype=np.float64) ** 2
    if kind == "Z":
        return np.zeros_like(f2)
    with np.errstate(divide="ignore"):
        if kind == "C":
            gain = F4_HZ**2 * f2 / ((f2 + F1_HZ**2) * (f2 + F4_HZ**2))
            return 20.0 * np.log10(gain) - C1000_DB
        gain = (
            F4_HZ**2
            * f2**2
            / ((f2 + F1_HZ**2) * np.sqrt(f2 + F2_HZ**2) * np.sqrt(f2 + F3_HZ**2) * (f2 + F4_HZ**2))
        )
        return 20.0 * np.log10(gain) - A1000_DB


def _highpass_section(poles_hz: tuple[float, float], fs: float) -> np.ndarray:
    """A biquad: double zero at DC (z = 1), two real analogue poles mapped by the bilinear transform."""
    _, poles, _ = signal.bilinear_zpk([], [-2.0 * np.pi * p for p in poles_hz], 1.0, fs)
    section: np.ndarray = np.r_[1.0, -2.0, 1.0, np.real(np.poly(poles))]
    return section


def _reflect_inside(coefficients: np.ndarray) -> np.ndarray:
    """Move roots outside the unit circle to 1/conj(root): same magnitude shape, stable and minimum phase."""
    roots = np.roots(coefficients)
    outside = np.abs(roots) > 1.0
    roots[outside] = 1.0 / np.conj(roots[outside])
    reflected: np.ndarray = np.real(np.poly(roots))
    return reflected


def _fitted_top_sections(fixed: np.ndarray, kind: str, fs: float) -> np.ndarray:
    """Least-squares fit of the last biquad(s) so the whole cascade matches the design goal up to the top.

    Starts from the bilinear transform of the 12194 Hz double pole with its double zero at z = −1, and
    frees all four coefficients; the gain is normalised at 1 kHz afterwards. Where Nyquist lies far above
    the top band, a second section (starting as a pass-through) is freed too, and the fit runs to 0.45·fs.
    """
    top = EXACT_FREQUENCIES_HZ[band_indices(fs)[-1]] * 10.0 ** (1.0 / 20.0)
    sections = 1
    if fs / 2.0 > 1.3 * top:
        top, sections = _WIDE_FIT_TOP * fs, 2
    f = np.geomspace(EXACT_FREQUENCIES_HZ[0], top, _FIT_POINTS)
    goal = weighting_db(kind, f)
    _, h_fixed = signal.sosfreqz(fixed, worN=f, fs=fs)
    fixed_db = 20.0 * np.log10(np.abs(h_fixed))
    z_inv = np.exp(-2j * np.pi * f / fs)

    def error(p: np.ndarray) -> np.ndarray:
        cascade_db: np.ndarray = fixed_db + p[-1] - goal
        for b1, b2, a1, a2 in p[:-1].reshape(sections, 4):
            section = (1.0 + b1 * z_inv + b2 * z_inv**2) / (1.0 + a1 * z_inv + a2 * z_inv**2)
            cascade_db += 20.0 * np.log10(np.abs(section))
        return cascade_db

    start = _highpass_section((F4_HZ, F4_HZ), fs)[3:]
    initial = [2.0, 1.0, start[1], start[2]] + [0.0, 0.0, 0.0, 0.0] * (sections - 1) + [0.0]
    fitted = optimize.least_squares(error, initial).x[:-1].reshape(sections, 4)
    return np.array(
        [np.r_[_reflect_inside(np.r_[1.0, b[:2]]), _reflect_inside(np.r_[1.0, b[2:]])] for b in fitted]
    )


@lru_cache(maxsize=32)
def _design(kind: str, fs: float) -> np.ndarray:
    if kind == "Z":
        return np.array([[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]])
    if kind == "A":
        fixed = np.vstack([_highpass_section((F1_HZ, F1_HZ), fs), _highpass_section((F2_HZ, F3_HZ), fs)])
    else:
        fixed = _highpass_section((F1_HZ, F1_HZ), fs)[np.newaxis, :]
    sos = np.vstack([fixed, _fitted_top_sections(fixed, kind, fs)])
    _, h_1k = signal.sosfreqz(sos, worN=[1000.0], fs=fs)
    sos[-1, :3] /= np.abs(h_1k[0])  # 0 dB at the 1 kHz reference, clause 5.5.9
    sos.setflags(write=False)
    return sos


def design_weighting(kind: str, fs: float) -> np.ndarray:
    """Second-order sections (scipy ``sos`` layout, float64) of weighting ``kind`` at sample rate ``fs``.

    Supported rates are 16–96 kHz; outside them the upper bands the standard asks for cannot be met or
    the fit has not been verified. Designs are cached, so calling this per microphone is cheap.
    """
    kind = _check_kind(kind)
    if not MIN_FS_HZ <= fs <= MAX_FS_HZ:
        raise ValueError(
            f"sample rate {fs:g} Hz is outside the supported {MIN_FS_HZ:g}–{MAX_FS_HZ:g} Hz for weighting"
        )
    return np.array(_design(kind, float(fs)))


def design_dc_blocker(fs: float) -> np.ndarray:
    """The DC-blocking high-pass as one second-order section (first order: b2 = a2 = 0), float64.

    Bilinear transform of s / (s + 2π·``DC_BLOCK_HZ``): a zero at exactly z = 1, so a constant offset
    leaves nothing at all once settled.
    """
    b, a = signal.butter(1, DC_BLOCK_HZ, "highpass", fs=fs)
    section: np.ndarray = np.r_[b, 0.0, a, 0.0][np.newaxis, :]
    return section


def measurement_sections(kind: str, fs: float) -> np.ndarray:
    """What a meter runs for weighting ``kind``: the DC blocker, then the weighting (none for Z)."""
    kind = _check_kind(kind)
    weighting = design_weighting(kind, fs)
    return design_dc_blocker(fs) if kind == "Z" else np.vstack([design_dc_blocker(fs), weighting])


class WeightingFilter:
    """A weighting filter, DC blocker first, that keeps its state between calls, so a stream filtered in
    blocks gives the same samples as the whole stream filtered at once. Runs in float32 (coefficients and
    data, or scipy upcasts to float64 and halves the speed — docs/dependencies.md)."""

    def __init__(self, kind: str, fs: float) -> None:
        self.kind = _check_kind(kind)
        self.fs = float(fs)
        self.sos = measurement_sections(self.kind, fs).astype(np.float32)
        self.state: np.ndarray = np.zeros((self.sos.shape[0], 2), dtype=np.float32)
        """The sections' state (scipy's ``zi`` layout), public so the meter's compiled A path advances it."""

    def settle(self, offset: float) -> None:
        """Put the filter in the steady state of a constant input ``offset`` (output 0): a stream that
        starts on a DC offset then shows no switch-on step. Only the DC blocker holds anything, because
        nothing of a constant passes it."""
        self.state = np.zeros_like(self.state)
        self.state[0, 0] = -self.sos[0, 0] * np.float32(offset)  # y = b0·x + z0 = 0 for x = offset

    def process(self, x: np.ndarray) -> np.ndarray:
        """Weight the next block of samples (1-D); returns a new float32 array of the same length."""
        y: np.ndarray  # scipy-stubs cannot pick an overload for arrays of unknown dtype
        y, self.state = signal.sosfilt(self.sos, np.asarray(x, dtype=np.float32), zi=self.state)
        return y
