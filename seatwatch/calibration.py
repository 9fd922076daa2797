"""Calibration records: the append-only history of how each sensor was corrected, and when.

A record is never edited; a newer record for the same sensor and quantity supersedes the older one from
its ``performed_at`` on. Ingest applies the record in force at each reading's time (noise: a dB offset;
light: a gain, STANDARDS.md §6), so readings taken before a calibration keep the correction they had.

Distribution (docs/calibration.md): ``seatwatch calibrate`` publishes each record retained, QoS 1, on
:func:`record_topic`; every ingest process subscribes to :func:`records_subscription` and so learns new
records without a restart, and writes them to the ``calibration`` measurement that the compliance engine
and dashboards read.
"""

from __future__ import annotations

import bisect
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from seatwatch.contract import TOPIC_ROOT
from seatwatch.influxql import InfluxQLClient, quote_string
from seatwatch.line_protocol import line

MEASUREMENT = "calibration"


@dataclass(frozen=True)
class Instrument:
    """The reference the installer used: a sound calibrator or a reference lux meter."""

    model: str = ""
    serial: str = ""
    accuracy_class: str = ""
    certificate_date: str = ""  # ISO date of the instrument's own calibration certificate


@dataclass(frozen=True)
class CalibrationRecord:
    id: str
    sensor: str
    quantity: str  # "noise" | "light"
    method: str  # e.g. "sound-calibrator", "reference-lux-meter"
    performed_at: datetime  # aware, UTC
    valid_until: datetime
    offset_db: float | None = None  # noise: calibrated = raw + offset_db
    gain: float | None = None  # light: calibrated = raw * gain
    reference_value: float | None = None  # dB or lx the reference said
    instrument: Instrument = field(default_factory=Instrument)
    operator: str = ""
    pre_deviation: float | None = None
    post_deviation: float | None = None
    previous_id: str | None = None
    drift: float | None = None  # change since the previous record (dB, or relative gain)
    drift_flagged: bool = False
    notes: str = ""

    def apply(self, raw: float) -> float:
        """The calibrated value of a raw reading of this record's quantity."""
        if self.quantity == "noise":
            return raw + (self.offset_db or 0.0)
        return raw * (self.gain if self.gain is not None else 1.0)

    def valid_at(self, t: datetime) -> bool:
        return self.performed_at <= t < self.valid_until

    def to_json(self) -> str:
        doc = asdict(self)
        doc["performed_at"] = self.performed_at.astimezone(UTC).isoformat()
        doc["valid_until"] = self.valid_until.astimezone(UTC).isoformat()
        return json.dumps(doc, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | bytes) -> CalibrationRecord:
        """Parse a record; raises ValueError naming the missing or malformed key."""
        try:
            doc: dict[str, Any] = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"calibration record is not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise ValueError("calibration record must be a JSON object")
        for key in ("id", "sensor", "quantity", "method", "performed_at", "valid_until"):
            if key not in doc:
                raise ValueError(f"calibration record lacks {key!r}")
        if doc["quantity"] not in ("noise", "light"):
            raise ValueError(f"calibration record quantity {doc['quantity']!r} is not 'noise' or 'light'")
        doc["instrument"] = Instrument(**doc.get("instrument") or {})
        for key in ("performed_at", "valid_until"):
            moment = datetime.fromisoformat(doc[key])
            if moment.tzinfo is None:
                raise ValueError(f"calibration record {key} {doc[key]!r} has no time zone")
            doc[key] = moment.astimezone(UTC)
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in doc.items() if k in known})


def record_topic(site: str, record: CalibrationRecord) -> str:
    return f"{TOPIC_ROOT}/{site}/_calibration/{record.sensor}/{record.id}"


def records_subscription(site: str) -> str:
    return f"{TOPIC_ROOT}/{site}/_calibration/+/+"


class CalibrationBook:
    """All known records, answering "which record was in force for this sensor at that time?"."""

    def __init__(self, records: list[CalibrationRecord] | None = None) -> None:
        self._by_key: dict[tuple[str, str], list[CalibrationRecord]] = {}
        self._ids: set[str] = set()
        for record in records or []:
            self.add(record)

    def add(self, record: CalibrationRecord) -> bool:
        """Add a record; returns False if it was already known (records arrive again on reconnect)."""
        if record.id in self._ids:
            return False
        self._ids.add(record.id)
        history = self._by_key.setdefault((record.sensor, record.quantity), [])
        bisect.insort(history, record, key=lambda r: r.performed_at)
        return True

    def in_force(self, sensor: str, quantity: str, t: datetime) -> CalibrationRecord | None:
        """The latest record performed at or before ``t`` (it may have expired: check ``valid_at``)."""
        history = self._by_key.get((sensor, quantity), [])
        index = bisect.bisect_right(history, t, key=lambda r: r.performed_at)
        return history[index - 1] if index else None

    def history(self, sensor: str, quantity: str) -> list[CalibrationRecord]:
        return list(self._by_key.get((sensor, quantity), []))

    def __len__(self) -> int:
        return len(self._ids)


def record_line(site: str, record: CalibrationRecord) -> str:
    """The ``calibration`` point for a record (docs/contracts.md): timestamp = performed_at, so writing the
    same record twice is idempotent."""
    fields: dict[str, float | int | bool | str | None] = {
        "id": record.id,
        "method": record.method,
        "offset_db": record.offset_db,
        "gain": record.gain,
        "valid_until_ms": int(record.valid_until.timestamp() * 1000),
        "operator": record.operator,
        "drift": record.drift,
        "drift_flagged": record.drift_flagged,
        "record": record.to_json(),
    }
    tags = {"site": site, "sensor": record.sensor, "quantity": record.quantity}
    return line(MEASUREMENT, tags, fields, int(record.performed_at.timestamp() * 1_000_000_000))


def load_records(client: InfluxQLClient, site: str) -> CalibrationBook:
    """Every record of ``site`` stored in the ``calibration`` measurement."""
    series = client.query(f'SELECT "record" FROM "{MEASUREMENT}" WHERE "site" = {quote_string(site)}')
    return CalibrationBook([CalibrationRecord.from_json(row["record"]) for s in series for row in s.rows()])
