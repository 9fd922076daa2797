"""Reading and validating a site file (TOML) — every problem at once, each with file, line and key.

The file layout is documented in docs/site-file.md and shown by examples/site.toml. Validation is strict
about what can silently corrupt results (a typo in a key, an installation at an unknown seat, overlapping
installation periods, a zone without area) and never echoes a value that could be a secret.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from seatwatch.core.hours import OccupiedHours, Shift, parse_clock, parse_days
from seatwatch.core.i18n import default_locale, normalize_locale
from seatwatch.core.site import DRIVERS, Bridge, Installation, Seat, Sensor, Site, Zone
from seatwatch.core.toml_config import TomlFile, read_toml
from seatwatch.core.vocabulary import Quantity, ZoneKind, member_of

# Ids appear in MQTT topics and InfluxDB tags: keep them to characters that are safe in both.
ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$")

SERVICE_KEYS = {
    "mqtt_url": str,
    "mqtt_username": str,
    "mqtt_password_file": str,
    "mqtt_ca_file": str,
    "influx_url": str,
    "influx_db": str,
    "influx_api": str,
    "influx_org": str,
    "influx_token_file": str,
    "influx_create_database": bool,
    "grafana_url": str,
    "grafana_token_file": str,
    "grafana_folder": str,
    "state_dir": str,
}
# Keys that would hold a secret in clear text; refused without echoing the value.
SECRET_KEYS = {"mqtt_password", "influx_token", "influx_password", "grafana_token", "grafana_password"}

TOP_KEYS = {"site", "hours", "services", "bridges", "zones", "seats", "sensors", "installations"}
SITE_KEYS = {"id", "name", "timezone", "profile", "locale"}
HOURS_KEYS = {"shifts", "closed"}
SHIFT_KEYS = {"name", "days", "start", "end"}
BRIDGE_KEYS = {"id", "name"}
ZONE_KEYS = {"id", "name", "kind", "area_m2"}
SEAT_KEYS = {"id", "zone", "x", "y", "proxy_seat"}
SENSOR_KEYS = {"id", "bridge", "measures", "driver", "connection", "model", "noise_floor_db"}
INSTALLATION_KEYS = {"sensor", "seat", "from", "until"}
# The connection keys each driver cannot do without (drivers check their own optional keys).
DRIVER_REQUIRED = {"reference": ("port",), "modbus": ("port", "address", "profile"), "audio": ("device",)}


def load_site(path: Path | str) -> Site:
    """Read and validate a site file. Raises :class:`ConfigError` listing every problem."""
    return _SiteReader(read_toml(path, "site file")).read()


# What any number or date in a site file must be, whatever its key: TOML integers are 64-bit (Python's
# parser accepts more, which then overflows floats and time arithmetic); floats are finite; a site's
# dates and times lie in this century, where time-zone arithmetic and InfluxDB timestamps work.
INT_LIMIT = 2**63
YEARS = range(2000, 2101)
NESTING_LIMIT = 32
# Ranges of the plain numbers the reader takes (site file keys, not driver connection settings).
AREA_M2 = (0.0, 1_000_000.0)
COORDINATE_M = 100_000.0


def _scan(doc: dict[str, Any], add: Any) -> set[str]:
    """Flag every non-finite float, oversized integer, out-of-century date and over-deep nesting in ``doc``.

    Returns the key paths flagged, which the reader then treats as absent without a second message.
    Iterative, so the depth of the document cannot exhaust the stack.
    """
    bad: set[str] = set()
    stack: list[tuple[str, Any, int]] = [(key, value, 1) for key, value in doc.items()]
    while stack:
        where, value, depth = stack.pop()
        problem = None
        if isinstance(value, bool):
            continue
        if isinstance(value, dict | list) and depth > NESTING_LIMIT:
            problem = f"nested more than {NESTING_LIMIT} levels deep"
        elif isinstance(value, dict):
            stack += [(f"{where}.{key}", item, depth + 1) for key, item in value.items()]
        elif isinstance(value, list):
            stack += [(f"{where}[{n}]", item, depth + 1) for n, item in enumerate(value)]
        elif isinstance(value, float) and not math.isfinite(value):
            problem = f"must be a finite number, not {value}"
        elif isinstance(value, int) and not -INT_LIMIT <= value < INT_LIMIT:
            problem = "integer out of range (TOML integers are 64-bit)"
        elif isinstance(value, date) and value.year not in YEARS:
            problem = f"year {value.year}: dates must lie in {YEARS.start}-{YEARS.stop - 1}"
        if problem:
            add(where, problem)
            bad.add(where)
    return bad


class _SiteReader:
    def __init__(self, toml: TomlFile) -> None:
        self.path = toml.path
        self.doc = toml.data
        self.p = toml.problems()
        self.tz: ZoneInfo = ZoneInfo("UTC")
        self.bad = _scan(self.doc, self.p.add)

    # -- small checkers -------------------------------------------------------------------------
    def unknown_keys(self, table: dict[str, Any], allowed: set[str], where: str) -> None:
        for key in table:
            if key in SECRET_KEYS:
                self.p.add(
                    f"{where}.{key}".lstrip("."),
                    "secrets do not belong in the site file; use the environment "
                    f"(SEATWATCH_{key.upper()}) or a '{key.rsplit('_', 1)[0]}_..._file' key",
                )
            elif key not in allowed:
                self.p.add(
                    f"{where}.{key}".lstrip("."),
                    f"unknown key (expected one of: {', '.join(sorted(allowed))})",
                )

    def get(
        self,
        table: dict[str, Any],
        key: str,
        kind: type | tuple[type, ...],
        where: str,
        required: bool = True,
    ) -> Any:
        if key not in table:
            if required:
                self.p.add(f"{where}.{key}".lstrip("."), "missing")
            return None
        if f"{where}.{key}".lstrip(".") in self.bad:
            return None
        value = table[key]
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
            self.p.add(f"{where}.{key}".lstrip("."), f"must be {_article(names)}, not {type(value).__name__}")
            return None
        return value

    def ident(self, table: dict[str, Any], key: str, where: str) -> str | None:
        value: str | None = self.get(table, key, str, where)
        if value is not None and not ID_PATTERN.match(value):
            self.p.add(
                f"{where}.{key}", f"{value!r} is not a valid id (letters, digits, '_', '.', '-'; at most 64)"
            )
            return None
        return value

    def coordinate(self, table: dict[str, Any], axis: str, where: str) -> float | None:
        value: float | None = self.get(table, axis, float, where)
        if value is not None and abs(value) > COORDINATE_M:
            self.p.add(
                f"{where}.{axis}", f"{value} m is not on a floor plan (at most ±{COORDINATE_M:,.0f} m)"
            )
            return None
        return value

    def records(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        items = self.doc.get(name, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            self.p.add(name, f"must be an array of tables ([[{name}]])")
            return []
        return [(f"{name}[{n}]", item) for n, item in enumerate(items)]

    def unique(self, ids: list[tuple[str, str | None]], what: str) -> None:
        seen: dict[str, str] = {}
        for where, ident in ids:
            if ident is None:
                continue
            if ident in seen:
                self.p.add(f"{where}.id", f"duplicate {what} id {ident!r} (first defined at {seen[ident]})")
            else:
                seen[ident] = where

    def moment(self, value: Any, where: str) -> datetime | None:
        """TOML datetime or date -> aware UTC datetime; local values are in the site's time zone."""
        if where in self.bad:
            return None
        if isinstance(value, datetime):
            aware = value if value.tzinfo else value.replace(tzinfo=self.tz)
            return aware.astimezone(UTC)
        if isinstance(value, date):
            return datetime.combine(value, time(0), tzinfo=self.tz).astimezone(UTC)
        self.p.add(
            where,
            f"must be a TOML date or date-time (e.g. 2025-03-01T09:00:00+08:00), not {type(value).__name__}",
        )
        return None

    # -- sections -------------------------------------------------------------------------------
    def read(self) -> Site:
        self.unknown_keys(self.doc, TOP_KEYS, "")
        head = self.doc.get("site")
        if not isinstance(head, dict):
            self.p.add("site", "missing [site] table (id, name, timezone, profile)")
            head = {}
        self.unknown_keys(head, SITE_KEYS, "site")
        site_id = self.ident(head, "id", "site")
        name = self.get(head, "name", str, "site") or ""
        tz_name = self.get(head, "timezone", str, "site")
        if tz_name is not None:
            try:
                self.tz = ZoneInfo(tz_name)
            except (ZoneInfoNotFoundError, ValueError):
                self.p.add(
                    "site.timezone", f"unknown time zone {tz_name!r} (use an IANA name like 'Asia/Shanghai')"
                )
        profile = self.get(head, "profile", str, "site", required=False) or "iac-csc"
        locale = self.read_locale(head)

        hours = self.read_hours()
        services = self.read_services()
        bridges = self.read_bridges()
        zones = self.read_zones()
        seats = self.read_seats(zones)
        sensors = self.read_sensors(bridges)
        installations = self.read_installations(seats, sensors)
        self.p.raise_if_any()
        return Site(
            id=site_id or "",
            name=name,
            timezone=self.tz.key,
            profile=profile,
            locale=locale,
            hours=hours,
            bridges=bridges,
            zones=zones,
            seats=seats,
            sensors=sensors,
            installations=tuple(installations),
            services=services,
            path=self.path,
        )

    def read_locale(self, head: dict[str, Any]) -> str:
        """The language of reports and certificates: explicit, or zh-CN for a mainland Chinese zone."""
        tag = self.get(head, "locale", str, "site", required=False)
        if tag is None:
            return default_locale(self.tz.key)
        try:
            return normalize_locale(tag)
        except ValueError as exc:
            self.p.add("site.locale", str(exc))
            return default_locale(self.tz.key)

    def read_hours(self) -> OccupiedHours:
        table = self.doc.get("hours")
        shifts: list[Shift] = []
        closed: set[date] = set()
        if not isinstance(table, dict):
            self.p.add("hours", "missing [hours] table with the occupied shifts")
            return OccupiedHours(self.tz, ())
        self.unknown_keys(table, HOURS_KEYS, "hours")
        raw_shifts = table.get("shifts")
        if not isinstance(raw_shifts, list) or not raw_shifts:
            self.p.add("hours.shifts", "must be a non-empty array of shifts {name, days, start, end}")
            raw_shifts = []
        for n, raw in enumerate(raw_shifts):
            where = f"hours.shifts[{n}]"
            if not isinstance(raw, dict):
                self.p.add(where, "must be a table {name, days, start, end}")
                continue
            self.unknown_keys(raw, SHIFT_KEYS, where)
            shift_name = self.get(raw, "name", str, where, required=False) or f"shift {n + 1}"
            days = self.get(raw, "days", (str, list), where)
            start = self.get(raw, "start", str, where)
            end = self.get(raw, "end", str, where)
            try:
                parsed_days = parse_days(days) if days is not None else None
            except ValueError as exc:
                self.p.add(f"{where}.days", str(exc))
                parsed_days = None
            times: list[int | None] = []
            for key, value in (("start", start), ("end", end)):
                try:
                    times.append(parse_clock(value) if value is not None else None)
                except ValueError as exc:
                    self.p.add(f"{where}.{key}", str(exc))
                    times.append(None)
            start_min, end_min = times
            if start_min is None or end_min is None or parsed_days is None:
                continue
            if start_min == end_min or start_min == 24 * 60:
                self.p.add(f"{where}.end", f"a shift from {start} to {end} has no length")
                continue
            shifts.append(Shift(shift_name, parsed_days, start_min, end_min if end_min else 24 * 60))
        raw_closed = table.get("closed", [])
        if not isinstance(raw_closed, list):
            self.p.add("hours.closed", "must be an array of dates")
            raw_closed = []
        for n, value in enumerate(raw_closed):
            if f"hours.closed[{n}]" in self.bad:
                continue
            if isinstance(value, date) and not isinstance(value, datetime):
                closed.add(value)
            else:
                self.p.add(f"hours.closed[{n}]", "must be a TOML date like 2026-10-01")
        return OccupiedHours(self.tz, tuple(shifts), frozenset(closed))

    def read_services(self) -> dict[str, Any]:
        table = self.doc.get("services", {})
        if not isinstance(table, dict):
            self.p.add("services", "must be a table")
            return {}
        self.unknown_keys(table, set(SERVICE_KEYS), "services")
        out: dict[str, Any] = {}
        for key, kind in SERVICE_KEYS.items():
            value = self.get(table, key, kind, "services", required=False)
            if value is not None:
                out[key] = value
        for key, instead in (
            ("mqtt_url", "SEATWATCH_MQTT_PASSWORD or mqtt_password_file"),
            ("influx_url", "SEATWATCH_INFLUX_TOKEN=user:password or influx_token_file"),
            ("grafana_url", "SEATWATCH_GRAFANA_TOKEN or grafana_token_file"),
        ):
            url = out.get(key, "")
            if url and _url_has_password(url):
                self.p.add(f"services.{key}", f"the URL carries a password; use {instead}")
        if out.get("influx_api", "auto") not in ("auto", "v1", "v2"):
            self.p.add("services.influx_api", "must be 'auto', 'v1' or 'v2'")
        return out

    def read_bridges(self) -> dict[str, Bridge]:
        out: dict[str, Bridge] = {}
        ids = []
        for where, raw in self.records("bridges"):
            self.unknown_keys(raw, BRIDGE_KEYS, where)
            ident = self.ident(raw, "id", where)
            ids.append((where, ident))
            if ident is not None and ident not in out:
                out[ident] = Bridge(ident, self.get(raw, "name", str, where, required=False) or "")
        self.unique(ids, "bridge")
        return out

    def read_zones(self) -> dict[str, Zone]:
        out: dict[str, Zone] = {}
        ids = []
        for where, raw in self.records("zones"):
            self.unknown_keys(raw, ZONE_KEYS, where)
            ident = self.ident(raw, "id", where)
            ids.append((where, ident))
            text = self.get(raw, "kind", str, where)
            kind = member_of(ZoneKind, text)
            if text is not None and kind is None:
                self.p.add(f"{where}.kind", f"{text!r} is not a zone kind ({', '.join(ZoneKind)})")
            area = self.get(raw, "area_m2", float, where)
            if area is not None and not AREA_M2[0] < area <= AREA_M2[1]:
                self.p.add(
                    f"{where}.area_m2", f"must be an area in m², 0 < area ≤ {AREA_M2[1]:,.0f}, not {area}"
                )
                area = None
            if ident is not None and ident not in out and kind is not None and area and area > 0:
                out[ident] = Zone(
                    ident, self.get(raw, "name", str, where, required=False) or ident, kind, area
                )
        if not ids:
            self.p.add("zones", "the site has no zones ([[zones]])")
        self.unique(ids, "zone")
        return out

    def read_seats(self, zones: dict[str, Zone]) -> dict[str, Seat]:
        out: dict[str, Seat] = {}
        ids = []
        known_zone_ids = {
            ident for _, raw in self.records("zones") if isinstance(ident := raw.get("id"), str)
        }
        for where, raw in self.records("seats"):
            self.unknown_keys(raw, SEAT_KEYS, where)
            ident = self.ident(raw, "id", where)
            ids.append((where, ident))
            zone = self.get(raw, "zone", str, where)
            if zone is not None and zone not in known_zone_ids:
                self.p.add(f"{where}.zone", f"unknown zone {zone!r}")
            x, y = (self.coordinate(raw, axis, where) for axis in ("x", "y"))
            proxy = self.get(raw, "proxy_seat", str, where, required=False)
            if ident is not None and ident not in out and zone in zones and x is not None and y is not None:
                out[ident] = Seat(ident, zone, x, y, proxy)
        self.unique(ids, "seat")
        raw_seats = {raw["id"]: raw for _, raw in self.records("seats") if isinstance(raw.get("id"), str)}
        for where, raw in self.records("seats"):
            proxy = raw.get("proxy_seat")
            if not isinstance(proxy, str):
                continue
            if proxy not in raw_seats:
                self.p.add(f"{where}.proxy_seat", f"unknown seat {proxy!r}")
            elif proxy == raw.get("id"):
                self.p.add(f"{where}.proxy_seat", "a seat cannot be its own proxy")
            elif raw_seats[proxy].get("proxy_seat") is not None:
                self.p.add(
                    f"{where}.proxy_seat",
                    f"seat {proxy!r} itself uses a proxy; name the seat with the sensor",
                )
        return out

    def read_sensors(self, bridges: dict[str, Bridge]) -> dict[str, Sensor]:
        out: dict[str, Sensor] = {}
        ids = []
        known_bridges = {
            ident for _, raw in self.records("bridges") if isinstance(ident := raw.get("id"), str)
        }
        for where, raw in self.records("sensors"):
            self.unknown_keys(raw, SENSOR_KEYS, where)
            ident = self.ident(raw, "id", where)
            ids.append((where, ident))
            bridge = self.get(raw, "bridge", str, where)
            if bridge is not None and bridge not in known_bridges:
                self.p.add(f"{where}.bridge", f"unknown bridge {bridge!r}")
            listed = self.get(raw, "measures", list, where)
            measures: list[Quantity] | None = None
            if listed is not None:
                measures = [q for m in listed if (q := member_of(Quantity, m)) is not None]
                if len(measures) < len(listed) or not measures:
                    allowed = " and/or ".join(f"'{q}'" for q in Quantity)
                    self.p.add(f"{where}.measures", f"must list {allowed}, got {listed!r}")
                    measures = None
            driver = self.get(raw, "driver", str, where)
            if driver is not None and driver not in DRIVERS:
                self.p.add(f"{where}.driver", f"{driver!r} is not a driver ({', '.join(DRIVERS)})")
            connection = self.get(raw, "connection", dict, where, required=driver in DRIVER_REQUIRED) or {}
            for key in DRIVER_REQUIRED.get(driver or "", ()):
                if key not in connection:
                    self.p.add(f"{where}.connection.{key}", f"missing (the {driver} driver needs it)")
            floor = self.get(
                raw, "noise_floor_db", float, where, required=bool(measures and Quantity.NOISE in measures)
            )
            if floor is not None and not 0 <= floor <= 90:
                self.p.add(
                    f"{where}.noise_floor_db", f"{floor} dB(A) is not a plausible microphone noise floor"
                )
            model = self.get(raw, "model", str, where, required=False) or ""
            if (
                ident is not None
                and ident not in out
                and bridge in bridges
                and measures
                and driver in DRIVERS
            ):
                out[ident] = Sensor(ident, bridge, tuple(measures), driver, connection, model, floor)
        self.unique(ids, "sensor")
        return out

    def read_installations(self, seats: dict[str, Seat], sensors: dict[str, Sensor]) -> list[Installation]:
        out: list[tuple[str, Installation]] = []
        known_seats = {ident for _, raw in self.records("seats") if isinstance(ident := raw.get("id"), str)}
        known_sensors = {
            ident for _, raw in self.records("sensors") if isinstance(ident := raw.get("id"), str)
        }
        for where, raw in self.records("installations"):
            self.unknown_keys(raw, INSTALLATION_KEYS, where)
            sensor = self.get(raw, "sensor", str, where)
            seat = self.get(raw, "seat", str, where)
            if sensor is not None and sensor not in known_sensors:
                self.p.add(f"{where}.sensor", f"unknown sensor {sensor!r}")
            if seat is not None and seat not in known_seats:
                self.p.add(f"{where}.seat", f"unknown seat {seat!r}")
            elif seat in seats and seats[seat].proxy_seat:
                self.p.add(
                    f"{where}.seat",
                    f"seat {seat!r} is declared to use seat {seats[seat].proxy_seat!r}'s sensor",
                )
            start = self.moment(raw["from"], f"{where}.from") if "from" in raw else None
            if "from" not in raw:
                self.p.add(f"{where}.from", "missing (when the sensor was installed)")
            end = self.moment(raw["until"], f"{where}.until") if "until" in raw else None
            if start and end and end <= start:
                self.p.add(f"{where}.until", "must be after 'from'")
                continue
            if sensor in sensors and seat in seats and start:
                out.append((where, Installation(sensor, seat, start, end)))
        self._check_overlaps(out, sensors)
        return [inst for _, inst in out]

    def _check_overlaps(self, items: list[tuple[str, Installation]], sensors: dict[str, Sensor]) -> None:
        """A sensor is in one place at a time; a seat has one sensor per quantity at a time."""
        for i, (where_a, a) in enumerate(items):
            for where_b, b in items[:i]:
                if not a.overlaps(b.start, b.end or datetime.max.replace(tzinfo=UTC)):
                    continue
                if a.sensor == b.sensor:
                    self.p.add(
                        f"{where_a}.from",
                        f"sensor {a.sensor!r} is also installed at {b.seat!r} then ({where_b})",
                    )
                elif a.seat == b.seat:
                    shared = set(sensors[a.sensor].measures) & set(sensors[b.sensor].measures)
                    if shared:
                        self.p.add(
                            f"{where_a}.from",
                            f"seat {a.seat!r} already has sensor {b.sensor!r} measuring "
                            f"{'/'.join(sorted(shared))} then ({where_b})",
                        )


def _article(names: str) -> str:
    return f"an {names}" if names[0] in "aeiou" else f"a {names}"


def _url_has_password(url: str) -> bool:
    netloc = url.split("://", 1)[-1].split("/", 1)[0]
    return "@" in netloc and ":" in netloc.split("@", 1)[0]
