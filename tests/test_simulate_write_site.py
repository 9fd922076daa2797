"""``seatwatch simulate --write-site``: a dry run of the serial path, with nothing edited by hand.

The site file names ``/dev/serial/by-id/...`` paths that only real adapters create. The simulator writes a
copy pointing at its pseudo-terminals, and a real bridge on that copy publishes every sensor through a real
Mosquitto; a bridge on the original says which key to fix (a WARNING, not a quiet INFO line).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from seatwatch.core.site_file import load_site
from tests.bridge_support import REPO, Collector, start_bridge, stop_bridge, wait_until, write_site


def _site_with_real_device_paths(tmp_path: Path, mqtt_url: str, site_id: str) -> Path:
    """A 2-reference, 2-bus site whose ports are by-id paths under /dev, as on a gateway."""
    path = write_site(tmp_path, site_id, mqtt_url, refs=2, modbus_per_bus=1)
    text = path.read_text().replace(f"{tmp_path / 'dev'}/", "/dev/serial/by-id/usb-seatwatch-test-")
    path.write_text(text)
    return path


def test_bridge_on_the_written_copy_reads_every_simulated_sensor(tmp_path: Path, mqtt_url: str) -> None:
    site_id = f"t-wsite-{os.getpid()}"
    original = _site_with_real_device_paths(tmp_path, mqtt_url, site_id)
    copy = tmp_path / "out" / "sim-site.toml"
    simulate = subprocess.Popen(
        [sys.executable, "-m", "seatwatch", "simulate", "--site", str(original), "--write-site", str(copy),
         "--port-dir", str(tmp_path / "ports")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    assert simulate.stdout is not None and simulate.stderr is not None
    listed = dict(simulate.stdout.readline().strip().split("\t") for _ in range(6))
    told = ""  # the simulator may say other things first (the rehearsal topic it follows)
    for _ in range(5):
        told = simulate.stderr.readline()
        if "seatwatch bridge --site" in told:
            break
    collector = Collector(mqtt_url, site_id)
    bridge = None
    try:
        assert f"seatwatch bridge --site {copy} --bridge gw-test" in told
        written = load_site(copy)
        assert {s.id: s.connection["port"] for s in written.sensors.values()} == listed
        assert all(port.startswith(str(tmp_path / "ports")) for port in listed.values())
        # Only the port values changed: every other line of the original is in the copy, in order.
        kept = [line for line in original.read_text().splitlines() if "port = " not in line]
        assert [line for line in copy.read_text().splitlines() if line in kept] == kept
        bridge = start_bridge(copy, tmp_path / "bridge.log")
        wait_until(
            lambda: len(collector.by_sensor()) == 6 and min(map(len, collector.by_sensor().values())) >= 5,
            60,
            "5 readings from each of the 6 simulated sensors",
        )
    finally:
        if bridge is not None:
            stop_bridge(bridge)
        collector.close()
        simulate.send_signal(signal.SIGTERM)
        simulate.wait(timeout=20)


def test_bridge_on_the_original_warns_with_the_key_to_fix(tmp_path: Path) -> None:
    original = _site_with_real_device_paths(tmp_path, "mqtt://127.0.0.1:1", "t-wsite-warn")
    log = tmp_path / "bridge.log"
    bridge = start_bridge(original, log)
    try:
        wait_until(lambda: log.read_text().count("WARNING") >= 6, 30, "a warning for each sensor")
    finally:
        stop_bridge(bridge)
    warnings = [line for line in log.read_text().splitlines() if " WARNING " in line]
    ref = next(line for line in warnings if "sensor ref-0 " in line)
    assert "cannot open /dev/serial/by-id/usb-seatwatch-test-ref-0" in ref
    assert "connection.port of sensor ref-0 in the site file" in ref and "--write-site" in ref
    bus = next(line for line in warnings if "sensor nz-0-0 " in line)
    assert "connection.port of sensors nz-0-0, lx-0-0 in the site file" in bus
