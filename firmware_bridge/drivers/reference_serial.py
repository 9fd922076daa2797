"""Driver for the seatwatch reference sensor over USB serial (hardware/PROTOCOL.md).

The device computes each interval's LAeq, LAFmax, LAFmin and lux itself and streams one frame per interval.
The bridge stamps the interval start from the host clock (receive time minus the device's own interval,
so a device without a real-time clock needs none) and uses the device's sequence number only to detect
lost and repeated frames. Bad frames are counted per sensor and dropped; the port is reopened with backoff
when the cable is pulled. Sample configuration: ``reference_serial.sample.toml``.
"""

from __future__ import annotations

from firmware_bridge.protocol import SEQ_MODULO, FrameDecoder, FrameError, HelloFrame, LevelsFrame
from firmware_bridge.sensor_state import Emit, SensorState
from firmware_bridge.serial_link import StreamDriver
from seatwatch.core.contract import Reading
from seatwatch.core.site import Sensor
from seatwatch.core.vocabulary import Quantity


class ReferenceSerialDriver(StreamDriver):
    """Reads one reference device; ``run`` blocks until ``stop`` is set."""

    def __init__(self, sensor: Sensor, state: SensorState, emit: Emit) -> None:
        super().__init__(sensor, state, emit)
        self._decoder = FrameDecoder()
        self._last_seq: int | None = None

    def feed(self, data: bytes, host_time: float) -> None:
        """Decode bytes received at ``host_time``; emit readings, count errors."""
        for item in self._decoder.feed(data):
            if isinstance(item, FrameError):
                self.state.count(item.reason)
            elif isinstance(item, HelloFrame):
                self._last_seq = None  # the device restarted: its sequence starts again
                self.state.info = {"device": item.device, "firmware": item.firmware, "mode": item.mode}
            elif self._accept_seq(item.seq):
                self.fresh()
                self.emit(self._reading(item, host_time))

    def _accept_seq(self, seq: int) -> bool:
        """Count lost frames (gaps) and refuse repeated ones; a big jump back is a device restart."""
        last, self._last_seq = self._last_seq, seq
        if last is None:
            return True
        step = (seq - last) % SEQ_MODULO
        if step == 0:
            self.state.count("duplicate")
            return False
        if step > SEQ_MODULO // 2:
            self.state.count("seq_restart")
        elif step > 1:
            self.state.count("gap", step - 1)
        return True

    def _reading(self, frame: LevelsFrame, host_time: float) -> Reading:
        noise = Quantity.NOISE in self.sensor.measures
        light = Quantity.LIGHT in self.sensor.measures
        return Reading(
            sensor=self.sensor.id,
            seq=frame.seq,
            ts=round(host_time * 1000) - frame.interval_ms,
            dur=frame.interval_ms / 1000,
            laeq=frame.laeq if noise else None,
            lafmax=frame.lafmax if noise else None,
            lafmin=frame.lafmin if noise else None,
            lux=frame.lux if light else None,
        )
