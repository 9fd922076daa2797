"""Readings to InfluxDB points: validation, calibration, seat tagging — and the ``rejects`` points.

This is the one place where a payload becomes lines of line protocol, so every rule of docs/design.md's
InfluxDB contract lives here: the calibration record in force at the reading's time (noise: dB offset,
light: gain), the seat and zone the sensor was installed at *at that time*, ``below_floor`` within 3 dB of
the microphone's noise floor, and ``exposure`` = dur·10^(laeq/10) so that any period's level is the energy
mean ``10*log10(sum(exposure)/sum(dur))``. The timestamp is the reading's own ``ts``, so a redelivered or
replayed reading overwrites itself instead of adding a point. Nothing here raises on bad data: a refused
reading becomes a count by reason and a ``rejects`` point — one per reason (and sensor) per message, with
the count, so a message of 32,000 bad entries is one point, not 32,000. A reading on a bridge's batch
topic must belong to that bridge in the site file (``wrong_bridge`` otherwise): one bridge's credentials
must not write another's seats. A failure converting one reading (a bug) refuses that reading alone, as
``internal_error``; the others of the message are stored.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from seatwatch.core.calibration_records import CalibrationBook
from seatwatch.core.contract import Reading, Rejected, parse_message
from seatwatch.core.line_protocol import field_value, line, series_key
from seatwatch.core.schema import Light, Noise, Rejects, Tag, exposure
from seatwatch.core.site import Installation, Site
from seatwatch.core.topics import topic_bridge
from seatwatch.core.vocabulary import Quantity, RejectReason

log = logging.getLogger("seatwatch.ingest")
FLOOR_MARGIN_DB = 3.0
PAYLOAD_KEEP = 512


@functools.lru_cache(maxsize=1024)
def _cal_field(record_id: str) -> str:
    """``cal="ID"`` as line protocol escapes it — built once per record, not once per point."""
    return f"{Noise.CAL}={field_value(record_id)}"


_NO_CAL = _cal_field("none")
# The hot path formats lines itself (PointMaker._reading_lines): the schema's field names, joined once.
_LAFMAX = f",{Noise.LAFMAX}="
_LAFMIN = f",{Noise.LAFMIN}="


def _template(*fields: str) -> str:
    """``"{series} f1={},f2={},...,{cal} {ts}"`` for :meth:`str.format`: the field names joined once."""
    return "{} " + "".join(f"{name}={{}}," for name in fields) + "{} {}"


_NOISE_LINE = _template(Noise.LAEQ, Noise.DUR, Noise.EXPOSURE, Noise.RAW_LAEQ, Noise.BELOW_FLOOR)
_LIGHT_LINE = _template(Light.LUX, Light.RAW_LUX, Light.DUR)


@dataclass
class Converted:
    """What one MQTT message became: points to write, rejects counted by reason, the newest reading time."""

    lines: list[str] = field(default_factory=list)
    readings: int = 0
    rejects: Counter[RejectReason] = field(default_factory=Counter)
    newest_ms: int = 0
    batch: str | None = None  # the bridge batch id to acknowledge end to end once durable


@dataclass(frozen=True, slots=True)
class Placement:
    """An installation with the series keys of its points, built once: tags do not change while it lasts."""

    installation: Installation
    noise: str
    light: str


class InstallationIndex:
    """``Site.installation_at`` per sensor without scanning every installation for every reading."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._by_sensor: dict[str, list[Placement]] = {}
        for inst in site.installations:
            seat = site.seats[inst.seat]
            tags = {Tag.SITE: site.id, Tag.ZONE: seat.zone, Tag.SEAT: seat.id, Tag.SENSOR: inst.sensor}
            placement = Placement(inst, series_key(Noise.NAME, tags), series_key(Light.NAME, tags))
            self._by_sensor.setdefault(inst.sensor, []).append(placement)

    def at(self, sensor: str, t: datetime) -> Placement | None:
        for placement in self._by_sensor.get(sensor, ()):
            if placement.installation.covers(t):
                return placement
        return None


class PointMaker:
    """Turns payloads into points for one site; the site and calibration book can be swapped while running."""

    def __init__(self, site: Site, book: CalibrationBook) -> None:
        self.book = book
        self.index = InstallationIndex(site)
        self._last_reject_ns = 0

    @property
    def site(self) -> Site:
        return self.index.site

    def use_site(self, site: Site) -> None:
        """Adopt a reloaded site file; a single assignment, so a message is converted wholly with one site."""
        self.index = InstallationIndex(site)

    def convert(self, payload: bytes | bytearray, topic: str) -> Converted:
        parsed = parse_message(payload, topic=topic)
        out = Converted(batch=parsed.batch)
        rejected = parsed.rejected
        index = self.index
        bridge = topic_bridge(topic)
        for reading in parsed.readings:
            try:
                problem = self._reading_lines(reading, index, bridge, out.lines)
            except Exception as exc:  # a bug: refuse this reading only, and say so loudly
                log.exception("could not convert a reading of %s on %s", reading.sensor, topic)
                problem = Rejected(
                    RejectReason.INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", reading.sensor, _raw(reading)
                )
            if problem is None:
                out.readings += 1
                out.newest_ms = max(out.newest_ms, reading.ts)
            else:
                rejected.append(problem)
        groups: dict[tuple[RejectReason, str | None], list[Rejected]] = {}
        for refusal in rejected:
            out.rejects[refusal.reason] += 1
            groups.setdefault((refusal.reason, refusal.sensor), []).append(refusal)
        for same in groups.values():
            out.lines.append(self.reject_line(same[0], topic, count=len(same)))
        return out

    def reject_line(self, refusal: Rejected, topic: str, count: int = 1) -> str:
        """A ``rejects`` point at receive time for ``count`` refusals like ``refusal`` (its detail is the
        first one's); strictly increasing ns so two rejects never overwrite."""
        now = max(time.time_ns(), self._last_reject_ns + 1)
        self._last_reject_ns = now
        # Only a sensor of the site becomes a tag: a fuzzed id must not add a series (or break the line).
        known = refusal.sensor if refusal.sensor in self.site.sensors else ""
        tags = {Rejects.SITE: self.site.id, Rejects.REASON: refusal.reason, Rejects.SENSOR: known}
        fields: dict[str, str | int] = {
            Rejects.DETAIL: refusal.detail,
            Rejects.PAYLOAD: refusal.raw[:PAYLOAD_KEEP],
            Rejects.TOPIC: topic,
            Rejects.COUNT: count,
        }
        return line(Rejects.NAME, tags, fields, now)

    def _reading_lines(
        self, r: Reading, index: InstallationIndex, bridge: str | None, lines: list[str]
    ) -> Rejected | None:
        """Append the reading's points; the hot path, so lines are formatted here, floats as ``repr``
        (exact, as :func:`seatwatch.core.line_protocol.point` writes them), tags from the placement's
        prebuilt series key. A non-finite value can only come from a calibration record: ValueError."""
        site = index.site
        sensor = site.sensors.get(r.sensor)
        if sensor is None:
            return Rejected(
                RejectReason.UNKNOWN_SENSOR,
                f"sensor {r.sensor!r} is not in site {site.id!r}",
                r.sensor,
                _raw(r),
            )
        if bridge is not None and sensor.bridge != bridge:
            return Rejected(
                RejectReason.WRONG_BRIDGE,
                f"sensor {r.sensor!r} belongs to bridge {sensor.bridge!r}, not {bridge!r} that sent it",
                r.sensor,
                _raw(r),
            )
        t = datetime.fromtimestamp(r.ts / 1000, UTC)
        placed = index.at(r.sensor, t)
        if placed is None:
            return Rejected(
                RejectReason.NOT_INSTALLED,
                f"sensor {r.sensor!r} was not installed at {t.isoformat()}",
                r.sensor,
                _raw(r),
            )
        ts_ns = r.ts * 1_000_000
        dur = repr(r.dur)
        if r.laeq is not None:
            record = self.book.in_force(r.sensor, Quantity.NOISE, t)
            raw_laeq = repr(r.laeq)
            if record is None:  # the calibrated level is the raw one: format it once
                laeq, text = r.laeq, raw_laeq
                lafmax, lafmin, cal = r.lafmax, r.lafmin, _NO_CAL
            else:
                laeq = record.apply(r.laeq)
                text = repr(laeq)
                lafmax = None if r.lafmax is None else record.apply(r.lafmax)
                lafmin = None if r.lafmin is None else record.apply(r.lafmin)
                cal = _cal_field(record.id)
            energy = exposure(laeq, r.dur)
            if not math.isfinite(energy):  # laeq, lafmax and lafmin share the record's offset
                raise ValueError(f"noise of {r.sensor} at {r.ts} is not finite after calibration")
            if lafmax is not None:
                text += _LAFMAX + repr(lafmax)
            if lafmin is not None:
                text += _LAFMIN + repr(lafmin)
            floor = sensor.noise_floor_db
            below = "true" if floor is not None and laeq < floor + FLOOR_MARGIN_DB else "false"
            fields = (text, dur, repr(energy), raw_laeq, below, cal)
            lines.append(_NOISE_LINE.format(placed.noise, *fields, ts_ns))
        if r.lux is not None:
            record = self.book.in_force(r.sensor, Quantity.LIGHT, t)
            raw_lux = repr(r.lux)
            if record is None:
                lux, cal = raw_lux, _NO_CAL
            else:
                calibrated = record.apply(r.lux)
                if not math.isfinite(calibrated):
                    raise ValueError(f"light of {r.sensor} at {r.ts} is not finite after calibration")
                lux, cal = repr(calibrated), _cal_field(record.id)
            lines.append(_LIGHT_LINE.format(placed.light, lux, raw_lux, dur, cal, ts_ns))
        return None


def _raw(r: Reading) -> str:
    """What a refused (but well-formed) reading is kept as in ``rejects``."""
    return f"sensor={r.sensor} seq={r.seq} ts={r.ts}"
