"""The simulator: a deterministic, plausible office model, and ``seatwatch simulate`` on real ptys."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import serial

from firmware_bridge.protocol import FrameDecoder, LevelsFrame
from firmware_bridge.simulate.environment import office_lux, office_noise_db
from firmware_bridge.simulate.simulator import SensorBias, Simulator
from seatwatch.core.site_file import load_site
from tests.bridge_support import REPO, write_site
from tests.conftest import EXAMPLE_SITE

# 2026-11-25 is a Wednesday; the example site works 08:00-22:00 in Shanghai (UTC+8).
WEDNESDAY_10H = datetime(2026, 11, 25, 2, 0, tzinfo=UTC)
WEDNESDAY_03H = datetime(2026, 11, 24, 19, 0, tzinfo=UTC)
WEDNESDAY_20H = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_office_model_is_deterministic_and_plausible() -> None:
    site = load_site(EXAMPLE_SITE)
    seats = list(site.seats)
    day = [office_noise_db(site, s, WEDNESDAY_10H + timedelta(seconds=n)) for s in seats for n in range(30)]
    night = [office_noise_db(site, s, WEDNESDAY_03H + timedelta(seconds=n)) for s in seats for n in range(30)]
    assert min(day) >= 44 and max(day) <= 68 and 50 <= sum(day) / len(day) <= 58
    assert min(night) >= 33 and max(night) <= 45
    assert office_noise_db(site, "E-01", WEDNESDAY_10H) == office_noise_db(site, "E-01", WEDNESDAY_10H)
    assert office_noise_db(site, "E-01", WEDNESDAY_10H, seed=1) != office_noise_db(
        site, "E-01", WEDNESDAY_10H
    )
    noon = [office_lux(site, s, WEDNESDAY_10H) for s in seats]
    evening = [office_lux(site, s, WEDNESDAY_20H) for s in seats]
    assert min(noon) >= 300 and max(noon) <= 1500
    assert 0 < sum(v < 200 for v in evening) < len(seats) / 2  # some seats dim in the evening
    assert office_lux(site, "E-01", WEDNESDAY_03H) < 20


def test_devices_stream_biased_levels_on_a_pty(tmp_path: Path) -> None:
    site = load_site(write_site(tmp_path, "t-sim", "mqtt://127.0.0.1:1", refs=1, modbus_per_bus=0))
    with Simulator(site, port_dir=tmp_path / "ports", biases={"ref-0": SensorBias(2.0, 0.5)}) as sim:
        sim.set_source("ref-0", noise_db=94.0, lux=1000.0)
        with serial.serial_for_url(sim.port_for("ref-0"), baudrate=115200, timeout=3.5) as port:
            port.reset_input_buffer()
            items = FrameDecoder().feed(port.read_until(b"\n"))
            sim.remove_device("ref-0")
            assert not os.path.exists(sim.port_for("ref-0"))
            sim.restore_device("ref-0")
        with serial.serial_for_url(sim.port_for("ref-0"), baudrate=115200, timeout=3.5) as port:
            items += FrameDecoder().feed(port.read_until(b"\n"))  # the replugged device streams again
    levels = [i for i in items if isinstance(i, LevelsFrame)]
    assert (
        len(levels) == 2
        and levels[1].seq > levels[0].seq
        and all((f.laeq, f.lafmax, f.lafmin, f.lux) == (96.0, 96.0, 96.0, 500.0) for f in levels)
    )


def test_ports_under_dev_go_to_the_port_dir(tmp_path: Path) -> None:
    site = load_site(EXAMPLE_SITE)
    sim = Simulator(site, "gw-east", port_dir=tmp_path)
    assert sim._place("/dev/serial/by-id/usb-seatwatch_ref-001-if00", "ref-001") == tmp_path / "ref-001"
    assert sim._place(str(tmp_path / "a" / "tty"), "x") == tmp_path / "a" / "tty"


def test_simulate_command_lists_ports_and_stops_on_sigterm(tmp_path: Path) -> None:
    site = write_site(tmp_path, "t-cmd", "mqtt://127.0.0.1:1", refs=2, modbus_per_bus=1)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "seatwatch",
            "simulate",
            "--site",
            str(site),
            "--port-dir",
            str(tmp_path / "p"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(6)]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    assert {line.split("\t")[0] for line in lines} == {
        "ref-0",
        "ref-1",
        "nz-0-0",
        "lx-0-0",
        "nz-1-0",
        "lx-1-0",
    }
    assert lines[0].split("\t")[1].strip() == str(tmp_path / "dev" / "ref-0")


def test_simulate_command_with_a_bad_site_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "site.toml"
    bad.write_text('[site]\nid = "x"\n')
    result = subprocess.run(
        [sys.executable, "-m", "seatwatch", "simulate", "--site", str(bad)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert result.returncode == 2 and "site.name" in result.stderr and "Traceback" not in result.stderr
