"""Calibration records: the append-only history of how each sensor was corrected, and when.

A record is never edited; a newer record for the same sensor and quantity supersedes the older one from
its ``performed_at`` on. Ingest applies the record in force at each reading's time (noise: a dB offset;
light: a gain, docs/standards.md §6), so readings taken before a calibration keep the correction they had.

Distribution (docs/calibration.md): ``seatwatch calibrate`` publishes each record retained, QoS 1, on
:func:`seatwatch.core.topics.calibration_topic`; every ingest process subscribes to
:func:`~seatwatch.core.topics.calibration_subscription` and so learns new
records without a restart, and writes them to the ``calibration`` measurement that the compliance engine
and dashboards read.
"""

from __future__ import annotations

import bisect
import json
import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from seatwatch.core.influxql import InfluxQLClient, quote_ident, quote_string
from seatwatch.core.line_protocol import line
from seatwatch.core.schema import Calibration
from seatwatch.core.vocabulary import Quantity, member_of

log = logging.getLogger("seatwatch.core.calibration_records")


@dataclass(frozen=True)
class Instrument:
    """The reference the installer used: a sound calibrator or a reference lux meter."""

    model: str = ""
    serial: str = ""
    accuracy_class: str = ""
    certificate_date: str = ""  # ISO date the instrument's own calibration certificate is valid from
    certificate_number: str = ""
    certificate_valid_until: str = ""  # ISO date, inclusive


PROVENANCE = (
    "operator",
    "instrument.model",
    "instrument.serial",
    "instrument.accuracy_class",
    "instrument.certificate_number",
    "instrument.certificate_date",
    "instrument.certificate_valid_until",
)
"""What a record must name to be evidence: who calibrated, with which reference, certified until when."""


def missing_provenance(operator: str, instrument: Instrument) -> list[str]:
    """The :data:`PROVENANCE` keys left empty."""
    values = {"operator": operator, **{f"instrument.{k}": v for k, v in asdict(instrument).items()}}
    return [key for key in PROVENANCE if not str(values[key]).strip()]


def certificate_problem(instrument: Instrument, day: date) -> str | None:
    """Why the reference's own certificate does not cover ``day`` (expired, not yet valid, unreadable
    dates), or None when it does."""
    try:
        start = date.fromisoformat(instrument.certificate_date)
        end = date.fromisoformat(instrument.certificate_valid_until)
    except ValueError:
        return "its validity dates are missing or not ISO dates (YYYY-MM-DD)"
    number = instrument.certificate_number or "(no number)"
    if day < start:
        return f"certificate {number} is not valid before {start.isoformat()}"
    if day > end:
        return f"certificate {number} expired on {end.isoformat()}"
    return None


@dataclass(frozen=True)
class CalibrationRecord:
    id: str
    sensor: str
    quantity: Quantity
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
    sensor_model: str = ""  # the site file's model of the sensor, at calibration time
    seat: str = ""  # where the sensor was installed at calibration time ("" = not installed)
    outside_usual_range: bool = False  # the installer confirmed a result outside the model's usual range
    usual_range: str = ""  # that range, in words ("gain 0.5 to 2")
    ambient_temperature_c: float | None = None
    ambient_humidity_pct: float | None = None
    ambient_pressure_kpa: float | None = None
    points: list[list[float]] = field(default_factory=list)  # light: [sensor lx, reference lx] per point
    uncertainty: dict[str, float] = field(default_factory=dict)  # budget; see docs/calibration.md

    def provenance_problems(self) -> list[str]:
        """Why this record is not evidence (missing provenance, reference not certified on the day); the
        compliance engine counts a record with any as not valid. Old records without provenance still
        parse and still correct readings: they are just not evidence."""
        problems = [f"lacks {key}" for key in missing_provenance(self.operator, self.instrument)]
        if not problems and (problem := certificate_problem(self.instrument, self.performed_at.date())):
            problems.append(f"reference instrument {problem}")
        return problems

    def apply(self, raw: float) -> float:
        """The calibrated value of a raw reading of this record's quantity."""
        if self.quantity == Quantity.NOISE:
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
    def from_json(cls, text: str | bytes | bytearray) -> CalibrationRecord:
        """Parse and check a record; raises :class:`BadRecord` (a ValueError) naming the key at fault.

        Records arrive retained over MQTT from anyone the broker lets publish there, so nothing in them is
        trusted: every key has its type checked, every number must be finite, dates must lie in 2000–2100
        (beyond, ``astimezone`` overflows or the record is nonsense), and the correction must be one that
        can be applied — an offset for noise, a gain above zero for light (a gain ≤ 0 would make lux zero
        or negative). Plausibility (is a gain of 1.9 sensible for this model?) is the calibration tool's
        business; these are the hard limits without which ingest would store garbage or crash.
        """
        try:
            doc = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise BadRecord(f"calibration record is not JSON: {exc}") from exc
        if not isinstance(doc, dict):
            raise BadRecord("calibration record must be a JSON object")
        values: dict[str, Any] = {}
        for key, kind in _FIELD_TYPES.items():
            if key not in doc or doc[key] is None:
                if key in _REQUIRED:
                    raise BadRecord(f"calibration record lacks {key!r}")
                continue
            values[key] = _checked(doc[key], kind, key)
        for key in ("id", "sensor", "method"):
            if not values[key]:
                raise BadRecord(f"calibration record {key} is empty")
        if "/" in values["id"] or "/" in values["sensor"]:
            raise BadRecord("calibration record id and sensor must not contain '/'")
        quantity = member_of(Quantity, values["quantity"])
        if quantity is None:
            raise BadRecord(f"calibration record quantity {values['quantity']!r} is not 'noise' or 'light'")
        values["quantity"] = quantity
        if quantity == Quantity.NOISE and "offset_db" not in values:
            raise BadRecord("noise calibration record lacks 'offset_db'")
        if quantity == Quantity.LIGHT:
            if "gain" not in values:
                raise BadRecord("light calibration record lacks 'gain'")
            if values["gain"] <= 0:
                raise BadRecord(f"calibration record gain {values['gain']} is not above 0")
        for key in ("performed_at", "valid_until"):
            values[key] = _moment(values[key], f"calibration record {key}")
        if values["valid_until"] <= values["performed_at"]:
            raise BadRecord("calibration record valid_until is not after performed_at")
        instrument = doc.get("instrument") or {}
        if not isinstance(instrument, dict):
            raise BadRecord("calibration record instrument must be an object")
        values.update(_measurement_details(doc))
        values["instrument"] = Instrument(
            **{
                key: _checked(instrument[key], str, f"instrument.{key}")
                for key in Instrument.__dataclass_fields__
                if instrument.get(key) is not None
            }
        )
        return cls(**values)


class BadRecord(ValueError):
    """A calibration record that cannot be used; the message names the key at fault."""


_REQUIRED = ("id", "sensor", "quantity", "method", "performed_at", "valid_until")
_FIELD_TYPES: dict[str, type] = {
    "id": str,
    "sensor": str,
    "quantity": str,
    "method": str,
    "performed_at": str,
    "valid_until": str,
    "offset_db": float,
    "gain": float,
    "reference_value": float,
    "operator": str,
    "pre_deviation": float,
    "post_deviation": float,
    "previous_id": str,
    "drift": float,
    "drift_flagged": bool,
    "notes": str,
    "sensor_model": str,
    "seat": str,
    "outside_usual_range": bool,
    "usual_range": str,
    "ambient_temperature_c": float,
    "ambient_humidity_pct": float,
    "ambient_pressure_kpa": float,
}


def _measurement_details(doc: dict[str, Any]) -> dict[str, Any]:
    """The record's ``points`` (pairs of lux) and ``uncertainty`` (numbers by name), type-checked."""
    out: dict[str, Any] = {}
    points = doc.get("points")
    if points is not None:
        if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
            raise BadRecord("calibration record points must be a list of [sensor lx, reference lx] pairs")
        out["points"] = [[_checked(v, float, f"points[{n}]") for v in p] for n, p in enumerate(points)]
    budget = doc.get("uncertainty")
    if budget is not None:
        if not isinstance(budget, dict):
            raise BadRecord("calibration record uncertainty must be an object")
        out["uncertainty"] = {str(k): _checked(v, float, f"uncertainty.{k}") for k, v in budget.items()}
    return out


def _checked(value: Any, kind: type, key: str) -> Any:
    """``value`` if it is of ``kind`` (ints count as floats, bools never as numbers), finite if a number."""
    if kind is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise BadRecord(f"calibration record {key} must be a number, not {type(value).__name__}")
        try:
            number = float(value)
        except OverflowError:
            raise BadRecord(f"calibration record {key} is far too large") from None
        if not math.isfinite(number):
            raise BadRecord(f"calibration record {key} is {number}, not a finite number")
        return number
    if not isinstance(value, kind):
        raise BadRecord(f"calibration record {key} must be {kind.__name__}, not {type(value).__name__}")
    return value


def _moment(text: str, what: str) -> datetime:
    """An aware ISO 8601 time inside 2000–2100, in UTC.

    The range is checked on the local wall time, before converting: ``0001-01-01T00:00:00+01:00`` would
    overflow ``astimezone`` (a day's margin keeps every offset inside datetime's range)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise BadRecord(f"{what} {text[:40]!r} is not an ISO 8601 time: {exc}") from None
    if moment.tzinfo is None:
        raise BadRecord(f"{what} {text[:40]!r} has no time zone")
    if not datetime(2000, 1, 2) <= moment.replace(tzinfo=None) <= datetime(2099, 12, 31):
        raise BadRecord(f"{what} {text[:40]!r} is outside 2000–2100")
    return moment.astimezone(UTC)


class CalibrationBook:
    """All known records, answering "which record was in force for this sensor at that time?"."""

    def __init__(self, records: list[CalibrationRecord] | None = None) -> None:
        self._by_key: dict[tuple[str, Quantity], list[CalibrationRecord]] = {}
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

    def in_force(self, sensor: str, quantity: Quantity, t: datetime) -> CalibrationRecord | None:
        """The latest record performed at or before ``t`` (it may have expired: check ``valid_at``)."""
        history = self._by_key.get((sensor, quantity), [])
        index = bisect.bisect_right(history, t, key=lambda r: r.performed_at)
        return history[index - 1] if index else None

    def history(self, sensor: str, quantity: Quantity) -> list[CalibrationRecord]:
        return list(self._by_key.get((sensor, quantity), []))

    def __len__(self) -> int:
        return len(self._ids)


def record_line(site: str, record: CalibrationRecord) -> str:
    """The ``calibration`` point for a record (docs/contracts.md): timestamp = performed_at, so writing the
    same record twice is idempotent."""
    fields: dict[str, float | int | bool | str | None] = {
        Calibration.ID: record.id,
        Calibration.METHOD: record.method,
        Calibration.OFFSET_DB: record.offset_db,
        Calibration.GAIN: record.gain,
        Calibration.VALID_UNTIL_MS: int(record.valid_until.timestamp() * 1000),
        Calibration.OPERATOR: record.operator,
        Calibration.DRIFT: record.drift,
        Calibration.DRIFT_FLAGGED: record.drift_flagged,
        Calibration.RECORD: record.to_json(),
    }
    tags = {Calibration.SITE: site, Calibration.SENSOR: record.sensor, Calibration.QUANTITY: record.quantity}
    return line(Calibration.NAME, tags, fields, int(record.performed_at.timestamp() * 1_000_000_000))


def load_records(client: InfluxQLClient, site: str) -> CalibrationBook:
    """Every usable record of ``site`` stored in the ``calibration`` measurement.

    Ingest stores only records that parse, but a database may hold points written before the checks
    grew stricter: such a record is skipped with a warning (the seat then counts as uncalibrated)."""
    series = client.query(
        f"SELECT {quote_ident(Calibration.RECORD)} FROM {quote_ident(Calibration.NAME)} "
        f"WHERE {quote_ident(Calibration.SITE)} = {quote_string(site)}"
    )
    book = CalibrationBook()
    for row in (row for s in series for row in s.rows()):
        try:
            book.add(CalibrationRecord.from_json(row[Calibration.RECORD]))
        except (BadRecord, TypeError) as exc:
            log.warning("calibration point at %s of site %s skipped: %s", row.get("time"), site, exc)
    return book
