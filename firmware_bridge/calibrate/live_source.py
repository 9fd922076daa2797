"""Live readings of one sensor, taken from MQTT where the bridge publishes them.

Subscribing to the sensor's bridge batch topic and its own reading topic works for every driver
(reference firmware on serial, Modbus transmitters, audio, devices that publish themselves), and it is
the very path whose numbers ingest will correct, so the calibration covers the whole chain.
"""

from __future__ import annotations

import queue
import time

import paho.mqtt.client as mqtt

from firmware_bridge.calibrate.broker import BrokerError, close, connect
from seatwatch.core.contract import Reading, parse_payload
from seatwatch.core.settings import Services
from seatwatch.core.site import Sensor
from seatwatch.core.topics import batch_topic, reading_topic

SUBSCRIBE_TIMEOUT_S = 10.0


class LiveReadings:
    """A context manager yielding the sensor's readings in arrival order, each once.

    Readings whose interval began before the source opened are dropped: a bridge flushing its outbox
    must not pass off minutes-old levels as the calibrator's.
    """

    def __init__(self, services: Services, site_id: str, sensor: Sensor) -> None:
        self.services = services
        self.sensor = sensor
        self.topics = [batch_topic(site_id, sensor.bridge), reading_topic(site_id, sensor.id)]
        self._queue: queue.Queue[Reading] = queue.Queue()
        self._seen: set[tuple[int, int]] = set()
        self._client: mqtt.Client | None = None
        self._opened_ms = 0

    def __enter__(self) -> LiveReadings:
        self._opened_ms = int(time.time() * 1000)
        client = connect(self.services, "live")
        subscribed: queue.Queue[object] = queue.Queue()
        client.on_message = self._on_message
        client.on_subscribe = lambda *args: subscribed.put(args)
        client.subscribe([(topic, 1) for topic in self.topics])
        try:
            subscribed.get(timeout=SUBSCRIBE_TIMEOUT_S)
        except queue.Empty as exc:
            close(client)
            raise BrokerError(f"the MQTT broker did not confirm the subscription to {self.topics}") from exc
        self._client = client
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._client is not None:
            close(self._client)
            self._client = None

    def restart(self) -> None:
        """Forget what arrived so far and drop readings whose interval began before now: after the
        installer changed the lighting or seated the calibrator, only what comes next is of this step."""
        self._opened_ms = int(time.time() * 1000)
        while not self._queue.empty():
            self._queue.get_nowait()

    def next(self, timeout_s: float) -> Reading | None:
        """The next reading of the sensor, or None if none arrives within ``timeout_s``."""
        try:
            return self._queue.get(timeout=max(0.0, timeout_s))
        except queue.Empty:
            return None

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        readings, _rejected = parse_payload(message.payload, topic=message.topic)
        for reading in readings:
            key = (reading.ts, reading.seq)
            if reading.sensor != self.sensor.id or reading.ts < self._opened_ms or key in self._seen:
                continue
            self._seen.add(key)
            self._queue.put(reading)
