"""Publishing the outbox to MQTT: bridge batches at QoS 1, deleted only when ingest confirms them durable.

**End-to-end acknowledgement** (docs/contracts.md). A broker's PUBACK means "the broker has it", never "it
is stored": Mosquitto loses what arrived since its last autosave when it is killed, and answers Success as
soon as *any* subscriber matches — a persistent ``calibrate`` session, say — even while no ingest is
subscribed. So each batch carries an id, ``{"v":1,"batch":"<bridge>-<outbox epoch>-<first>-<last>",
"readings":[...]}``, and ingest publishes the ids it has made durable (written to InfluxDB or fsynced in
its spool) on ``seatwatch/v1/{site}/_bridge/{bridge}/ack``. Only such a confirmation deletes rows from the
outbox: the id names them (first..last row id of this outbox file, whose epoch guards against a recreated
file), so a confirmation is valid whenever it arrives — after a resend, a reconnect or a bridge restart.

**Resending.** At most ``max_in_flight`` batches wait for confirmation. When the oldest has waited
``ACK_TIMEOUT_S`` (doubling to ``ACK_TIMEOUT_MAX_S`` while nothing is confirmed) the bridge rewinds to it
and resends from there, oldest first, one batch at a time until a confirmation arrives, then the full
window again. A PUBACK 0x10 ("no matching subscribers": e.g. Mosquitto 2.0.11 forgot ingest's ``$share``
subscription in a restart) is certain news that nobody took the batch, so that batch's deadline is brought
forward to a short backoff (0.5 s doubling to 30 s). Ingest writes idempotently, so resends are harmless.

**A refused publish.** A PUBACK with an error code (0x80 and up — e.g. 0x87 "Not authorized" when the ACL
does not let this bridge's user publish on its topic) is logged once per kind as an error naming the
topic; the batch is resent like any unconfirmed one, so a misconfigured bridge id or ACL shows in the log
instead of emptying the outbox into nothing.

**A broker that will not have us.** paho retries a failed connection for ever (0.5 s doubling to 10 s),
and readings wait in the outbox meanwhile; each new reason (refused CONNACK, TLS verification,
unreachable) is logged once, naming the broker and the user, never the password
(:class:`seatwatch.core.mqtt_connection.ConnectionLog`, shared with ingest and calibrate). Statuses are
retained and republished on every (re)connect; the bridge's last will marks it offline.
"""

from __future__ import annotations

import json
import logging
import queue
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from firmware_bridge.outbox import Outbox
from seatwatch.core.contract import MAX_PAYLOAD_BYTES, VERSION, encode_batch, parse_ack
from seatwatch.core.mqtt_connection import ConnectionLog, make_client
from seatwatch.core.settings import Services
from seatwatch.core.throttled_log import ThrottledLog
from seatwatch.core.topics import ack_topic, batch_topic, bridge_status_topic

BATCH_READINGS = 250  # ~200 bytes each: well under the contract's 64 KiB payload limit
FLUSH_EVERY_S = 1.0  # a part-full batch waits this long: a large floor is one message a second per bridge
ACK_TIMEOUT_S = 15.0  # an unconfirmed batch is resent after this long ...
ACK_TIMEOUT_MAX_S = 120.0  # ... doubling up to this while nothing is confirmed
UNROUTED_FIRST_S = 0.5  # a batch no one subscribed to (PUBACK 0x10) is resent after this ...
UNROUTED_MAX_S = 30.0  # ... doubling up to this

log = logging.getLogger("seatwatch.bridge")


@dataclass
class _Sent:
    """A batch handed to paho and not yet confirmed by ingest."""

    first: int
    last: int
    count: int
    deadline: float  # monotonic time after which it is resent


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
        ack_timeout_s: float = ACK_TIMEOUT_S,
    ) -> None:
        """``ack_timeout_s``: how long a batch waits for ingest's confirmation before it is resent."""
        self.site = site
        self.bridge = bridge
        self.outbox = outbox
        self.max_in_flight = max_in_flight
        self.batch_readings = batch_readings
        self.topic = batch_topic(site, bridge)
        self.ack_topic = ack_topic(site, bridge)
        self.status_topic = bridge_status_topic(site, bridge)
        self._id_prefix = f"{bridge}-{outbox.epoch}-"
        self._sent: dict[str, _Sent] = {}  # batch id -> rows, oldest first
        self._mids: dict[int, str] = {}  # paho message id -> batch id, until its PUBACK
        self._handed_up_to = 0
        self._last_flush = 0.0
        self._confirmed: queue.SimpleQueue[list[str]] = queue.SimpleQueue()  # from ingest's acks
        self._pubacks: queue.SimpleQueue[tuple[int, ReasonCode]] = queue.SimpleQueue()  # (mid, PUBACK's)
        self._probing = False  # after a timeout: one batch at a time until something is confirmed
        self.ack_timeout_s = ack_timeout_s
        self._ack_timeout = ack_timeout_s
        self._unrouted_delay = UNROUTED_FIRST_S
        self._refusals_logged: set[str] = set()
        self._resends = ThrottledLog(log)
        self._retained: dict[str, bytes] = {}
        self.published = 0  # readings confirmed durable by ingest
        self.resent = 0  # batches published again
        self._host, self._port = services.mqtt_host_port
        self._connection = ConnectionLog(services, log, "readings wait in the outbox, retrying")
        # MQTT v5 for PUBACK reason codes (0x10 no subscribers, 0x87 refused)
        self.client = make_client(services, f"seatwatch-bridge-{site}-{bridge}", log=self._connection)
        self.client.suppress_exceptions = True  # a bug in a callback must not end paho's thread
        self.client.will_set(
            self.status_topic, self._bridge_doc("offline", "connection lost"), qos=1, retain=True
        )
        self.client.max_inflight_messages_set(max_in_flight + 50)  # statuses must never wait behind batches
        # paho annotates the delays int, but only doubles and compares them: half a second works
        self.client.reconnect_delay_set(0.5, 10)  # type: ignore[arg-type]
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_message = self._on_message

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
    def unconfirmed(self) -> int:
        """Readings published and waiting for ingest's confirmation (they stay in the outbox meanwhile)."""
        return sum(sent.count for sent in self._sent.values())

    def set_status(self, topic: str, doc: dict[str, Any]) -> None:
        """Publish a retained status now if connected; in any case again after every reconnect."""
        payload = json.dumps(doc, separators=(",", ":")).encode()
        self._retained[topic] = payload
        if self.connected:
            self.client.publish(topic, payload, qos=1, retain=True)

    def pump(self) -> None:
        """Settle confirmations and PUBACKs, resend what timed out, publish the next outbox rows.

        Raises ``sqlite3.Error`` when the outbox cannot be read or written (the runner reports it)."""
        self._settle()
        now = time.monotonic()
        if self._sent and min(sent.deadline for sent in self._sent.values()) <= now:
            self._rewind(now)
        window = 1 if self._probing else self.max_in_flight
        while self.connected and len(self._sent) < window:
            rows = self.outbox.take(self._handed_up_to, self.batch_readings)
            if not rows or (
                len(rows) < self.batch_readings and time.monotonic() - self._last_flush < FLUSH_EVERY_S
            ):
                return
            payload, rows = self._encode(rows)
            info = self.client.publish(self.topic, payload, qos=1)
            batch = f"{self._id_prefix}{rows[0][0]}-{rows[-1][0]}"
            self._sent[batch] = _Sent(rows[0][0], rows[-1][0], len(rows), now + self._ack_timeout)
            self._mids[info.mid] = batch
            self._handed_up_to = rows[-1][0]
            self._last_flush = time.monotonic()

    def _encode(self, rows: list[tuple[int, str]]) -> tuple[bytes, list[tuple[int, str]]]:
        """The batch payload for ``rows``, halving the rows while it exceeds the contract's size limit."""
        while True:
            batch = f"{self._id_prefix}{rows[0][0]}-{rows[-1][0]}"
            payload = encode_batch(batch, [p for _, p in rows])
            if len(payload) <= MAX_PAYLOAD_BYTES or len(rows) == 1:
                return payload, rows
            rows = rows[: len(rows) // 2]

    def _rewind(self, now: float) -> None:
        """Resend from the oldest unconfirmed batch on, one batch at a time until one is confirmed."""
        oldest = next(iter(self._sent.values()))
        waiting = self.unconfirmed
        self._resends.problem(
            f"{waiting} readings in {len(self._sent)} batches were not confirmed by ingest in time: "
            f"publishing them again from the oldest (next timeout {self._ack_timeout:.0f} s); "
            "they stay in the outbox meanwhile",
            logging.WARNING,
            key="resend",
        )
        self.resent += len(self._sent)
        self._sent.clear()
        self._mids.clear()
        self._handed_up_to = oldest.first - 1
        self._probing = True
        self._last_flush = 0.0  # the resend goes out now, part-full or not
        self._ack_timeout = min(self._ack_timeout * 2, max(ACK_TIMEOUT_MAX_S, self.ack_timeout_s))

    def _settle(self) -> None:
        """Delete confirmed batches from the outbox; bring forward batches the broker routed to no one."""
        while not self._confirmed.empty():
            for batch in self._confirmed.get():
                rows = self._rows_of(batch)
                if rows is None:
                    continue
                removed = self.outbox.remove_range(*rows)
                self.published += removed
                self._sent.pop(batch, None)
                self._probing = False
                self._ack_timeout = self.ack_timeout_s
                self._unrouted_delay = UNROUTED_FIRST_S
                if removed:
                    self._resends.resolved("ingest confirms batches again")
        while not self._pubacks.empty():
            mid, code = self._pubacks.get()
            published = self._mids.pop(mid, None)
            if code.value == 0 or published is None:
                continue
            if code.is_failure and str(code) not in self._refusals_logged:
                self._refusals_logged.add(str(code))
                log.error(
                    "the broker refused readings published on %s (%s): they stay in the outbox; "
                    "check that this bridge's MQTT user may publish there (ACL)",
                    self.topic,
                    code,
                )
            sent = self._sent.get(published)
            if sent is not None:  # no subscriber (0x10) or refused: nobody has it, resend soon
                sent.deadline = min(sent.deadline, time.monotonic() + self._unrouted_delay)
                self._unrouted_delay = min(self._unrouted_delay * 2, UNROUTED_MAX_S)

    def _rows_of(self, batch: str) -> tuple[int, int] | None:
        """The outbox rows a confirmed id names, or None when it is not one of this outbox's ids."""
        if not batch.startswith(self._id_prefix):
            return None
        first, _, last = batch[len(self._id_prefix) :].partition("-")
        if not (first.isdigit() and last.isdigit()) or int(first) > int(last):
            return None
        return int(first), int(last)

    def _bridge_doc(self, state: str, reason: str) -> bytes:
        doc = {
            "v": VERSION,
            "bridge": self.bridge,
            "state": state,
            "reason": reason,
            "since": int(time.time() * 1000),
            "clock_ms": int(time.time() * 1000),
        }
        return json.dumps(doc, separators=(",", ":")).encode()

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not self._connection.accepted(reason):
            return
        client.subscribe(self.ack_topic, qos=1)
        for topic, payload in self._retained.items():
            client.publish(topic, payload, qos=1, retain=True)

    def _on_publish(
        self, client: mqtt.Client, userdata: Any, mid: int, reason: ReasonCode, properties: Properties
    ) -> None:
        # handled in pump(): never take our locks inside paho's network thread
        self._pubacks.put((mid, reason))

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        if message.topic == self.ack_topic:
            self._confirmed.put(parse_ack(message.payload))
