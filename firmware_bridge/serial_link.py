"""Keeping a serial port open while USB cables are unplugged and replugged: retry with backoff.

A gateway PC sees /dev/ttyUSB* and /dev/serial/by-id/* links vanish when a cable is pulled and come back
when it is replugged; the bridge must report the sensor offline meanwhile and pick the device up again
without a restart. Both byte-stream drivers (reference frames, raw PCM) and the Modbus bus loop use this.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

import serial

from firmware_bridge.driver_config import check_keys, option
from firmware_bridge.sensor_state import Emit, SensorState
from seatwatch.core.site import Sensor

PORT_ERRORS = (serial.SerialException, OSError, ValueError)


class Backoff:
    """Delays of 0.5, 1, 2, 4 ... up to ``limit_s`` seconds between attempts to reopen a port."""

    def __init__(self, first_s: float = 0.5, limit_s: float = 5.0) -> None:
        self.first_s = first_s
        self.limit_s = limit_s
        self._next = first_s

    def next(self) -> float:
        delay, self._next = self._next, min(self._next * 2, self.limit_s)
        return delay

    def reset(self) -> None:
        self._next = self.first_s


def cannot_open(url: str, states: list[SensorState], why: str) -> str:
    """The offline reason for a port that will not open, naming the site-file key to fix.

    Installers meet this first (a wrong by-id path, an unplugged adapter, a dry run against the site
    file's real paths), so it says where the path comes from and how to rehearse without hardware.
    """
    names = [state.sensor for state in states]
    sensors = ", ".join(names[:3]) + (f" and {len(names) - 3} more on this bus" if len(names) > 3 else "")
    return (
        f"cannot open {url}: {why} — check connection.port of {'sensors' if len(names) > 1 else 'sensor'} "
        f"{sensors} in the site file "
        "(a dry run: seatwatch simulate --site SITE --write-site SIM.toml, then bridge --site SIM.toml)"
    )


def stream_port(
    url: str,
    baud: int,
    states: list[SensorState],
    stop: threading.Event,
    handle: Callable[[bytes, float], None],
    stale_after_s: float,
    is_fresh: Callable[[], float],
) -> None:
    """Read ``url`` until ``stop``: feed every chunk to ``handle(data, host_time)``; reopen when it vanishes.

    ``is_fresh()`` returns the monotonic time of the last good data; beyond ``stale_after_s`` without it
    the sensors are reported offline although the port is open (a hung device or a cable to nothing).
    """
    backoff = Backoff()
    while not stop.is_set():
        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=0.2)
            port.reset_input_buffer()  # what piled up while nobody listened is stale: its time is unknown
        except PORT_ERRORS as exc:
            for state in states:
                state.set_offline(cannot_open(url, [state], getattr(exc, "strerror", None) or str(exc)))
            stop.wait(backoff.next())
            continue
        backoff.reset()
        opened = time.monotonic()
        try:
            while not stop.is_set():
                data = port.read(max(1, port.in_waiting))
                if data:
                    handle(data, time.time())
                if time.monotonic() - max(opened, is_fresh()) > stale_after_s:
                    for state in states:
                        state.set_offline(f"no valid data for {stale_after_s:g} s on {url}")
        except PORT_ERRORS as exc:
            for state in states:
                state.set_offline(f"{url} vanished: {exc}")
        finally:
            port.close()
        stop.wait(backoff.next())


class StreamDriver(ABC):
    """A driver fed by one sensor's byte stream: the port's connection keys, reopening, staleness.

    Subclasses name their port key and extra keys and turn bytes into readings in :meth:`feed`, calling
    :meth:`fresh` whenever the bytes were good.
    """

    port_key = "port"
    extra_keys: frozenset[str] = frozenset()

    def __init__(self, sensor: Sensor, state: SensorState, emit: Emit) -> None:
        check_keys(sensor, {self.port_key, "baud", "stale_after_s", *self.extra_keys})
        self.sensor = sensor
        self.port: str = option(sensor, self.port_key, str)
        self.baud: int = option(sensor, "baud", int, 115200)
        self.stale_after_s: float = option(sensor, "stale_after_s", float, 3.0)
        self.state = state
        self.emit = emit
        self._last_good = 0.0

    def run(self, stop: threading.Event) -> None:
        """Read until ``stop`` is set, surviving unplugged cables."""
        stream_port(
            self.port, self.baud, [self.state], stop, self.feed, self.stale_after_s, lambda: self._last_good
        )

    def fresh(self) -> None:
        """Good data just arrived: the sensor is online."""
        self._last_good = time.monotonic()
        self.state.set_online()

    @abstractmethod
    def feed(self, data: bytes, host_time: float) -> None:
        """Handle bytes received at ``host_time`` (epoch seconds, host clock)."""
