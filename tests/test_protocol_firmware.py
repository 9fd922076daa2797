"""The reference firmware agrees with the host: same frame format constants, same DC blocker and A filter."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from scipy import signal

from seatwatch.core.acoustics.conformance import EXACT_FREQUENCIES_HZ, band_indices
from seatwatch.core.acoustics.weighting import measurement_sections

FIRMWARE = (
    Path(__file__).resolve().parent.parent / "hardware" / "firmware" / "seatwatch_ref" / "seatwatch_ref.ino"
)


def test_firmware_a_weighting_sections_are_the_analysis_design() -> None:
    """The firmware's table and the host's design (DC blocker, then A) weight every band alike.

    Compares frequency responses, not coefficients: the host design comes from a least-squares fit whose
    last digits follow the BLAS kernel of the machine (docs/dependencies.md), while its response does not —
    two machines' designs agree to about 1.5e-5 dB. A table regenerated from another design, a typo in one
    coefficient or a table for another sample rate moves the response by far more than the 1e-3 dB allowed.
    """
    text = FIRMWARE.read_text()
    block = text[text.index("A_SOS[SECTIONS][5] = {") : text.index("};", text.index("A_SOS[SECTIONS][5]"))]
    lines = block.splitlines()[1:]
    rows = np.array([[float(v) for v in re.findall(r"[-+0-9.e]+(?=f)", line)] for line in lines])
    assert rows.shape == (4, 5) and "SECTIONS = 4;" in text
    firmware_sos = np.hstack([rows[:, :3], np.ones((4, 1)), rows[:, 3:]])
    firmware_sos = firmware_sos.astype(np.float32).astype(np.float64)
    fs = 48000.0
    f = np.r_[0.25, 1.0, 4.0, EXACT_FREQUENCIES_HZ[band_indices(fs)]]  # the DC blocker's corner too
    _, h_firmware = signal.sosfreqz(firmware_sos, worN=f, fs=fs)
    # Both sides run the filter in float32 (WeightingFilter casts the design), so compare what they run.
    host_sos = measurement_sections("A", fs).astype(np.float32).astype(np.float64)
    _, h_host = signal.sosfreqz(host_sos, worN=f, fs=fs)
    difference_db = 20.0 * np.log10(np.abs(h_firmware) / np.abs(h_host))
    assert np.max(np.abs(difference_db)) < 1e-3, dict(zip(f.round(1), difference_db.round(5), strict=True))


def test_firmware_speaks_protocol_version_1_with_ccitt_false_crc() -> None:
    text = FIRMWARE.read_text()
    assert '"SW1,L,' in text and '"SW1,H,' in text and "0x1021" in text and "0xFFFF" in text
