"""The bridge deletes a batch only when ingest confirms it durable — never on a PUBACK — on a real Mosquitto.

A PUBACK says the broker has a batch; Mosquitto answers Success as soon as any subscriber matches (a
persistent ``calibrate`` session), and 0x10 when none does. Neither means stored
(firmware_bridge/publisher.py). Here a plain subscriber stands for "some other subscriber", and
:class:`Acker` for ingest: it confirms each batch id it receives on the bridge's ack topic.
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
from seatwatch.core.contract import Reading, encode, encode_ack
from seatwatch.core.settings import load_services
from seatwatch.core.topics import ack_topic, batch_topic

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


class Subscriber:
    """A subscriber on the bridge's batch topic; with ``confirm`` it acknowledges like ingest does."""

    def __init__(self, mqtt_url: str, site_id: str, bridge: str, confirm: bool) -> None:
        self.site_id, self.bridge, self.confirm = site_id, bridge, confirm
        self.seqs: list[int] = []
        self.batches: list[str] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._message
        host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
        self.client.connect(host, port)
        self.client.loop_start()
        self.client.subscribe(batch_topic(site_id, bridge), qos=1)
        time.sleep(0.3)  # the SUBACK

    def _message(self, client: mqtt.Client, _u: object, message: mqtt.MQTTMessage) -> None:
        doc = json.loads(message.payload)
        with self._lock:
            self.seqs.extend(r["seq"] for r in doc["readings"])
            self.batches.append(doc["batch"])
        if self.confirm:
            client.publish(ack_topic(self.site_id, self.bridge), encode_ack([doc["batch"]]), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _readings(n: int) -> list[str]:
    return [encode(Reading("nz-0001", i, TS + i * 1000, 1.0, lux=1.0)).decode() for i in range(n)]


def test_a_puback_deletes_nothing_only_the_ingest_confirmation_does(
    mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    outbox = Outbox(tmp_path / "outbox.sqlite")
    services = load_services({"mqtt_url": mqtt_url}, env={})
    publisher = Publisher(services, site_id, "gw-1", outbox, batch_readings=10, ack_timeout_s=2.0)
    publisher.start()
    other = Subscriber(mqtt_url, site_id, "gw-1", confirm=False)  # the broker answers Success
    acker: Subscriber | None = None
    try:
        assert _pump_until(publisher, lambda: publisher.connected, 10)
        outbox.add(_readings(30))
        assert _pump_until(publisher, lambda: len(other.batches) >= 3, 10)
        _pump_until(publisher, lambda: False, 1.0)
        assert (outbox.depth(), publisher.published, publisher.unconfirmed) == (30, 0, 30)
        assert other.seqs[:30] == list(range(30))

        acker = Subscriber(mqtt_url, site_id, "gw-1", confirm=True)
        # After the 2 s timeout the bridge resends from the oldest batch, one at a time, then the window.
        assert _pump_until(publisher, lambda: outbox.depth() == 0, 20), publisher.unconfirmed
        assert (publisher.published, publisher.unconfirmed) == (30, 0)
        assert publisher.resent >= 1
        assert sorted(set(acker.seqs)) == list(range(30))
        first_seen = list(dict.fromkeys(acker.seqs))
        assert first_seen == list(range(30))  # resent oldest first, in order
    finally:
        other.close()
        if acker is not None:
            acker.close()
        publisher.stop()
        outbox.close()


def test_batches_no_one_subscribed_to_are_resent_soon_and_in_order(
    mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    """PUBACK 0x10 is certain news nobody has the batch: it is resent after 0.5 s doubling, not after the
    (long) confirmation timeout."""
    outbox = Outbox(tmp_path / "outbox.sqlite")
    services = load_services({"mqtt_url": mqtt_url}, env={})
    publisher = Publisher(services, site_id, "gw-1", outbox, batch_readings=10, ack_timeout_s=600.0)
    publisher.start()
    acker: Subscriber | None = None
    try:
        assert _pump_until(publisher, lambda: publisher.connected, 10)
        outbox.add(_readings(30))
        _pump_until(publisher, lambda: False, 2.0)
        assert (outbox.depth(), publisher.published) == (30, 0)
        acker = Subscriber(mqtt_url, site_id, "gw-1", confirm=True)
        assert _pump_until(publisher, lambda: outbox.depth() == 0, 20), publisher.unconfirmed
        assert acker.seqs == list(range(30))  # in order, none twice
    finally:
        if acker is not None:
            acker.close()
        publisher.stop()
        outbox.close()


def test_confirmations_delete_only_the_rows_they_name(mqtt_url: str, site_id: str, tmp_path: Path) -> None:
    """An id of another outbox file (epoch), of another bridge, or garbage deletes nothing; a late
    confirmation of a batch that was already resent is still honoured."""
    outbox = Outbox(tmp_path / "outbox.sqlite")
    services = load_services({"mqtt_url": mqtt_url}, env={})
    publisher = Publisher(services, site_id, "gw-1", outbox, batch_readings=10, ack_timeout_s=600.0)
    publisher.start()
    other = Subscriber(mqtt_url, site_id, "gw-1", confirm=False)
    sender = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    host, port = services.mqtt_host_port
    sender.connect(host, port)
    sender.loop_start()
    try:
        assert _pump_until(publisher, lambda: publisher.connected, 10)
        outbox.add(_readings(20))
        assert _pump_until(publisher, lambda: len(other.batches) >= 2, 10)
        real = other.batches[0]
        first, last = real.rsplit("-", 2)[1:]
        forged = [
            f"gw-1-{'0' * 8}-{first}-{last}",  # another outbox epoch
            real.replace("gw-1-", "gw-2-", 1),  # another bridge's prefix
            f"{real.rsplit('-', 2)[0]}-x-y",
            "",
        ]
        topic = ack_topic(site_id, "gw-1")
        sender.publish(topic, encode_ack(forged), qos=1).wait_for_publish(5)
        sender.publish(topic, b"not json", qos=1).wait_for_publish(5)
        _pump_until(publisher, lambda: False, 1.0)
        assert outbox.depth() == 20
        sender.publish(topic, encode_ack([real]), qos=1).wait_for_publish(5)
        assert _pump_until(publisher, lambda: outbox.depth() == 10, 10)
        assert publisher.published == 10
    finally:
        sender.disconnect()
        sender.loop_stop()
        other.close()
        publisher.stop()
        outbox.close()
