"""Where calibration records live: an append-only local history, a retained MQTT message, InfluxDB.

The local JSON-lines history (``calibrations.jsonl`` in the state folder) is written first and only ever
appended to, so a record exists the moment the installer sees it, whatever the network does. The
retained QoS 1 message on :func:`~seatwatch.core.topics.calibration_topic` lets every ingest process
learn it without a restart; the InfluxDB point is what the compliance engine and ``calibrate list`` read.
Writing the same record twice to InfluxDB is harmless (same series, same timestamp).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from firmware_bridge.calibrate.broker import BrokerError, close, connect
from seatwatch.core.calibration_records import CalibrationBook, CalibrationRecord, load_records, record_line
from seatwatch.core.influxql import InfluxQLClient, InfluxQLError
from seatwatch.core.line_protocol import write_v1
from seatwatch.core.settings import Services
from seatwatch.core.topics import calibration_topic
from seatwatch.core.wording import plural

HISTORY_FILE = "calibrations.jsonl"
PUBLISH_TIMEOUT_S = 10.0


class HistoryError(ValueError):
    """The local history file cannot be read or written; the message names the file and line."""


class RecordStore:
    def __init__(self, site_id: str, services: Services, state_dir: Path | None = None) -> None:
        self.site_id = site_id
        self.services = services
        self.path = (state_dir or services.state_dir) / HISTORY_FILE
        self.appended = False
        """True once this store appended a record: an interruption after that must not say "nothing"."""

    def append(self, record: CalibrationRecord) -> None:
        """Add the record to the local history and make it durable before anything else happens."""
        doc = {"site": self.site_id, **json.loads(record.to_json())}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as history:
                history.write(json.dumps(doc, sort_keys=True) + "\n")
                history.flush()
                os.fsync(history.fileno())
            self.appended = True
        except OSError as exc:
            raise HistoryError(
                f"cannot append to the calibration history {self.path}: {exc.strerror}"
            ) from exc

    def local_records(self) -> list[CalibrationRecord]:
        """This site's records in the local history (none if the file does not exist yet)."""
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise HistoryError(f"cannot read the calibration history {self.path}: {exc.strerror}") from exc
        records = []
        for number, text in enumerate(lines, start=1):
            if not text.strip():
                continue
            try:
                if json.loads(text).get("site") == self.site_id:
                    records.append(CalibrationRecord.from_json(text))
            except (ValueError, AttributeError, TypeError) as exc:
                raise HistoryError(f"{self.path}:{number}: not a calibration record: {exc}") from exc
        return records

    def publish(self, record: CalibrationRecord) -> str:
        """Publish retained, QoS 1, and wait for the broker's acknowledgement; returns the topic."""
        topic = calibration_topic(self.site_id, record.sensor, record.id)
        client = connect(self.services, "publish")
        try:
            info = client.publish(topic, record.to_json(), qos=1, retain=True)
            info.wait_for_publish(PUBLISH_TIMEOUT_S)
            if not info.is_published():
                raise BrokerError(
                    f"the MQTT broker did not acknowledge {topic} within {PUBLISH_TIMEOUT_S:g} s"
                )
        finally:
            close(client)
        return topic

    def write_influx(self, record: CalibrationRecord) -> None:
        """Write the ``calibration`` point; raises :class:`~seatwatch.core.line_protocol.WriteError`."""
        s = self.services
        write_v1(s.influx_url, s.influx_db, [record_line(self.site_id, record)], token=s.influx_token)

    def book(self) -> tuple[CalibrationBook, str]:
        """Every known record — InfluxDB's when reachable, plus any only in the local history — and a
        sentence saying where they came from."""
        s = self.services
        local = self.local_records()
        try:
            book = load_records(InfluxQLClient(s.influx_url, s.influx_db, token=s.influx_token), self.site_id)
        except (InfluxQLError, ValueError) as exc:
            source = f"local history {self.path} ({plural(len(local), 'record')}); InfluxDB not used: {exc}"
            return CalibrationBook(local), source
        only_local = sum(book.add(record) for record in local)
        source = f"InfluxDB {s.influx_url} database {s.influx_db!r} ({len(book) - only_local} records)"
        if only_local:
            source += f" and {only_local} more only in the local history {self.path}"
        return book, source
