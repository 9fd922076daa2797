"""One running ingest process: the MQTT consumer, the point maker, the durable sink and the helpers, wired.

Threads: paho's network thread converts each message to points (so parsing overlaps with writing), the
sink thread batches, writes, spools and acknowledges, and two small threads report status and reload the
site file. Every one is supervised (seatwatch/core/supervision.py): the sink, status and reload threads are
restarted with backoff after an unexpected exception, and the message handlers paho calls are guarded so a
bug never kills paho's thread; meanwhile the status says ``degraded`` with the reason. A failure inside a
message handler is a bug, not bad data: the message is kept as a reject (``internal_error``) with its
traceback logged, and acknowledged, so one poisonous message cannot block the session.

Bridges put their wall clock in their status; ingest compares it with its own on each live (not retained)
status and reports the skew in its status, its metrics and the ``bridge_status`` measurement. Readings are
never moved in time: a skewed clock is for a person to fix.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from ingest.consumer import AckToken, Consumer, fetch_retained
from ingest.health import Metrics, StatusReporter
from ingest.reading_points import Converted, PointMaker
from ingest.sink import Sink
from ingest.site_reload import SiteReloader
from ingest.spool import Spool
from ingest.writers import Writer
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord, record_line
from seatwatch.core.contract import Rejected
from seatwatch.core.line_protocol import line
from seatwatch.core.schema import BridgeStatus
from seatwatch.core.settings import Services
from seatwatch.core.site import Site
from seatwatch.core.supervision import Supervisor
from seatwatch.core.topics import calibration_subscription, ingest_status_topic, topic_bridge
from seatwatch.core.vocabulary import RejectReason

log = logging.getLogger("seatwatch.ingest")


@dataclass(frozen=True)
class Options:
    client_id: str
    group: str | None  # None: plain (not shared) subscriptions
    batch_size: int = 5000
    linger_s: float = 0.2
    receive_maximum: int = 1000
    session_expiry_s: int = 7 * 24 * 3600
    spool_max_bytes: int = 1 << 30
    status_every_s: float = 30.0
    reload_every_s: float = 2.0
    create_database: bool = True


class IngestService:
    def __init__(self, site: Site, services: Services, options: Options, writer: Writer) -> None:
        self.site = site
        self.services = services
        self.options = options
        self.writer = writer
        self.metrics = Metrics()
        self.book = CalibrationBook()
        self.maker = PointMaker(site, self.book)
        self.supervisor = Supervisor(log, on_failure=self._worker_failed)
        state = services.state_dir / "ingest" / options.client_id
        self.consumer = Consumer(
            services,
            site.id,
            options.client_id,
            options.group,
            on_reading=self.supervisor.guard("mqtt-readings", self._reading),
            on_calibration=self.supervisor.guard("mqtt-calibration", self._calibration),
            on_bridge_status=self.supervisor.guard("mqtt-bridge-status", self._bridge_status),
            session_expiry_s=options.session_expiry_s,
            receive_maximum=options.receive_maximum,
        )
        self.sink = Sink(
            writer,
            Spool(state / "spool", options.spool_max_bytes),
            Spool(state / "refused", 1 << 62),
            self.metrics,
            self.consumer.ack,
            batch_size=options.batch_size,
            linger_s=options.linger_s,
            flush_messages=max(1, options.receive_maximum // 2),
            create_database=options.create_database,
            where=f"at {services.influx_url} (database {services.influx_db!r})",
        )
        self._status_topic = ingest_status_topic(site.id, options.client_id)
        self.reporter = StatusReporter(
            self.metrics,
            lambda payload: self.consumer.publish_retained(self._status_topic, payload),
            options.status_every_s,
            self.health,
        )
        self._bad_record_topics: set[str] = set()
        self.reloader = (
            SiteReloader(Path(site.path), site, self.maker.use_site, options.reload_every_s)
            if site.path
            else None
        )

    def health(self) -> tuple[str, list[str]]:
        """``("online", [])``, or ``("degraded", reasons)`` while a worker failed or nothing can be made
        durable (a full spool disk, refused credentials): the status must never say online then."""
        reasons = self.supervisor.problems()
        if self.sink.problem:
            reasons.append(f"sink: {self.sink.problem}")
        return ("degraded" if reasons else "online"), reasons

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set; then flush, acknowledge what is durable and say goodbye."""
        for topic, payload in fetch_retained(
            self.services, calibration_subscription(self.site.id), self.consumer.connection
        ):
            self.supervisor.guard("prefetch", self._calibration_payload)(payload, topic, None)
        self.consumer.set_will(self._status_topic, json.dumps({"state": "offline"}))
        self.consumer.start()
        sink_thread = self.supervisor.start("ingest-sink", self.sink.run, stop, daemon=False)
        self.supervisor.start("ingest-status", self.reporter.run, stop)
        if self.reloader:
            self.supervisor.start("ingest-reload", self.reloader.run, stop)
        stop.wait()
        sink_thread.join()
        self.reporter.report(state="offline")
        self.consumer.stop()
        self.writer.close()

    def _worker_failed(self, name: str, _exc: BaseException) -> None:
        self.metrics.worker_restarts.labels(name).inc()

    # -- message handlers (paho's thread) --------------------------------------------------------
    def _reading(self, message: mqtt.MQTTMessage, token: AckToken) -> None:
        self.metrics.messages.inc()
        try:
            converted = self.maker.convert(message.payload, message.topic)
        except Exception as exc:  # a bug must not stop the service; keep the message and say so
            log.exception("could not convert a message on %s", message.topic)
            raw = message.payload[:512].decode("utf-8", "replace")
            converted = Converted()
            converted.rejects[RejectReason.INTERNAL_ERROR] += 1
            converted.lines.append(
                self.maker.reject_line(
                    Rejected(RejectReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", None, raw),
                    message.topic,
                )
            )
        if converted.rejects:
            self.metrics.count_rejects(converted.rejects)
        bridge = topic_bridge(message.topic)
        if converted.batch is not None and bridge is not None:
            token = token._replace(bridge=bridge, batch=converted.batch)
        self.sink.add(converted.lines, token, converted.readings, converted.newest_ms)

    def _calibration(self, message: mqtt.MQTTMessage, token: AckToken) -> None:
        self._calibration_payload(message.payload, message.topic, token)

    def _calibration_payload(self, payload: bytes | bytearray, topic: str, token: AckToken | None) -> None:
        """Learn a record and store its ``calibration`` point (every time: the write is idempotent)."""
        if not payload:  # a cleared retained message: nothing to learn
            self.sink.add([], token)
            return
        try:
            record = CalibrationRecord.from_json(payload)
        except ValueError as exc:  # BadRecord: refused, counted, logged once per record topic
            raw = payload[:512].decode("utf-8", "replace")
            self.metrics.count_rejects({RejectReason.BAD_CALIBRATION: 1})
            if topic not in self._bad_record_topics:
                self._bad_record_topics.add(topic)
                log.error("calibration record on %s refused (readings stay uncorrected): %s", topic, exc)
            self.sink.add(
                [self.maker.reject_line(Rejected(RejectReason.BAD_CALIBRATION, str(exc), None, raw), topic)],
                token,
            )
            return
        if self.book.add(record):
            log.info("calibration record %s for %s (%s) learnt", record.id, record.sensor, record.quantity)
        self.sink.add([record_line(self.site.id, record)], token)

    def _bridge_status(self, message: mqtt.MQTTMessage, token: AckToken) -> None:
        """A bridge's status: its clock skew from a live one (a retained one may be hours old)."""
        received = time.time()
        bridge = topic_bridge(message.topic)
        lines: list[str] = []
        doc: Any = None
        if not message.retain and bridge is not None:
            try:
                doc = json.loads(message.payload)
            except (ValueError, RecursionError):
                doc = None
        clock = doc.get("clock_ms") if isinstance(doc, dict) else None
        if bridge is not None and type(clock) is int and 0 < clock < 2**53:
            skew = clock / 1000 - received
            self.metrics.set_skew(bridge, skew)
            fields: dict[str, float | int | str | None] = {BridgeStatus.CLOCK_SKEW_S: round(skew, 3)}
            # The schema's counters are named as the bridge's status document names them.
            for key in (BridgeStatus.OUTBOX, BridgeStatus.OUTBOX_FULL, BridgeStatus.UNCONFIRMED):
                if type(doc.get(key)) is int:
                    fields[key] = doc[key]
            fields[BridgeStatus.STATE] = str(doc.get("state", ""))[:32]
            tags = {
                BridgeStatus.SITE: self.site.id,
                BridgeStatus.BRIDGE: bridge,
                BridgeStatus.INGEST: self.options.client_id,
            }
            lines.append(line(BridgeStatus.NAME, tags, fields, int(received * 1e9)))
        self.sink.add(lines, token)
