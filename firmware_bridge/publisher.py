"""Publishing the outbox to MQTT: bridge batches at QoS 1, acknowledged readings removed, retained statuses.

Delivery is at-least-once and in order: readings are handed to paho in outbox order, at most
``max_in_flight`` batches at a time and only while connected; paho keeps un-acknowledged batches across
reconnects and resends them first, so an outage of hours neither reorders nor repeats what was already
handed over. A batch leaves the outbox only on a PUBACK that says someone took it. After a crash the
outbox is published again from its oldest row. Statuses are retained and republished on every
(re)connect; the bridge's last will marks it offline. TLS and username/password come from
:mod:`seatwatch.settings` and are never logged.

**A broker that will not have us.** paho retries a failed connection for ever (0.5 s doubling to 10 s),
and readings wait in the outbox meanwhile, so a bridge with a wrong password or the wrong CA keeps
running and loses nothing — but it must say why it publishes nothing. Each new reason (refused
CONNACK, TLS verification, unreachable) is logged once as an error naming the broker (host:port) and
the user, never the password, and every successful connection is logged too
(:class:`seatwatch.mqtt_connection.ConnectionLog`, shared with ingest and calibrate).

**No matching subscribers.** An acknowledged publish is not a delivered one: Mosquitto 2.0.11 forgets the
``$share/...`` subscriptions of ingest's persistent sessions when it restarts, and what arrives before
ingest subscribes again matches no one and is discarded. Over MQTT v5 the broker says so — PUBACK reason
code 0x10 — so the bridge keeps such readings: once nothing is in flight it rewinds to the oldest of them
and, after a backoff (0.5 s doubling to 30 s), publishes one batch at a time until a batch is taken, then
the full window again. Held readings go out before any newer one, so order is kept except among batches
already in flight while subscribers appeared. :attr:`Publisher.held_back` counts them for the status.

**A refused publish.** A PUBACK with an error code (0x80 and up — e.g. 0x87 "Not authorized" when the ACL
does not let this bridge's user publish on its topic) is no delivery either: those readings are kept and
re-sent the same way, and the first refusal of each kind is logged as an error naming the topic, so a
misconfigured bridge id or ACL shows up in the log instead of emptying the outbox into nothing.
"""

from __future__ import annotations

import json
import logging
import queue
import ssl
import time
from typing import Any

import paho.mqtt.client as mqtt

from firmware_bridge.outbox import Outbox
from seatwatch.contract import MAX_PAYLOAD_BYTES, VERSION, batch_topic, bridge_status_topic
from seatwatch.mqtt_connection import ConnectionLog
from seatwatch.settings import Services

BATCH_READINGS = 250  # ~200 bytes each: well under the contract's 64 KiB payload limit
FLUSH_EVERY_S = 1.0  # a part-full batch waits this long: a large floor is one message a second per bridge
HOLD_FIRST_S = 0.5  # first wait before readings no one subscribed to are published again ...
HOLD_MAX_S = 30.0  # ... doubling up to this

log = logging.getLogger("seatwatch.bridge")


class Publisher:
    """Owns the MQTT connection of one bridge. ``pump()`` is called from one thread (the runner's)."""

    def __init__(
        self,
        services: Services,
        site: str,
        bridge: str,
        outbox: Outbox,
        max_in_flight: int = 10,
        batch_readings: int = BATCH_READINGS,
    ) -> None:
        self.site = site
        self.bridge = bridge
        self.outbox = outbox
        self.max_in_flight = max_in_flight
        self.batch_readings = batch_readings
        self.topic = batch_topic(site, bridge)
        self.status_topic = bridge_status_topic(site, bridge)
        self._in_flight: dict[int, list[int]] = {}  # mid -> outbox ids
        self._handed_up_to = 0
        self._last_flush = 0.0
        self._acked: queue.SimpleQueue[tuple[int, bool]] = queue.SimpleQueue()  # (mid, taken by someone)
        self._held: set[int] = set()  # outbox ids the broker routed to no one, not yet taken since
        self._rewind = False  # held readings wait to be handed to paho again
        self._held_because = ""  # the last PUBACK reason that kept readings back
        self._refusals_logged: set[str] = set()
        self._hold_delay = HOLD_FIRST_S
        self._resume_at = 0.0
        self._retained: dict[str, bytes] = {}
        self.published = 0
        self._host, self._port = services.mqtt_host_port
        self._connection = ConnectionLog(services, log, "readings wait in the outbox, retrying")
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"seatwatch-bridge-{site}-{bridge}",
            protocol=mqtt.MQTTv5,  # for PUBACK reason codes
        )
        if services.mqtt_username:
            self.client.username_pw_set(services.mqtt_username, services.mqtt_password)
        if services.mqtt_tls:
            self.client.tls_set(ca_certs=services.mqtt_ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
        self.client.will_set(
            self.status_topic, self._bridge_doc("offline", "connection lost"), qos=1, retain=True
        )
        self.client.max_inflight_messages_set(max_in_flight + 50)  # statuses must never wait behind batches
        self.client.reconnect_delay_set(0.5, 10)
        self.client.on_connect = self._on_connect
        self._connection.watch(self.client)
        self.client.on_publish = self._on_publish

    def start(self) -> None:
        """Connect in the background; paho keeps retrying while the broker is down."""
        self.client.connect_async(self._host, self._port, keepalive=15, clean_start=True)
        self.client.loop_start()

    def stop(self, reason: str = "stopped") -> None:
        """Mark the bridge offline (retained) and disconnect cleanly."""
        if self.client.is_connected():
            info = self.client.publish(
                self.status_topic, self._bridge_doc("offline", reason), qos=1, retain=True
            )
            info.wait_for_publish(timeout=2)
        self.client.disconnect()
        self.client.loop_stop()

    @property
    def connected(self) -> bool:
        return self.client.is_connected()

    @property
    def held_back(self) -> int:
        """Readings the broker routed to no subscriber, kept in the outbox to be published again."""
        return len(self._held)

    def set_status(self, topic: str, doc: dict[str, Any]) -> None:
        """Publish a retained status now if connected; in any case again after every reconnect."""
        payload = json.dumps(doc, separators=(",", ":")).encode()
        self._retained[topic] = payload
        if self.connected:
            self.client.publish(topic, payload, qos=1, retain=True)

    def pump(self) -> None:
        """Settle acknowledged batches; hand the next outbox rows to paho while there is room."""
        self._settle()
        now = time.monotonic()
        if self._rewind and not self._in_flight:
            self._rewind = False
            oldest = self.outbox.take(0, 1)  # the outbox's bounds drop oldest first: those are held no more
            self._held = {i for i in self._held if oldest and i >= oldest[0][0]}
            if self._held:
                self._handed_up_to = min(self._held) - 1
                self._resume_at = now + self._hold_delay
                log.warning(
                    "%d readings were not taken (%s): publishing them again in %.1f s",
                    len(self._held),
                    self._held_because,
                    self._hold_delay,
                )
                self._hold_delay = min(self._hold_delay * 2, HOLD_MAX_S)
        window = 1 if self._held else self.max_in_flight  # probe with one batch while readings are held
        while (
            self.connected and not self._rewind and now >= self._resume_at and len(self._in_flight) < window
        ):
            rows = self.outbox.take(self._handed_up_to, self.batch_readings)
            if not rows or (
                len(rows) < self.batch_readings and time.monotonic() - self._last_flush < FLUSH_EVERY_S
            ):
                return
            payload = ("[" + ",".join(p for _, p in rows) + "]").encode()
            if len(payload) > MAX_PAYLOAD_BYTES:  # unusually large readings: send half as many
                rows = rows[: len(rows) // 2 or 1]
                payload = ("[" + ",".join(p for _, p in rows) + "]").encode()
            info = self.client.publish(self.topic, payload, qos=1)
            self._in_flight[info.mid] = [i for i, _ in rows]
            self._handed_up_to = rows[-1][0]
            self._last_flush = time.monotonic()

    def _settle(self) -> None:
        """Remove batches someone took from the outbox; keep those no one subscribed to (module doc)."""
        taken: list[int] = []
        while not self._acked.empty():
            mid, code = self._acked.get()
            ids = self._in_flight.pop(mid, [])
            if code.value == 0:  # Success: someone took it. 0x10 (no subscriber) and refusals are kept.
                taken += ids
            elif ids:
                self._held.update(ids)
                self._rewind = True
                self._held_because = str(code)
                if code.is_failure and str(code) not in self._refusals_logged:
                    self._refusals_logged.add(str(code))
                    log.error(
                        "the broker refused readings published on %s (%s): they stay in the outbox; "
                        "check that this bridge's MQTT user may publish there (ACL)",
                        self.topic,
                        code,
                    )
        if taken:
            self.outbox.remove(taken)
            self.published += len(taken)
            if self._held:
                self._held.difference_update(taken)
                self._hold_delay = HOLD_FIRST_S

    def _bridge_doc(self, state: str, reason: str) -> bytes:
        doc = {
            "v": VERSION,
            "bridge": self.bridge,
            "state": state,
            "reason": reason,
            "since": int(time.time() * 1000),
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    def _on_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: Any, properties: Any
    ) -> None:
        if not self._connection.accepted(reason):
            return
        for topic, payload in self._retained.items():
            client.publish(topic, payload, qos=1, retain=True)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason: Any, properties: Any) -> None:
        # handled in pump(): never take our locks inside paho's network thread
        self._acked.put((mid, reason))
