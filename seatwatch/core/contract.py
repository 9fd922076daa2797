"""The MQTT reading contract (docs/design.md § Contracts / MQTT), shared by bridge and ingest.

A bridge builds readings with :class:`Reading` and :func:`encode`; ingest turns any payload back into
readings with :func:`parse_payload`, which never raises: every element of a payload is either a valid
:class:`Reading` or a :class:`Rejected` with a machine-readable reason (counted by ingest, stored in the
``rejects`` measurement) and a human detail naming the key at fault. The topics they travel on are
formatted and parsed by :mod:`seatwatch.core.topics`.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal, overload

from seatwatch.core.topics import topic_sensor
from seatwatch.core.vocabulary import RejectReason

VERSION = 1
MAX_PAYLOAD_BYTES = 64 * 1024
EPOCH_2020_MS = 1_577_836_800_000  # 2020-01-01T00:00:00Z: a bridge clock before this is wrong
MAX_FUTURE_MS = 5 * 60 * 1000

# Physical ranges: beyond them the number is a fault, not a measurement.
NOISE_RANGE_DB = (0.0, 160.0)  # dB re 20 µPa; 160 dB is beyond any workplace and any MEMS microphone
LUX_RANGE = (0.0, 200_000.0)  # direct summer sunlight is ~120 klx
DUR_RANGE_S = (0.001, 3600.0)

# The reasons this parser gives, and those ingest adds once it knows the site (RejectReason has them all).
REASONS: tuple[RejectReason, ...] = (
    RejectReason.TOO_LARGE,
    RejectReason.BAD_JSON,
    RejectReason.NOT_OBJECT,
    RejectReason.MISSING_KEY,
    RejectReason.WRONG_TYPE,
    RejectReason.NOT_FINITE,
    RejectReason.OUT_OF_RANGE,
    RejectReason.BAD_VERSION,
    RejectReason.CLOCK_PAST,
    RejectReason.CLOCK_FUTURE,
    RejectReason.SENSOR_MISMATCH,
    RejectReason.UNKNOWN_SENSOR,
    RejectReason.NOT_INSTALLED,
    RejectReason.WRONG_BRIDGE,
)
MAX_BATCH_ID = 200  # characters: "<bridge>-<outbox>-<first>-<last>" is far shorter


@dataclass(frozen=True, slots=True)
class Reading:
    """One interval's levels from one sensor: noise in dB(A) and/or light in lx, as the device measured."""

    sensor: str
    seq: int
    ts: int  # interval start, epoch milliseconds UTC
    dur: float  # seconds
    laeq: float | None = None
    lafmax: float | None = None
    lafmin: float | None = None
    lux: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "v": VERSION,
            "sensor": self.sensor,
            "seq": self.seq,
            "ts": self.ts,
            "dur": self.dur,
        }
        if self.laeq is not None:
            noise = {"laeq": self.laeq}
            if self.lafmax is not None:
                noise["lafmax"] = self.lafmax
            if self.lafmin is not None:
                noise["lafmin"] = self.lafmin
            doc["noise"] = noise
        if self.lux is not None:
            doc["light"] = {"lux": self.lux}
        for key, value in self.extra.items():
            doc.setdefault(key, value)
        return doc


@dataclass(frozen=True, slots=True)
class Rejected:
    """A payload element refused: ``reason`` says why (the parser's are :data:`REASONS`); ``detail`` says
    what and where."""

    reason: RejectReason
    detail: str
    sensor: str | None = None
    raw: str = ""


def encode(readings: Reading | list[Reading]) -> bytes:
    """The JSON payload for one reading (an object) or several (an array)."""
    doc = readings.to_json() if isinstance(readings, Reading) else [r.to_json() for r in readings]
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def encode_batch(batch_id: str, readings_json: list[str]) -> bytes:
    """A bridge batch: ``{"v":1,"batch":ID,"readings":[...]}`` from readings already encoded as JSON text."""
    readings = ",".join(readings_json)
    return f'{{"v":{VERSION},"batch":{json.dumps(batch_id)},"readings":[{readings}]}}'.encode()


def encode_ack(batch_ids: list[str]) -> bytes:
    """The acknowledgement ingest publishes: ``{"v":1,"batches":[ID, ...]}``."""
    return json.dumps({"v": VERSION, "batches": batch_ids}, separators=(",", ":")).encode()


def parse_ack(payload: bytes | bytearray) -> list[str]:
    """The batch ids of an acknowledgement; [] for anything else (an ack is advice: a bad one is ignored)."""
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError):
        return []
    if not isinstance(doc, dict) or doc.get("v") != VERSION or not isinstance(doc.get("batches"), list):
        return []
    return [b for b in doc["batches"] if isinstance(b, str) and 0 < len(b) <= MAX_BATCH_ID]


@dataclass(frozen=True, slots=True)
class Parsed:
    """What one payload holds: its bridge batch id (None: not an acknowledgeable batch) and its elements."""

    batch: str | None
    readings: list[Reading]
    rejected: list[Rejected]


def parse_payload(
    payload: bytes | bytearray, *, topic: str = "", now_ms: int | None = None
) -> tuple[list[Reading], list[Rejected]]:
    """Readings and refusals of a payload (see :func:`parse_message`, which also gives the batch id)."""
    parsed = parse_message(payload, topic=topic, now_ms=now_ms)
    return parsed.readings, parsed.rejected


def parse_message(payload: bytes | bytearray, *, topic: str = "", now_ms: int | None = None) -> Parsed:
    """Parse any reading payload (paho hands ``bytes`` or ``bytearray``). Never raises.

    Accepted: one reading object, an array of readings, or a bridge batch ``{"v":1, "batch":ID,
    "readings":[...]}`` whose id ingest acknowledges end to end once the batch is durable. ``topic`` is
    used to check that a per-sensor topic carries only that sensor's readings.
    """
    batch, readings, rejected = _parse(payload, topic, now_ms)
    return Parsed(batch, readings, rejected)


def _parse(
    payload: bytes | bytearray, topic: str, now_ms: int | None
) -> tuple[str | None, list[Reading], list[Rejected]]:
    if len(payload) > MAX_PAYLOAD_BYTES:
        return (
            None,
            [],
            [
                Rejected(
                    RejectReason.TOO_LARGE,
                    f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}",
                    raw=_raw(payload),
                )
            ],
        )
    try:
        doc = json.loads(payload)
    except (ValueError, RecursionError) as exc:
        return None, [], [Rejected(RejectReason.BAD_JSON, f"payload is not JSON: {exc}", raw=_raw(payload))]
    batch: str | None = None
    if type(doc) is dict and "readings" in doc and "sensor" not in doc:
        refusal = _envelope_problem(doc)
        if refusal is not None:
            return None, [], [Rejected(refusal.reason, refusal.detail, raw=_raw(payload))]
        batch, doc = doc.get("batch"), doc["readings"]
    now = int(time.time() * 1000) if now_ms is None else now_ms
    expected_sensor = topic_sensor(topic) if topic else None
    is_array = type(doc) is list
    elements = doc if is_array else [doc]
    readings: list[Reading] = []
    rejected: list[Rejected] = []
    for index, element in enumerate(elements):
        reading = _well_formed(element, now, expected_sensor)
        if reading is None:
            result = _parse_one(element, f"[{index}]." if is_array else "", now, expected_sensor)
            if isinstance(result, Rejected):
                rejected.append(result)
                continue
            reading = result
        readings.append(reading)
    return batch, readings, rejected


def _envelope_problem(doc: dict[str, Any]) -> _Refusal | None:
    """Why a ``{"v", "batch", "readings"}`` envelope is unusable, or None."""
    version = doc.get("v")
    if type(version) is not int or version != VERSION:
        return _Refusal(
            RejectReason.BAD_VERSION, f"batch v is {version!r}; this ingest understands v={VERSION}"
        )
    batch = doc.get("batch")
    if batch is not None and (type(batch) is not str or not 0 < len(batch) <= MAX_BATCH_ID):
        return _Refusal(RejectReason.WRONG_TYPE, f"batch must be a string of 1 to {MAX_BATCH_ID} characters")
    if type(doc["readings"]) is not list:
        return _Refusal(
            RejectReason.WRONG_TYPE, f"readings must be an array, not {type(doc['readings']).__name__}"
        )
    return None


def _raw(payload: bytes | bytearray) -> str:
    """The start of a refused payload as text, for the ``rejects`` measurement."""
    return payload[:512].decode("utf-8", errors="replace")


_KNOWN_KEYS = frozenset({"v", "sensor", "seq", "ts", "dur", "noise", "light"})
_NOISE_LOW, _NOISE_HIGH = NOISE_RANGE_DB
_LUX_LOW, _LUX_HIGH = LUX_RANGE
_DUR_LOW, _DUR_HIGH = DUR_RANGE_S
_NOT_SENT = object()  # an optional key that is absent (a key sent as null is a wrong type)


def _is_level(value: Any) -> bool:
    return type(value) is float and _NOISE_LOW <= value <= _NOISE_HIGH


def _well_formed(element: Any, now_ms: int, expected_sensor: str | None) -> Reading | None:
    """The reading, if ``element`` is the usual kind of valid reading; otherwise None.

    Ingest's hot path (nearly every element is like this): exact ``type(x) is`` tests, which also keep
    ``bool`` out of ``int``, and no exceptions. It accepts only what :func:`_parse_one` accepts and builds the
    same :class:`Reading`; anything else — a refusal, but also a valid integer ``dur`` or level — returns
    None and :func:`_parse_one` decides, with its messages. NaN and infinities fail the range comparisons.
    """
    if type(element) is not dict:
        return None
    get = element.get
    version, sensor, seq, ts, dur = get("v"), get("sensor"), get("seq"), get("ts"), get("dur")
    if (
        type(version) is not int
        or version != VERSION
        or type(sensor) is not str
        or not sensor
        or "/" in sensor
        or "+" in sensor
        or "#" in sensor
        or (expected_sensor is not None and sensor != expected_sensor)
        or type(seq) is not int
        or seq < 0
        or type(ts) is not int
        or not EPOCH_2020_MS <= ts <= now_ms + MAX_FUTURE_MS
        or type(dur) is not float
        or not _DUR_LOW <= dur <= _DUR_HIGH
    ):
        return None
    noise, light = get("noise"), get("light")
    laeq = lafmax = lafmin = lux = None
    if noise is not None:
        if type(noise) is not dict:
            return None
        laeq = noise.get("laeq")
        lafmax, lafmin = noise.get("lafmax", _NOT_SENT), noise.get("lafmin", _NOT_SENT)
        if not (
            _is_level(laeq)
            and (lafmax is _NOT_SENT or _is_level(lafmax))
            and (lafmin is _NOT_SENT or _is_level(lafmin))
        ):
            return None
        lafmax = None if lafmax is _NOT_SENT else lafmax
        lafmin = None if lafmin is _NOT_SENT else lafmin
        if lafmax is not None and lafmin is not None and lafmin > lafmax:
            return None
    elif light is None:
        return None
    if light is not None:
        if type(light) is not dict:
            return None
        lux = light.get("lux")
        if type(lux) is not float or not _LUX_LOW <= lux <= _LUX_HIGH:
            return None
    extra = (
        {} if _KNOWN_KEYS.issuperset(element) else {k: v for k, v in element.items() if k not in _KNOWN_KEYS}
    )
    return Reading(sensor, seq, ts, dur, laeq, lafmax, lafmin, lux, extra)


class _Refusal(Exception):
    def __init__(self, reason: RejectReason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _parse_one(element: Any, where: str, now_ms: int, expected_sensor: str | None) -> Reading | Rejected:
    sensor = element.get("sensor") if isinstance(element, dict) else None
    sensor = sensor if isinstance(sensor, str) else None
    try:
        if not isinstance(element, dict):
            what = where.rstrip(".") or "payload"
            raise _Refusal(
                RejectReason.NOT_OBJECT, f"{what} is a {type(element).__name__}, not a reading object"
            )
        version = _field(element, "v", int, where)
        if version != VERSION:
            raise _Refusal(
                RejectReason.BAD_VERSION, f"{where}v is {version}; this ingest understands v={VERSION}"
            )
        sensor_id = _field(element, "sensor", str, where)
        if not sensor_id or "/" in sensor_id or "+" in sensor_id or "#" in sensor_id:
            raise _Refusal(RejectReason.WRONG_TYPE, f"{where}sensor {sensor_id!r} is not a sensor id")
        if expected_sensor is not None and sensor_id != expected_sensor:
            raise _Refusal(
                RejectReason.SENSOR_MISMATCH,
                f"{where}sensor {sensor_id!r} published on {expected_sensor!r}'s topic",
            )
        seq = _field(element, "seq", int, where)
        if seq < 0:
            raise _Refusal(RejectReason.OUT_OF_RANGE, f"{where}seq {seq} is negative")
        ts = _field(element, "ts", int, where)
        if ts < EPOCH_2020_MS:
            raise _Refusal(
                RejectReason.CLOCK_PAST, f"{where}ts {ts} is before 2020: the sending clock is wrong"
            )
        if ts > now_ms + MAX_FUTURE_MS:
            ahead = f"{(ts - now_ms) / 1000:.0f} s" if ts < 10**300 else "ages"  # beyond: no float
            raise _Refusal(RejectReason.CLOCK_FUTURE, f"{where}ts {ts} is {ahead} in the future")
        dur = _number(element, "dur", where, DUR_RANGE_S)
        noise = element.get("noise")
        light = element.get("light")
        if noise is None and light is None:
            raise _Refusal(RejectReason.MISSING_KEY, f"{where}has neither 'noise' nor 'light'")
        laeq = lafmax = lafmin = lux = None
        if noise is not None:
            if not isinstance(noise, dict):
                raise _Refusal(
                    RejectReason.WRONG_TYPE, f"{where}noise must be an object, not {type(noise).__name__}"
                )
            laeq = _number(noise, "laeq", f"{where}noise.", NOISE_RANGE_DB)
            lafmax = _number(noise, "lafmax", f"{where}noise.", NOISE_RANGE_DB, required=False)
            lafmin = _number(noise, "lafmin", f"{where}noise.", NOISE_RANGE_DB, required=False)
            if lafmax is not None and lafmin is not None and lafmin > lafmax:
                raise _Refusal(
                    RejectReason.OUT_OF_RANGE, f"{where}noise.lafmin {lafmin} is above lafmax {lafmax}"
                )
        if light is not None:
            if not isinstance(light, dict):
                raise _Refusal(
                    RejectReason.WRONG_TYPE, f"{where}light must be an object, not {type(light).__name__}"
                )
            lux = _number(light, "lux", f"{where}light.", LUX_RANGE)
        extra = {k: v for k, v in element.items() if k not in _KNOWN_KEYS}
        return Reading(sensor_id, seq, ts, dur, laeq, lafmax, lafmin, lux, extra)
    except _Refusal as refusal:
        raw = json.dumps(element, default=str)[:512] if not isinstance(element, str) else element[:512]
        return Rejected(refusal.reason, refusal.detail, sensor, raw)


def _field(doc: dict[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    if key not in doc:
        raise _Refusal(RejectReason.MISSING_KEY, f"{where}{key} is missing")
    value = doc[key]
    if isinstance(value, bool) or not isinstance(value, kind):
        expected = "a number" if isinstance(kind, tuple) else kind.__name__
        raise _Refusal(
            RejectReason.WRONG_TYPE, f"{where}{key} must be {expected}, not {type(value).__name__}"
        )
    return value


@overload
def _number(
    doc: dict[str, Any], key: str, where: str, bounds: tuple[float, float], required: Literal[True] = True
) -> float: ...
@overload
def _number(
    doc: dict[str, Any], key: str, where: str, bounds: tuple[float, float], required: bool
) -> float | None: ...
def _number(
    doc: dict[str, Any], key: str, where: str, bounds: tuple[float, float], required: bool = True
) -> float | None:
    """A finite number within ``bounds``; None only for an absent key that is not ``required`` (the
    overloads tell the type checker so: a required number such as ``dur`` is a plain float)."""
    if key not in doc and not required:
        return None
    number = _field(doc, key, (int, float), where)
    try:
        value = float(number)
    except OverflowError:  # an integer of hundreds of digits
        raise _Refusal(
            RejectReason.OUT_OF_RANGE, f"{where}{key} is far outside {bounds[0]:g}..{bounds[1]:g}"
        ) from None
    if not math.isfinite(value):
        raise _Refusal(RejectReason.NOT_FINITE, f"{where}{key} is {value}")
    low, high = bounds
    if not low <= value <= high:
        raise _Refusal(RejectReason.OUT_OF_RANGE, f"{where}{key} {value} is outside {low:g}..{high:g}")
    return value
