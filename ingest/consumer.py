"""The MQTT side of ingest: a persistent MQTT v5 session on a shared subscription, with manual acks.

Everything docs/dependencies.md measured about a restart-safe consumer is here: QoS 1, a fixed client id with
``clean_start=False`` and a session expiry (the broker keeps our messages while we are down), paho's
``manual_ack=True`` (a message is acknowledged by :meth:`Consumer.ack` once the sink made it durable) and a
Receive Maximum that lets enough messages in flight to fill a batch. Readings arrive on
``$share/<group>/...`` so several ingest processes split them; calibration records arrive on a plain
(not shared) subscription because every process needs every record.

Mosquitto 2.0.11 does not restore *shared* subscriptions from its persistence file after a restart (plain
ones it does), so we subscribe on *every* connect, whether or not the broker says our session was present.
Readings published before that match no subscriber; the broker tells their publisher so (MQTT v5 PUBACK
0x10) and bridges keep them and publish them again (firmware_bridge/publisher.py), so nothing is lost.
With ``group=None`` ingest uses plain subscriptions — one ingest process per site.

An acknowledgement is tied to the connection that delivered the message: after a reconnect the broker
resends unacknowledged messages (``dup``), so acking an old packet id on the new connection could
acknowledge a different message. Acks of an older connection are dropped; the resent copies are written
again, harmlessly (idempotent points).

**End-to-end acknowledgement.** A PUBACK only tells a bridge that the broker has a batch — brokers crash
between autosaves and answer Success when any other subscriber exists. So once a bridge batch is durable
ingest also publishes its id on the bridge's ``.../_bridge/{bridge}/ack`` topic (QoS 1, not retained);
only that makes the bridge delete it from its outbox (firmware_bridge/publisher.py). Unlike a PUBACK, such
an ack is valid whichever connection delivered the batch: the data is durable either way.

A broker that refuses us (wrong user or password), a CA that did not sign its certificate, or a broker
out of reach: paho retries for ever and nothing is lost meanwhile (the broker queues readings for our
session; those no session subscribed to, bridges keep), but ingest must say why it stores nothing — once
per reason, naming the broker and the user, never the password
(:class:`seatwatch.core.mqtt_connection.ConnectionLog`, shared with the bridge).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from seatwatch.core.contract import encode_ack
from seatwatch.core.mqtt_connection import ConnectionLog, failure, make_client, refusal
from seatwatch.core.settings import Services
from seatwatch.core.topics import (
    ack_topic,
    bridge_status_subscription,
    calibration_subscription,
    reading_subscriptions,
    shared,
)

log = logging.getLogger("seatwatch.ingest")


class AckToken(NamedTuple):
    """What the sink hands back to acknowledge a message once its points are durable."""

    generation: int  # the connection that delivered it: a PUBACK is valid on that connection only
    mid: int
    qos: int
    bridge: str | None = None  # a bridge batch to confirm end to end ...
    batch: str | None = None  # ... and its id


Handler = Callable[[mqtt.MQTTMessage, AckToken], None]


def fetch_retained(
    services: Services, topic: str, connection: ConnectionLog, quiet_s: float = 0.5, timeout_s: float = 10.0
) -> list[tuple[str, bytes | bytearray]]:
    """Retained (topic, payload) pairs under ``topic``, read with a throw-away clean session.

    Calibration records must be known *before* the persistent session starts delivering queued readings
    (those arrive at connect, ahead of any subscription's retained messages). A broker that refuses us
    ends the wait at once. Reasons go to ``connection``, the consumer's: it does not repeat them.
    """
    received: queue.Queue[tuple[str, bytes | bytearray]] = queue.Queue()  # paho's payload type
    answered = threading.Event()  # subscribed, or refused
    refused = threading.Event()

    def on_connect(client: mqtt.Client, _userdata: Any, _flags: Any, reason: Any, _props: Any) -> None:
        if reason.is_failure:
            connection.report(refusal(services, reason))
            refused.set()
            answered.set()
        else:
            client.subscribe(topic, qos=1)

    client = make_client(services, f"seatwatch-ingest-prefetch-{time.time_ns()}")
    client.on_connect = on_connect
    client.on_subscribe = lambda *_args: answered.set()
    client.on_message = lambda _c, _u, message: (
        received.put((message.topic, message.payload)) if message.retain else None
    )
    host, port = services.mqtt_host_port
    payloads: list[tuple[str, bytes | bytearray]] = []
    try:
        client.connect(host, port, keepalive=30)
    except OSError as exc:
        connection.report(failure(services, exc))
        return payloads
    client.loop_start()
    try:
        if not answered.wait(timeout_s):
            log.warning("no answer from %s while reading retained calibration records", services.mqtt_url)
            return payloads
        if refused.is_set():
            return payloads
        while True:
            try:
                payloads.append(received.get(timeout=quiet_s))
            except queue.Empty:
                return payloads
    finally:
        client.disconnect()
        client.loop_stop()


class Consumer:
    def __init__(
        self,
        services: Services,
        site: str,
        client_id: str,
        group: str | None,
        on_reading: Handler,
        on_calibration: Handler,
        on_bridge_status: Handler,
        session_expiry_s: int = 7 * 24 * 3600,
        receive_maximum: int = 1000,
    ) -> None:
        """Handlers run in paho's thread: wrap them (seatwatch.core.supervision) so that none can kill it."""
        self.services = services
        self.site = site
        self.client_id = client_id
        self.group = group
        self.session_expiry_s = session_expiry_s
        self.receive_maximum = receive_maximum
        self._on_reading = on_reading
        self._on_calibration = on_calibration
        self._on_bridge_status = on_bridge_status
        self._calibration_filter = calibration_subscription(site)
        self._status_filter = bridge_status_subscription(site)
        self._generation = 0
        self.connection = ConnectionLog(
            services, log, "readings wait at the broker or in the bridges meanwhile, retrying"
        )
        self.client = make_client(services, client_id, manual_ack=True, log=self.connection)
        self.client.suppress_exceptions = True  # belt and braces: paho's thread must outlive any bug
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        # Reconnect fast: until we re-subscribe after a broker restart, bridges hold their readings back.
        self.client.reconnect_delay_set(0.1, 5)  # type: ignore[arg-type]  # paho sleeps a float fine

    @property
    def subscriptions(self) -> list[str]:
        topics = reading_subscriptions(self.site)
        return [shared(self.group, topic) for topic in topics] if self.group else topics

    def set_will(self, topic: str, payload: str) -> None:
        self.client.will_set(topic, payload, qos=1, retain=True)

    def start(self) -> None:
        """Connect in the background; paho reconnects by itself after a broker restart."""
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.session_expiry_s
        props.ReceiveMaximum = self.receive_maximum
        host, port = self.services.mqtt_host_port
        self.client.connect_async(host, port, keepalive=30, clean_start=False, properties=props)
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish_retained(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1, retain=True)

    def ack(self, tokens: list[AckToken | None]) -> None:
        """Acknowledge durable messages: PUBACKs on the connection that delivered them (tokens of an earlier
        one are skipped, see module doc), and bridge batches end to end whatever the connection.

        ``None`` stands for data that came without a message to acknowledge (prefetched records)."""
        generation = self._generation
        confirmed: dict[str, list[str]] = {}
        for token in tokens:
            if token is None:
                continue
            if token.qos and token.generation == generation:
                self.client.ack(token.mid, token.qos)
            if token.bridge is not None and token.batch is not None:
                confirmed.setdefault(token.bridge, []).append(token.batch)
        for bridge, batches in confirmed.items():
            # Not retained: a bridge that is away resends and gets a fresh ack (writes are idempotent).
            self.client.publish(ack_topic(self.site, bridge), encode_ack(batches), qos=1)

    def _connected(self, client: mqtt.Client, _userdata: Any, flags: Any, reason: Any, _props: Any) -> None:
        session = "resumed" if flags.session_present else "new"
        if not self.connection.accepted(reason, f" as {self.client_id} (session {session})"):
            return
        self._generation += 1
        # Always, even with session_present: the broker may have kept the session but not its $share filters.
        options = SubscribeOptions(qos=1)
        topics = [(topic, options) for topic in self.subscriptions]
        topics.append((self._calibration_filter, options))
        topics.append((self._status_filter, options))
        client.subscribe(topics)

    def _disconnected(self, _client: mqtt.Client, _u: Any, _flags: Any, reason: Any, _props: Any) -> None:
        self._generation += 1
        self.connection.lost(reason)

    def _message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        token = AckToken(self._generation, message.mid, message.qos)
        if mqtt.topic_matches_sub(self._calibration_filter, message.topic):
            self._on_calibration(message, token)
        elif mqtt.topic_matches_sub(self._status_filter, message.topic):
            self._on_bridge_status(message, token)
        else:
            self._on_reading(message, token)
