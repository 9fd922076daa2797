"""Virtual devices on real pseudo-terminals: a reference sensor, and an RS-485 bus of Modbus transmitters.

They exercise the bridge's real serial path (termios, partial reads, vanishing ports). A reference device
streams one frame a second, encoded by :mod:`firmware_bridge.protocol`, just as the firmware does; a bus is a
pair of pseudo-terminals joined by :class:`PtyRelay` (what ``socat pty pty`` does, without needing socat) with
pymodbus's RTU server on one end, whose register values are computed at each request
from the same :mod:`firmware_bridge.modbus_profile` the bridge decodes with. A removed transmitter stays
silent (the bridge sees timeouts), as on a real bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import os
import select
import threading
import time
import tty
from collections.abc import Callable
from pathlib import Path

from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusSerialServer
from pymodbus.simulator import DataType, SimData, SimDevice

from firmware_bridge.modbus_profile import RegisterProfile
from firmware_bridge.protocol import encode_hello, encode_levels

Levels = Callable[[float], tuple[float | None, float | None, float | None, float | None] | None]
"""For an interval starting at epoch second t: (laeq, lafmax, lafmin, lux) the device reports, each None
when the device does not measure it (a light-only sensor has no noise); None: no frame at all."""


def link(path: Path, target: str) -> None:
    """Point the symlink ``path`` at ``target`` (atomically, so the bridge never sees a half-made link)."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(target)
    temporary.replace(path)


class ReferenceDevice:
    """A reference sensor on a pty: hello frame at start, then one levels frame right after each second."""

    def __init__(self, path: Path, device_id: str, levels: Levels) -> None:
        self.path = path
        self.device_id = device_id
        self.levels = levels
        self.seq = 0
        self._master: int | None = None
        self._slave: int | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo or line editing on the bridge's side until it sets its own modes
        os.set_blocking(master, False)  # nobody listening: bytes are lost as on a UART, never block
        with self._lock:
            self._master, self._slave = master, slave
        link(self.path, os.ttyname(slave))
        self._stop.clear()
        self.write(encode_hello(self.device_id, "sim-1.0"))
        self._thread = threading.Thread(target=self._stream, name=f"sim {self.device_id}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Unplug: the pty and the link disappear, so the bridge's open port fails like a pulled cable."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.path.unlink(missing_ok=True)
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None

    def write(self, data: bytes) -> None:
        """Put bytes on the line (also how tests inject garbage); dropped if the line is unplugged or full."""
        with self._lock:
            if self._master is None:
                return
            with contextlib.suppress(OSError):  # BlockingIOError included
                os.write(self._master, data)

    def _stream(self) -> None:
        next_second = math.floor(time.time()) + 1
        while not self._stop.wait(max(0.0, next_second + 0.02 - time.time())):
            values = self.levels(next_second - 1)
            if values is not None:
                self.write(encode_levels(self.seq, 1000, *values))
                self.seq += 1
            next_second += 1
            if next_second < time.time() - 1:  # fell far behind (suspended): skip, as a device would
                next_second = math.floor(time.time()) + 1


class PtyRelay:
    """Two pseudo-terminals wired back to back, like a null-modem cable: bytes written to one come out of the
    other. The bridge opens one end and pymodbus's server the other; a relay thread copies between the
    master sides. This is the one thing the simulator used socat for, so a fresh machine needs no socat.
    """

    def __init__(self, path: Path, server_path: Path) -> None:
        self.path = path
        self.server_path = server_path
        self._fds: list[int] = []
        self._wake_r, self._wake_w = -1, -1
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        masters = []
        for link_path in (self.path, self.server_path):
            master, slave = os.openpty()
            tty.setraw(slave)  # raw bytes both ways: Modbus frames are binary
            os.set_blocking(master, False)
            self._fds += [master, slave]
            masters.append(master)
            link(link_path, os.ttyname(slave))
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(
            target=self._copy, args=tuple(masters), name=f"pty relay {self.path}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread:
            os.write(self._wake_w, b"x")
            self._thread.join(timeout=5)
        for link_path in (self.path, self.server_path):
            link_path.unlink(missing_ok=True)
        for fd in (*self._fds, self._wake_r, self._wake_w):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._fds, self._wake_r, self._wake_w = [], -1, -1

    def _copy(self, a: int, b: int) -> None:
        other = {a: b, b: a}
        while True:
            ready, _, _ = select.select([a, b, self._wake_r], [], [])
            if self._wake_r in ready:
                return
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # EIO while nobody holds the slave open: nothing to carry
                    continue
                with contextlib.suppress(OSError):  # a full line drops bytes, as a UART would
                    os.write(other[fd], data)


class ModbusBusSim:
    """Modbus RTU transmitters sharing one serial line: a :class:`PtyRelay` + pymodbus RTU server.

    ``units`` maps a Modbus address to (sensor id, profile); ``value_of(sensor_id)`` gives the instantaneous
    value at the moment of the request (None: the device is unplugged and does not answer).
    """

    def __init__(
        self,
        path: Path,
        server_path: Path,
        baud: int,
        units: dict[int, tuple[str, RegisterProfile]],
        value_of: Callable[[str], float | None],
    ) -> None:
        self.path = path
        self.server_path = server_path
        self.baud = baud
        self.units = units
        self.value_of = value_of
        self._relay = PtyRelay(path, server_path)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusSerialServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._relay.start()
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(ready,), name=f"sim bus {self.path}", daemon=True
        )
        self._thread.start()
        ready.wait(10)

    def stop(self) -> None:
        if self._loop and self._server:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(timeout=5)
        if self._thread:
            self._thread.join(timeout=5)
        self._relay.stop()

    def _serve(self, ready: threading.Event) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            devices = []
            for address, (sensor_id, profile) in self.units.items():
                size = profile.register + profile.count
                data = SimData(0, count=size, values=0, datatype=DataType.REGISTERS)
                action = functools.partial(self._answer, sensor_id, profile)
                devices.append(SimDevice(id=address, simdata=[data], action=action))
            # pymodbus servers must be created inside the running loop (docs/dependencies.md)
            self._server = ModbusSerialServer(
                devices, port=str(self.server_path), baudrate=self.baud, ignore_missing_devices=True
            )
            ready.set()
            await self._server.serve_forever()

        asyncio.run(serve())

    async def _answer(
        self,
        sensor_id: str,
        profile: RegisterProfile,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: list[int] | None,
    ) -> None:
        """pymodbus calls this before answering: fill the profile's registers with the current value."""
        value = self.value_of(sensor_id)
        if value is None:
            raise NoSuchIdException(sensor_id)  # with ignore_missing_devices: no answer at all
        offset = profile.register - start_address
        registers[offset : offset + profile.count] = profile.encode(value)
