"""Driver for RS-485 Modbus RTU noise and illuminance transmitters: several devices per bus, one thread a bus.

Off-the-shelf noise transmitters only show an instantaneous level, so the bridge polls them as often as the
bus allows and integrates the polls of each host-clock second into LAeq (energy mean, never arithmetic),
LAFmax and LAFmin with ``seatwatch.core.acoustics.decibels``. Light transmitters are read once a second. The
poll schedule paces requests to what the wire carries at the configured baud (request + response +
3.5-character gaps + turnaround), so a fast pseudo-terminal behaves like a real bus and a real bus is kept
near capacity. A device that stops answering is counted (``timeout``) and reported offline; the other devices
on the bus keep their schedule. Register maps are profiles (``modbus_profile.py``). Sample:
``modbus_rtu.sample.toml``.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pymodbus.client import ModbusSerialClient
from pymodbus.exceptions import ConnectionException, ModbusException

from firmware_bridge.driver_config import DriverConfigError, check_keys, option
from firmware_bridge.modbus_profile import RegisterProfile, load_register_profile
from firmware_bridge.sensor_state import Emit, SensorState
from firmware_bridge.serial_link import PORT_ERRORS, Backoff, cannot_open
from seatwatch.core.acoustics.decibels import energy_mean
from seatwatch.core.contract import LUX_RANGE, NOISE_RANGE_DB, Reading
from seatwatch.core.site import Sensor
from seatwatch.core.vocabulary import Quantity

KEYS = {"port", "baud", "address", "profile", "timeout_s", "stale_after_s"}
TURNAROUND_S = 0.005  # a transmitter's typical reply delay after the request's last byte
BITS_PER_CHAR = 10  # 8N1: start + 8 data + stop

# pymodbus logs every timeout as an error; the bridge counts them per sensor instead.
logging.getLogger("pymodbus").setLevel(logging.CRITICAL)


def transaction_s(baud: int, registers: int) -> float:
    """Wire time of one read: 8-byte request, (5 + 2n)-byte reply, two 3.5-character gaps, turnaround."""
    return (8 + 5 + 2 * registers + 7) * BITS_PER_CHAR / baud + TURNAROUND_S


@dataclass
class Unit:
    """One transmitter on the bus and what it measured in the current second."""

    sensor: Sensor
    profile: RegisterProfile
    address: int
    state: SensorState
    stale_after_s: float
    seq: int = 0
    values: list[float] = field(default_factory=list)
    last_ok: float = 0.0


class ModbusBus:
    """All Modbus sensors wired to one serial port; ``run`` polls them until ``stop`` is set."""

    def __init__(self, sensors: list[Sensor], states: dict[str, SensorState], emit: Emit, base: Path | None):
        self.units: list[Unit] = []
        for sensor in sensors:
            check_keys(sensor, KEYS)
            try:
                profile = load_register_profile(option(sensor, "profile", str), base)
            except DriverConfigError as exc:
                raise DriverConfigError(f"sensor {sensor.id}: connection.profile: {exc}") from None
            if profile.quantity not in sensor.measures:
                raise DriverConfigError(
                    f"sensor {sensor.id}: profile {profile.name!r} measures {profile.quantity}, "
                    f"but the sensor measures {', '.join(sensor.measures)}"
                )
            address = option(sensor, "address", int, profile.default_address)
            if address > 247:
                raise DriverConfigError(f"sensor {sensor.id}: connection.address {address} is not 1..247")
            stale = option(sensor, "stale_after_s", float, 3.0)
            self.units.append(Unit(sensor, profile, address, states[sensor.id], stale))
        first = sensors[0]
        self.port: str = option(first, "port", str)
        self.baud: int = option(first, "baud", int, self.units[0].profile.default_baud)
        self.timeout_s = max(option(s, "timeout_s", float, 0.2) for s in sensors)
        for unit in self.units[1:]:
            baud = option(unit.sensor, "baud", int, unit.profile.default_baud)
            if baud != self.baud:
                raise DriverConfigError(
                    f"sensor {unit.sensor.id}: connection.baud {baud} differs from {self.baud} of sensor "
                    f"{first.id} on the same bus {self.port}"
                )
        addresses = [u.address for u in self.units]
        if len(set(addresses)) != len(addresses):
            raise DriverConfigError(f"bus {self.port}: two sensors share a Modbus address ({addresses})")
        self.emit = emit
        self._noise = [u for u in self.units if u.profile.quantity == Quantity.NOISE]
        self._light = [u for u in self.units if u.profile.quantity == Quantity.LIGHT]

    def polls_per_second(self) -> float:
        """What the bus carries at its baud: the ceiling the schedule runs at."""
        return 1.0 / transaction_s(self.baud, max(u.profile.count for u in self.units))

    def run(self, stop: threading.Event) -> None:
        backoff = Backoff()
        while not stop.is_set():
            client = ModbusSerialClient(port=self.port, baudrate=self.baud, timeout=self.timeout_s, retries=0)
            try:
                opened = client.connect()
            except PORT_ERRORS:
                opened = False
            if not opened:
                reason = cannot_open(self.port, [u.state for u in self.units], "no such port or no access")
                for unit in self.units:
                    unit.state.set_offline(reason)
                stop.wait(backoff.next())
                continue
            backoff.reset()
            try:
                self._poll_until_silent(client, stop)
            finally:
                client.close()
            stop.wait(backoff.next())

    def _poll_until_silent(self, client: ModbusSerialClient, stop: threading.Event) -> None:
        """Poll on schedule; return (to reopen the port) after a whole second in which nobody answered."""
        second = math.floor(time.time())
        first_full = second + 1  # the second we opened in is partial: no reading for it
        answered = True
        pending: list[Unit] = []
        turn = 0
        while not stop.is_set():
            now = time.time()
            if math.floor(now) != second:
                if second >= first_full:
                    self._close_second(second)
                for unit in self.units:
                    unit.values.clear()
                if not answered:
                    return
                second, answered, pending = math.floor(now), False, list(self._light)
            if pending:
                unit = pending.pop(0)
            elif self._noise:
                unit, turn = self._noise[turn % len(self._noise)], turn + 1
            else:
                stop.wait(max(0.0, second + 1 - time.time()))
                continue
            started = time.monotonic()
            answered |= self._poll(client, unit)
            pause = transaction_s(self.baud, unit.profile.count) - (time.monotonic() - started)
            if pause > 0:
                stop.wait(pause)

    def _poll(self, client: ModbusSerialClient, unit: Unit) -> bool:
        """One request; a value goes to the unit's second, a failure to its counters. True if it answered."""
        read = client.read_holding_registers if unit.profile.function == 3 else client.read_input_registers
        try:
            response = read(unit.profile.register, count=unit.profile.count, device_id=unit.address)
        except ConnectionException:
            unit.state.count("port_error")
            return False
        except (ModbusException, *PORT_ERRORS):
            unit.state.count("timeout")
            self._check_stale(unit)
            return False
        if response.isError() or len(response.registers) < unit.profile.count:
            unit.state.count("exception")
            return True
        value = unit.profile.decode(response.registers)
        low, high = NOISE_RANGE_DB if unit.profile.quantity == Quantity.NOISE else LUX_RANGE
        if not low <= value <= high:
            unit.state.count("out_of_range")
            return True
        unit.values.append(value)
        unit.last_ok = time.monotonic()
        unit.state.set_online()
        return True

    def _check_stale(self, unit: Unit) -> None:
        if time.monotonic() - unit.last_ok > unit.stale_after_s:
            unit.state.set_offline(f"no answer from address {unit.address} on {self.port}")

    def _close_second(self, second: int) -> None:
        """Turn each unit's polls of ``second`` into a reading stamped with that second's start."""
        for unit in self.units:
            if not unit.values:
                self._check_stale(unit)
                continue
            if unit.profile.quantity == Quantity.NOISE:
                reading = Reading(
                    unit.sensor.id,
                    unit.seq,
                    second * 1000,
                    1.0,
                    laeq=round(energy_mean(unit.values), 2),
                    lafmax=max(unit.values),
                    lafmin=min(unit.values),
                )
            else:
                reading = Reading(
                    unit.sensor.id, unit.seq, second * 1000, 1.0, lux=sum(unit.values) / len(unit.values)
                )
            self.emit(reading)
            unit.seq += 1
