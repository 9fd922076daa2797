"""One running ingest process: the MQTT consumer, the point maker, the durable sink and the helpers, wired.

Threads: paho's network thread converts each message to points (so parsing overlaps with writing), the
sink thread batches, writes, spools and acknowledges, and two small threads report status and reload the
site file. A failure inside a message handler is a bug, not bad data, but it must still not stop the
service: the message is kept as a reject (``internal_error``) with its traceback logged.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from ingest.consumer import AckToken, Consumer, fetch_retained
from ingest.health import Metrics, StatusReporter, status_topic
from ingest.points import Converted, PointMaker
from ingest.sink import Sink
from ingest.site_reload import SiteReloader
from ingest.spool import Spool
from ingest.writers import Writer
from seatwatch.calibration import CalibrationBook, CalibrationRecord, record_line, records_subscription
from seatwatch.contract import Rejected
from seatwatch.settings import Services
from seatwatch.site import Site

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


class IngestService:
    def __init__(self, site: Site, services: Services, options: Options, writer: Writer) -> None:
        self.site = site
        self.services = services
        self.options = options
        self.writer = writer
        self.metrics = Metrics()
        self.book = CalibrationBook()
        self.maker = PointMaker(site, self.book)
        state = services.state_dir / "ingest" / options.client_id
        self.consumer = Consumer(
            services,
            site.id,
            options.client_id,
            options.group,
            on_reading=self._reading,
            on_calibration=self._calibration,
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
        )
        self._status_topic = status_topic(site.id, options.client_id)
        self.reporter = StatusReporter(
            self.metrics,
            lambda payload: self.consumer.publish_retained(self._status_topic, payload),
            options.status_every_s,
        )
        self.reloader = (
            SiteReloader(Path(site.path), site, self.maker.use_site, options.reload_every_s)
            if site.path
            else None
        )

    def run(self, stop: threading.Event) -> None:
        """Serve until ``stop`` is set; then flush, acknowledge what is durable and say goodbye."""
        for payload in fetch_retained(
            self.services, records_subscription(self.site.id), self.consumer.connection
        ):
            self._calibration_payload(payload, "(retained)", None)
        self.consumer.set_will(self._status_topic, json.dumps({"state": "offline"}))
        self.consumer.start()
        sink_thread = threading.Thread(target=self.sink.run, args=(stop,), name="ingest-sink")
        sink_thread.start()
        helpers = [
            threading.Thread(target=self.reporter.run, args=(stop,), name="ingest-status", daemon=True)
        ]
        if self.reloader:
            helpers.append(
                threading.Thread(target=self.reloader.run, args=(stop,), name="ingest-reload", daemon=True)
            )
        for thread in helpers:
            thread.start()
        stop.wait()
        sink_thread.join()
        self.reporter.report(state="offline")
        self.consumer.stop()
        self.writer.close()

    # -- message handlers (paho's thread) --------------------------------------------------------
    def _reading(self, message: mqtt.MQTTMessage, token: AckToken) -> None:
        self.metrics.messages.inc()
        try:
            converted = self.maker.convert(message.payload, message.topic)
        except Exception as exc:  # a bug must not stop the service; keep the message and say so
            log.exception("could not convert a message on %s", message.topic)
            raw = message.payload[:512].decode("utf-8", "replace")
            converted = Converted()
            converted.rejects["internal_error"] += 1
            converted.lines.append(
                self.maker.reject_line(
                    Rejected("internal_error", f"{type(exc).__name__}: {exc}", None, raw), message.topic
                )
            )
        if converted.rejects:
            self.metrics.count_rejects(converted.rejects)
        self.sink.add(converted.lines, token, converted.readings, converted.newest_ms)

    def _calibration(self, message: mqtt.MQTTMessage, token: AckToken) -> None:
        self._calibration_payload(message.payload, message.topic, token)

    def _calibration_payload(self, payload: bytes, topic: str, token: AckToken | None) -> None:
        """Learn a record and store its ``calibration`` point (every time: the write is idempotent)."""
        if not payload:  # a cleared retained message: nothing to learn
            self.sink.add([], token)
            return
        try:
            record = CalibrationRecord.from_json(payload)
        except (ValueError, TypeError) as exc:
            raw = payload[:512].decode("utf-8", "replace")
            self.metrics.count_rejects({"bad_calibration": 1})
            self.sink.add(
                [self.maker.reject_line(Rejected("bad_calibration", str(exc), None, raw), topic)], token
            )
            return
        if self.book.add(record):
            log.info("calibration record %s for %s (%s) learnt", record.id, record.sensor, record.quantity)
        self.sink.add([record_line(self.site.id, record)], token)
