"""Driver for audio input: 16-bit PCM reduced to 1-s LAeq/LAFmax/LAFmin on the spot, in memory.

Sources: the reference device in raw mode (mono s16le PCM over USB serial, hardware/PROTOCOL.md), or a USB
microphone through ALSA (``device = "alsa:hw:1,0"``: ``arecord`` writes PCM into a pipe to this process).
Audio is never written to disk, logged or sent anywhere: each block goes through the project's
:class:`seatwatch.core.acoustics.meter.SoundLevelMeter` and only the interval levels leave this module
(docs/design.md principle 3). Sample configuration: ``audio_input.sample.toml``.
"""

from __future__ import annotations

import subprocess
import threading
import time

import numpy as np

from firmware_bridge.driver_config import option
from firmware_bridge.sensor_state import Emit, SensorState
from firmware_bridge.serial_link import Backoff, StreamDriver
from seatwatch.core.acoustics.meter import SoundLevelMeter
from seatwatch.core.contract import NOISE_RANGE_DB, Reading
from seatwatch.core.site import Sensor

FULL_SCALE = 32768.0


class PcmReducer:
    """Turns a stream of s16le bytes into interval levels stamped from the host clock.

    The interval start is the host time at which its last sample arrived, minus what came after it and
    minus its duration: the audio's own sample clock fixes the duration, the host clock the position.
    """

    def __init__(self, sample_rate: int, sensitivity_db: float) -> None:
        self.sample_rate = sample_rate
        self.meter = SoundLevelMeter(sample_rate, sensitivity_db, interval_s=1.0, extended=False)
        self._odd = b""
        self._samples = 0

    def feed(self, data: bytes, host_time: float) -> list[tuple[int, float, float, float, float]]:
        """Returns (ts_ms, dur_s, laeq, lafmax, lafmin) for every interval the bytes completed."""
        data = self._odd + data
        usable = len(data) & ~1
        self._odd = data[usable:]
        pcm = np.frombuffer(data[:usable], dtype="<i2").astype(np.float32) / FULL_SCALE
        self._samples += pcm.size
        out = []
        for interval in self.meter.process(pcm):
            after_end_s = self._samples / self.sample_rate - (interval.start_s + interval.duration_s)
            ts_ms = round((host_time - after_end_s - interval.duration_s) * 1000)
            out.append((ts_ms, interval.duration_s, interval.laeq, interval.lafmax, interval.lafmin))
        return out


class AudioInputDriver(StreamDriver):
    """One audio input; ``run`` blocks until ``stop`` is set."""

    port_key = "device"
    extra_keys = frozenset({"sample_rate", "sensitivity_db"})

    def __init__(self, sensor: Sensor, state: SensorState, emit: Emit) -> None:
        super().__init__(sensor, state, emit)
        self.sample_rate: int = option(sensor, "sample_rate", int, 48000)
        self.sensitivity_db: float = option(sensor, "sensitivity_db", float)
        self._seq = 0
        self._reducer = PcmReducer(self.sample_rate, self.sensitivity_db)

    def run(self, stop: threading.Event) -> None:
        if self.port.startswith("alsa:"):
            self._run_alsa(self.port.removeprefix("alsa:"), stop)
        else:
            super().run(stop)

    def feed(self, data: bytes, host_time: float) -> None:
        self.fresh()
        for ts_ms, dur, laeq, lafmax, lafmin in self._reducer.feed(data, host_time):
            if not all(NOISE_RANGE_DB[0] <= v <= NOISE_RANGE_DB[1] for v in (laeq, lafmax, lafmin)):
                self.state.count("out_of_range")  # digital silence (-inf) or a clipped, broken input
                continue
            self.emit(Reading(self.sensor.id, self._seq, ts_ms, dur, laeq, lafmax, lafmin))
            self._seq += 1

    def _run_alsa(self, name: str, stop: threading.Event) -> None:
        """Read a USB microphone through ``arecord`` (alsa-utils); restart it with backoff if it exits."""
        command = [
            "arecord",
            "-q",
            "-D",
            name,
            "-t",
            "raw",
            "-f",
            "S16_LE",
            "-c",
            "1",
            "-r",
            str(self.sample_rate),
        ]
        backoff = Backoff()
        block = self.sample_rate // 10 * 2
        while not stop.is_set():
            try:
                process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            except OSError as exc:
                self.state.set_offline(f"cannot run arecord for {name}: {exc.strerror}")
                stop.wait(backoff.next())
                continue
            assert process.stdout is not None
            while not stop.is_set() and (data := process.stdout.read(block)):
                self.feed(data, time.time())
            process.kill()
            process.wait()
            self.state.set_offline(f"ALSA device {name} stopped delivering audio")
            stop.wait(backoff.next())
