"""Readings to InfluxDB points: validation, calibration, seat tagging — and the ``rejects`` points.

This is the one place where a payload becomes lines of line protocol, so every rule of DESIGN.md's
InfluxDB contract lives here: the calibration record in force at the reading's time (noise: dB offset,
light: gain), the seat and zone the sensor was installed at *at that time*, ``below_floor`` within 3 dB of
the microphone's noise floor, and ``exposure`` = dur·10^(laeq/10) so that any period's level is the energy
mean ``10*log10(sum(exposure)/sum(dur))``. The timestamp is the reading's own ``ts``, so a redelivered or
replayed reading overwrites itself instead of adding a point. Nothing here raises on bad data: a refused
reading becomes a ``rejects`` point and a count by reason.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

from seatwatch.calibration import CalibrationBook
from seatwatch.contract import Reading, Rejected, parse_payload
from seatwatch.line_protocol import line, point, series_key
from seatwatch.site import Installation, Site

FLOOR_MARGIN_DB = 3.0
PAYLOAD_KEEP = 512


@dataclass
class Converted:
    """What one MQTT message became: points to write, rejects counted by reason, the newest reading time."""

    lines: list[str] = field(default_factory=list)
    readings: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    newest_ms: int = 0


class InstallationIndex:
    """``Site.installation_at`` per sensor without scanning every installation for every reading, and the
    series key of each installation's points built once (tags do not change while it lasts)."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self._by_sensor: dict[str, list[Installation]] = {}
        for inst in site.installations:
            self._by_sensor.setdefault(inst.sensor, []).append(inst)
        self._series: dict[tuple[str, Installation], str] = {}

    def series(self, measurement: str, inst: Installation) -> str:
        key = (measurement, inst)
        found = self._series.get(key)
        if found is None:
            seat = self.site.seats[inst.seat]
            tags = {"site": self.site.id, "zone": seat.zone, "seat": seat.id, "sensor": inst.sensor}
            found = self._series[key] = series_key(measurement, tags)
        return found

    def at(self, sensor: str, t: datetime) -> Installation | None:
        for inst in self._by_sensor.get(sensor, ()):
            if inst.covers(t):
                return inst
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

    def convert(self, payload: bytes, topic: str) -> Converted:
        readings, rejected = parse_payload(payload, topic=topic)
        out = Converted()
        index = self.index
        for reading in readings:
            problem = self._reading_lines(reading, index, out.lines)
            if problem is None:
                out.readings += 1
                out.newest_ms = max(out.newest_ms, reading.ts)
            else:
                rejected.append(problem)
        for refusal in rejected:
            out.rejects[refusal.reason] += 1
            out.lines.append(self.reject_line(refusal, topic))
        return out

    def reject_line(self, refusal: Rejected, topic: str) -> str:
        """A ``rejects`` point at receive time; strictly increasing ns so two rejects never overwrite."""
        now = max(time.time_ns(), self._last_reject_ns + 1)
        self._last_reject_ns = now
        # Only a sensor of the site becomes a tag: a fuzzed id must not add a series (or break the line).
        known = refusal.sensor if refusal.sensor in self.site.sensors else ""
        tags = {"site": self.site.id, "reason": refusal.reason, "sensor": known}
        fields = {"detail": refusal.detail, "payload": refusal.raw[:PAYLOAD_KEEP], "topic": topic}
        return line("rejects", tags, fields, now)

    def _reading_lines(self, r: Reading, index: InstallationIndex, lines: list[str]) -> Rejected | None:
        site = index.site
        sensor = site.sensors.get(r.sensor)
        raw = f"sensor={r.sensor} seq={r.seq} ts={r.ts}"
        if sensor is None:
            return Rejected(
                "unknown_sensor", f"sensor {r.sensor!r} is not in site {site.id!r}", r.sensor, raw
            )
        t = datetime.fromtimestamp(r.ts / 1000, UTC)
        inst = index.at(r.sensor, t)
        if inst is None:
            return Rejected(
                "not_installed", f"sensor {r.sensor!r} was not installed at {t.isoformat()}", r.sensor, raw
            )
        ts_ns = r.ts * 1_000_000
        if r.laeq is not None:
            record = self.book.in_force(r.sensor, "noise", t)
            fix = record.apply if record else float
            laeq = fix(r.laeq)
            floor = sensor.noise_floor_db
            fields: dict[str, float | bool | str | None] = {
                "laeq": laeq,
                "lafmax": None if r.lafmax is None else fix(r.lafmax),
                "lafmin": None if r.lafmin is None else fix(r.lafmin),
                "dur": r.dur,
                "exposure": r.dur * 10 ** (laeq / 10),
                "raw_laeq": r.laeq,
                "below_floor": floor is not None and laeq < floor + FLOOR_MARGIN_DB,
                "cal": record.id if record else "none",
            }
            lines.append(point(index.series("noise", inst), fields, ts_ns))
        if r.lux is not None:
            record = self.book.in_force(r.sensor, "light", t)
            lux = record.apply(r.lux) if record else r.lux
            fields = {"lux": lux, "raw_lux": r.lux, "cal": record.id if record else "none"}
            lines.append(point(index.series("light", inst), fields, ts_ns))
        return None
