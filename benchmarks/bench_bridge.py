"""Bridge figures: reference frames decoded per second, and the CPU share of 8 audio inputs at 48 kHz.

Run: ``python benchmarks/bench_bridge.py``. Prints figures; asserts nothing (the machine may be shared).
Goal (issue #5): 8 simultaneous 48 kHz audio inputs reduced to 1-s levels in under 25 % of one core.
"""

from __future__ import annotations

import time

import numpy as np

from firmware_bridge.drivers.audio_input import PcmReducer
from firmware_bridge.drivers.reference_serial import ReferenceSerialDriver
from firmware_bridge.protocol import encode_levels
from firmware_bridge.sensor_state import SensorState
from seatwatch.core.site import Sensor
from seatwatch.core.vocabulary import Quantity


def frames_per_second(frames: int = 200_000, chunk: int = 4096) -> float:
    """The whole reference driver path (decode, CRC, sequence check, Reading) on a byte stream."""
    rng = np.random.default_rng(1)
    levels = rng.uniform(35, 80, frames)
    stream = b"".join(encode_levels(i, 1000, v, v + 5, v - 5, 400.0) for i, v in enumerate(levels))
    sensor = Sensor("ref-bench", "b", (Quantity.NOISE, Quantity.LIGHT), "reference", {"port": "loop://"})
    got: list = []
    driver = ReferenceSerialDriver(sensor, SensorState("ref-bench", "b", "reference"), got.append)
    started = time.process_time()
    for i in range(0, len(stream), chunk):
        driver.feed(stream[i : i + chunk], 1.8e9)
    elapsed = time.process_time() - started
    assert len(got) == frames
    return frames / elapsed


def audio_cpu_share(inputs: int = 8, seconds: int = 30, fs: int = 48_000, block_s: float = 0.1) -> float:
    """CPU seconds per second of audio for ``inputs`` streams fed in ``block_s`` blocks of s16le PCM."""
    rng = np.random.default_rng(2)
    block = int(fs * block_s)
    pcm = [(rng.normal(0, 0.05, block) * 32767).astype("<i2").tobytes() for _ in range(10)]
    reducers = [PcmReducer(fs, 120.0) for _ in range(inputs)]
    blocks = int(seconds / block_s)
    started = time.process_time()
    for n in range(blocks):
        for reducer in reducers:
            reducer.feed(pcm[n % len(pcm)], 1.8e9 + n * block_s)
    return (time.process_time() - started) / seconds


def main() -> None:
    print(f"reference protocol driver: {frames_per_second():,.0f} frames/s decoded (one core)")
    share = audio_cpu_share()
    print(f"8 audio inputs, 48 kHz, 100-ms blocks -> 1-s levels: {share:.1%} of one core (goal < 25 %)")


if __name__ == "__main__":
    main()
