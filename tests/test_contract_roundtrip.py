"""A reading goes through the real Mosquitto with paho-mqtt 2.x and comes back through the contract code."""

from __future__ import annotations

import queue
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties

from seatwatch.core.contract import Reading, encode, parse_payload
from seatwatch.core.settings import load_services
from seatwatch.core.topics import reading_subscriptions, reading_topic

pytestmark = pytest.mark.integration


def _client(mqtt_url: str, client_id: str) -> mqtt.Client:
    host, port = load_services({"mqtt_url": mqtt_url}, env={}).mqtt_host_port
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.connect(host, port, clean_start=True, properties=Properties(mqtt.PacketTypes.CONNECT))
    client.loop_start()
    return client


def test_reading_round_trip_through_mosquitto(mqtt_url: str, site_id: str) -> None:
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscriber = _client(mqtt_url, f"{site_id}-sub")
    subscriber.on_message = lambda _c, _u, message: received.put(message)
    subscribed: queue.Queue[tuple[object, ...]] = queue.Queue()
    subscriber.on_subscribe = lambda *args: subscribed.put(args)
    for topic in reading_subscriptions(site_id):
        subscriber.subscribe(topic, qos=1)
    subscribed.get(timeout=5)
    subscribed.get(timeout=5)

    now_ms = int(time.time() * 1000) // 1000 * 1000
    sent = Reading("nz-0001", 42, now_ms, 1.0, laeq=52.3, lafmax=60.2, lafmin=45.0, lux=412.0)
    publisher = _client(mqtt_url, f"{site_id}-pub")
    publisher.publish(reading_topic(site_id, "nz-0001"), encode(sent), qos=1).wait_for_publish(5)

    message = received.get(timeout=5)
    assert message.topic == reading_topic(site_id, "nz-0001")
    assert message.qos == 1
    readings, rejected = parse_payload(message.payload, topic=message.topic)
    assert rejected == []
    assert readings == [sent]
    for client in (publisher, subscriber):
        client.loop_stop()
        client.disconnect()
