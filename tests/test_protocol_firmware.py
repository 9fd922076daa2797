"""The reference firmware agrees with the host: same frame format constants, same A-weighting filter."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from analysis.acoustics.weighting import design_weighting

FIRMWARE = (
    Path(__file__).resolve().parent.parent / "hardware" / "firmware" / "seatwatch_ref" / "seatwatch_ref.ino"
)


def test_firmware_a_weighting_sections_are_the_analysis_design() -> None:
    text = FIRMWARE.read_text()
    block = text[text.index("A_SOS[3][5] = {") : text.index("};", text.index("A_SOS[3][5]"))]
    rows = [[float(v) for v in re.findall(r"[-+0-9.e]+(?=f)", line)] for line in block.splitlines()[1:]]
    sos = design_weighting("A", 48000)
    assert np.allclose(np.array(rows), sos[:, [0, 1, 2, 4, 5]], rtol=1e-6, atol=1e-9)


def test_firmware_speaks_protocol_version_1_with_ccitt_false_crc() -> None:
    text = FIRMWARE.read_text()
    assert '"SW1,L,' in text and '"SW1,H,' in text and "0x1021" in text and "0xFFFF" in text
