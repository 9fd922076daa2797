"""The bridge publisher keeps readings the broker routed to no subscriber (PUBACK 0x10), on a real Mosquitto.

Mosquitto acknowledges a publish that matches no subscription — after a restart it has forgotten ingest's
shared subscriptions — so a bridge that deleted on any PUBACK would lose those readings
(firmware_bridge/publisher.py).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from firmware_bridge.outbox import Outbox
from firmware_bridge.publisher import Publisher
from seatwatch.contract import Reading, batch_topic, encode
from seatwatch.settings import load_services

pytestmark = pytest.mark.integration

TS = 1_764_230_400_000


def _pump_until(publisher: Publisher, done: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while not done():
        if time.monotonic() > deadline:
            return False
        publisher.pump()
        time.sleep(0.01)
    return True


def test_readings_no_one_subscribed_to_are_kept_and_sent_again_in_order(
    mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    services = load_services({"mqtt_url": mqtt_url}, env={})
    publisher = Publisher(services, site_id, "gw-1", outbox, batch_readings=10)
    publisher.start()
    received: list[int] = []
    lock = threading.Lock()

    def on_message(_c: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        with lock:
            received.extend(r["seq"] for r in json.loads(message.payload))

    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    subscriber.on_message = on_message
    try:
        assert _pump_until(publisher, lambda: publisher.connected, 10)
        outbox.add([encode(Reading("nz-0001", n, TS + n * 1000, 1.0, lux=1.0)).decode() for n in range(30)])
        # No subscriber: every batch is answered 0x10 and kept; nothing counts as published.
        assert _pump_until(publisher, lambda: publisher.held_back == 30, 10)
        _pump_until(publisher, lambda: False, 1.0)  # a probe or two more, still to no one
        assert (outbox.depth(), publisher.held_back, publisher.published) == (30, 30, 0)

        host, port = services.mqtt_host_port
        subscriber.connect(host, port)
        subscriber.loop_start()
        subscriber.subscribe(batch_topic(site_id, "gw-1"), qos=1)
        # Backoff so far 0.5 + 1 + 2 s at most, then the probe and the rest of the window.
        assert _pump_until(publisher, lambda: outbox.depth() == 0, 15), publisher.held_back
        assert (publisher.held_back, publisher.published) == (0, 30)
        time.sleep(0.3)
        with lock:
            assert received == list(range(30))  # in order, none twice
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()
        publisher.stop()
        outbox.close()
