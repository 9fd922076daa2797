"""Bridge parts without a broker: outbox, Modbus profiles, the reference driver on a real pty, clock check,
and clear errors for bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import tty
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest

from firmware_bridge.command import BridgeRunner
from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.drivers.audio_input import AudioInputDriver
from firmware_bridge.drivers.reference_serial import ReferenceSerialDriver
from firmware_bridge.modbus_profile import load_register_profile
from firmware_bridge.outbox import Outbox
from firmware_bridge.protocol import encode_hello, encode_levels
from firmware_bridge.sensor_state import SensorState
from seatwatch.core.contract import Reading
from seatwatch.core.site import Sensor
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.bridge_support import BRIDGE, REPO, write_site


def test_outbox_keeps_order_across_reopen_and_counts_what_the_bound_drops(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.sqlite", max_rows=5)
    box.add([f'{{"n":{i}}}' for i in range(3)])
    rows = box.take(0, 10)
    assert box.remove_range(rows[0][0], rows[0][0]) == 1
    box.close()
    box = Outbox(tmp_path / "o.sqlite", max_rows=5)  # as after kill -9: the file is all there is
    assert [p for _, p in box.take(0, 10)] == ['{"n":1}', '{"n":2}']
    assert box.add([f'{{"n":{i}}}' for i in range(3, 8)]) == 2
    assert box.dropped() == 2 and box.depth() == 5
    assert [p for _, p in box.take(0, 10)][0] == '{"n":3}'
    assert box.add(['{"n":8}'], now=time.time() + 40 * 86400) == 5  # older than the age bound
    assert box.dropped() == 7


def test_shipped_profiles_decode_what_the_simulator_encodes() -> None:
    noise, lux = load_register_profile("renke-noise"), load_register_profile("renke-lux")
    assert (noise.register, noise.count, noise.default_baud, noise.default_address) == (0, 1, 4800, 1)
    assert noise.encode(52.3) == [523] and noise.decode([523]) == 52.3
    assert (lux.register, lux.count) == (2, 2)
    assert lux.encode(123_456) == [1, 57920] and lux.decode([1, 57920]) == 123_456


def test_a_bad_profile_names_the_file_and_the_key(tmp_path: Path) -> None:
    bad = tmp_path / "mine.toml"
    bad.write_text('quantity = "noise"\nfunction = 6\nregister = 0\ntype = "u8"\n')
    with pytest.raises(
        DriverConfigError, match=r"mine.toml:2: function: must be 3 or 4; .*mine.toml:4: type: must be one of"
    ):
        load_register_profile("mine.toml", tmp_path)
    with pytest.raises(DriverConfigError, match="no such shipped profile"):
        load_register_profile("nope")


@contextmanager
def driver_on_pty(
    driver_class: type, sensor_id: str, measures: tuple[str, ...], connection: dict, wanted: int
) -> Iterator[tuple[Callable[[bytes], int], list[Reading], SensorState]]:
    """Run a byte-stream driver on a real pty: yields (write, readings, state), then waits for ``wanted``."""
    master, slave = os.openpty()
    tty.setraw(slave)
    key = "device" if driver_class is AudioInputDriver else "port"
    sensor = Sensor(
        sensor_id,
        BRIDGE,
        tuple(Quantity(m) for m in measures),
        driver_class.__name__,
        {key: os.ttyname(slave), **connection},
    )
    state = SensorState(sensor_id, BRIDGE, sensor.driver)
    got: list[Reading] = []
    stop = threading.Event()
    thread = threading.Thread(target=driver_class(sensor, state, got.append).run, args=(stop,))
    thread.start()
    time.sleep(0.5)  # the driver flushes what was on the line before it opened the port
    try:
        yield (lambda data: _write_all(master, data)), got, state
        deadline = time.monotonic() + 5
        while len(got) < wanted and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
        os.close(master)
        os.close(slave)


def _write_all(fd: int, data: bytes) -> int:
    """Write every byte: a pty takes a few kB at a time, and ``os.write`` says how many it took."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return len(data)


def test_reference_driver_on_a_pty_counts_gaps_duplicates_and_garbage() -> None:
    stream = encode_hello("ref-x", "1.0") + encode_levels(1, 1000, 50.0, 55.0, 45.0, 300.0)
    stream += b"\x00garbage" + encode_levels(1, 1000, 50.0, 55.0, 45.0, 300.0)  # repeated
    stream += encode_levels(4, 1000, 51.0, 56.0, 46.0, 310.0)  # 2 and 3 lost
    with driver_on_pty(ReferenceSerialDriver, "ref-x", ("noise", "light"), {}, 2) as (write, got, state):
        before = time.time()
        write(stream)
    assert [r.seq for r in got] == [1, 4]
    assert state.errors() == {"garbage": 1, "duplicate": 1, "gap": 2}
    assert state.status()["device"] == "ref-x" and state.online
    assert abs(got[0].ts - (before * 1000 - 1000)) < 500 and got[0].dur == 1.0  # host clock − interval


def test_a_clock_before_2020_is_refused_and_counted(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path, "t-clock", "mqtt://127.0.0.1:1", refs=1, modbus_per_bus=1))
    bridge = BridgeRunner(site, BRIDGE, tmp_path / "state")
    bridge.emit(Reading("ref-0", 1, 1_000_000, 1.0, laeq=50.0))
    bridge.emit(Reading("ref-0", 2, 1_800_000_000_000, 1.0, laeq=50.0))
    bridge._store()
    assert bridge.clock_refused == 1 and bridge.outbox.depth() == 1
    assert bridge.status()["clock_refused"] == 1
    bridge.outbox.close()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("baud = 115200 }", "connection.baud must be int, not str"),
        ('profile = "renke-noise" }', "no such shipped profile"),
    ],
)
def test_bad_connection_settings_exit_2_with_a_clear_message(
    tmp_path: Path, change: str, message: str
) -> None:
    path = write_site(tmp_path, "t-bad", "mqtt://127.0.0.1:1", refs=1, modbus_per_bus=1)
    text = path.read_text()
    broken = change.replace("115200", '"fast"').replace("renke-noise", "acme-9000")
    path.write_text(text.replace(change, broken, 1))
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "bridge", "--site", str(path), "--bridge", BRIDGE],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert "sensor" in result.stderr or "profile" in result.stderr


def test_audio_input_on_a_pty_reduces_pcm_to_levels_in_memory() -> None:
    t = np.arange(48000 * 3) / 48000
    pcm = (np.sin(2 * np.pi * 1000 * t) * 0.1 * 32767).astype("<i2").tobytes()
    connection = {"sample_rate": 48000, "sensitivity_db": 120.0}
    with driver_on_pty(AudioInputDriver, "mic-x", ("noise",), connection, 3) as (write, got, state):
        for i in range(0, len(pcm), 9600):  # 100-ms blocks in real time, as a device sends them
            write(pcm[i : i + 9600])
            time.sleep(0.1)
    assert [r.seq for r in got] == [0, 1, 2]
    # a 1 kHz sine of amplitude 0.1 full scale: RMS −23.0 dB re full scale -> 97.0 dB(A) at 120 dB sensitivity
    assert all(r.laeq is not None and abs(r.laeq - 97.0) < 0.1 for r in got)
    assert all(r.dur == 1.0 and r.lux is None for r in got)
    assert abs(got[1].ts - got[0].ts - 1000) < 300 and state.online
