"""Checking a site file's wiring the way the bridge will use it, so ``seatwatch validate`` catches it first.

The site file's own checks (seatwatch/core/site_file.py) know the structure but not the hardware: which Modbus
profiles exist and what they measure, which devices share an RS-485 line, what each driver accepts. A
mistake there used to pass ``validate`` and then stop the bridge on site. Here every sensor's wiring is
checked with keys that point at the line to change (``sensors[12].connection.address``), and then each
driver is built exactly as the bridge builds it — its constructors only check settings, they open
nothing — so ``validate`` passing means the bridge will accept the same file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.modbus_profile import RegisterProfile, load_register_profile
from firmware_bridge.sensor_state import SensorState
from seatwatch.core.config_errors import Problem, ProblemList
from seatwatch.core.site import Sensor, Site

MODBUS_ADDRESSES = range(1, 248)
_CONNECTION_KEY = re.compile(r"connection\.(\w+)")


@dataclass
class _Unit:
    sensor: Sensor
    where: str
    profile: RegisterProfile
    address: int
    baud: int


def wiring_problems(site: Site) -> list[Problem]:
    """Every wiring problem of ``site`` (already loaded, so structurally valid), located in its file."""
    if site.path is None:
        return []
    text = site.path.read_text(encoding="utf-8")
    problems = ProblemList(site.path, text)
    raw_sensors = tomllib.loads(text).get("sensors", [])
    index = {raw.get("id"): n for n, raw in enumerate(raw_sensors)}
    where = {s.id: f"sensors[{index[s.id]}]" for s in site.sensors.values()}
    base = site.path.parent
    buses: dict[str, list[_Unit]] = {}
    owners: dict[str, list[Sensor]] = {}  # port -> the sensors wired to it, any driver
    clean: set[str] = set()  # sensors without a problem found here
    for sensor in site.sensors.values():
        port = sensor.connection.get("port", sensor.connection.get("device"))
        if isinstance(port, str) and sensor.driver != "mqtt":
            owners.setdefault(f"{sensor.bridge}\0{port}", []).append(sensor)
        count = len(problems.problems)
        if sensor.driver == "modbus":
            unit = _modbus_unit(sensor, where[sensor.id], base, problems.add)
            if unit is not None:
                buses.setdefault(f"{sensor.bridge}\0{port}", []).append(unit)
        if len(problems.problems) == count:
            clean.add(sensor.id)
    for key, sensors in owners.items():
        port = key.split("\0", 1)[1]
        drivers = {s.driver for s in sensors}
        if len(sensors) > 1 and drivers != {"modbus"}:
            first = sensors[0]
            for other in sensors[1:]:
                problems.add(
                    f"{where[other.id]}.connection.port",
                    f"{port} is also the port of sensor {first.id!r} ({where[first.id]}); only Modbus "
                    "transmitters share a line (an RS-485 bus) — each reference device or audio input "
                    "needs its own port",
                )
                clean.discard(other.id)
    for units in buses.values():
        _check_bus(units, problems.add, clean)
    _build_drivers(site, base, where, clean, problems.add)
    return problems.problems


def _modbus_unit(sensor: Sensor, where: str, base: Path, add: Callable[[str, str], None]) -> _Unit | None:
    name = sensor.connection.get("profile")
    if not isinstance(name, str):
        add(f"{where}.connection.profile", "must be a profile name or path (a string)")
        return None
    try:
        profile = load_register_profile(name, base)
    except DriverConfigError as exc:
        add(f"{where}.connection.profile", str(exc))
        return None
    if tuple(sensor.measures) != (profile.quantity,):
        add(
            f"{where}.measures",
            f"{list(sensor.measures)!r}, but Modbus profile {profile.name!r} (connection.profile) reads "
            f"{profile.quantity} only: a transmitter measures one quantity; use measures = "
            f'["{profile.quantity}"] or the profile of a {"/".join(sensor.measures)} transmitter',
        )
        return None
    address = sensor.connection.get("address", profile.default_address)
    if isinstance(address, bool) or not isinstance(address, int) or address not in MODBUS_ADDRESSES:
        add(f"{where}.connection.address", f"must be a Modbus address 1..247, not {address!r}")
        return None
    baud = sensor.connection.get("baud", profile.default_baud)
    if isinstance(baud, bool) or not isinstance(baud, int) or not 300 <= baud <= 1_000_000:
        add(f"{where}.connection.baud", f"must be a baud rate (300..1000000), not {baud!r}")
        return None
    return _Unit(sensor, where, profile, address, baud)


def _check_bus(units: list[_Unit], add: Callable[[str, str], None], clean: set[str]) -> None:
    """One RS-485 line: one device per address, one baud rate (the framing is 8N1 for every device)."""
    port = units[0].sensor.connection["port"]
    by_address: dict[int, _Unit] = {}
    for unit in units:
        first = by_address.setdefault(unit.address, unit)
        if first is not unit:
            add(
                f"{unit.where}.connection.address",
                f"address {unit.address} on bus {port} is also the address of sensor {first.sensor.id!r} "
                f"({first.where}): two devices at one address answer at once and garble each other",
            )
            clean.discard(unit.sensor.id)
    first = units[0]
    for unit in units[1:]:
        if unit.baud != first.baud:
            said = "connection.baud" if "baud" in unit.sensor.connection else "its profile's default_baud"
            add(
                f"{unit.where}.connection.baud",
                f"{unit.baud} baud ({said}) differs from {first.baud} of sensor {first.sensor.id!r} "
                f"({first.where}) on the same bus {port}: every device on a line runs at one baud rate",
            )
            clean.discard(unit.sensor.id)


def _build_drivers(
    site: Site, base: Path, where: dict[str, str], clean: set[str], add: Callable[[str, str], None]
) -> None:
    """Build each driver as the bridge does (``firmware_bridge.command.BridgeRunner``); its refusals
    become located problems."""
    buses: dict[str, list[Sensor]] = {}
    for sensor in site.sensors.values():
        if sensor.id not in clean or sensor.driver == "mqtt":
            continue
        state = SensorState(sensor.id, sensor.bridge, sensor.driver)
        try:
            if sensor.driver == "reference":
                from firmware_bridge.drivers.reference_serial import ReferenceSerialDriver

                ReferenceSerialDriver(sensor, state, lambda _reading: None)
            elif sensor.driver == "audio":
                from firmware_bridge.drivers.audio_input import AudioInputDriver  # scipy: only when used

                AudioInputDriver(sensor, state, lambda _reading: None)
            else:
                buses.setdefault(f"{sensor.bridge}\0{sensor.connection['port']}", []).append(sensor)
        except DriverConfigError as exc:
            add(_located(exc, where[sensor.id]), _without_sensor(exc))
    for members in buses.values():
        from firmware_bridge.drivers.modbus_rtu import ModbusBus

        states = {s.id: SensorState(s.id, s.bridge, s.driver) for s in members}
        for sensor in members:
            try:
                ModbusBus([sensor], states, lambda _reading: None, base)
            except DriverConfigError as exc:
                add(_located(exc, where[sensor.id]), _without_sensor(exc))


def _located(exc: DriverConfigError, where: str) -> str:
    key = _CONNECTION_KEY.search(str(exc))
    return f"{where}.connection.{key.group(1)}" if key else f"{where}.connection"


def _without_sensor(exc: DriverConfigError) -> str:
    """The driver's message without its 'sensor X: connection.KEY' prefix, which the key now says."""
    return re.sub(r"^sensor [^:]+: (connection\.\w+:? )?", "", str(exc))
