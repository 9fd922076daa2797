"""Every thread is supervised: a worker that raises is logged, reported as degraded and restarted.

The faults are injected (a driver or a database client with a bug), because a correct program offers
none; what is under test is the supervision around them, with the real bridge, broker and influxd.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.command import BridgeRunner
from firmware_bridge.simulate.simulator import Simulator
from ingest.service import IngestService, Options
from ingest.writers.v1_http import V1HttpWriter
from seatwatch.core.contract import Reading, encode, encode_batch
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from seatwatch.core.supervision import Supervisor
from seatwatch.core.topics import batch_topic
from tests.bridge_support import BRIDGE, Collector, start_bridge, stop_bridge, wait_until
from tests.bridge_support import write_site as write_bridge_site
from tests.ingest_process import wait_for_count
from tests.publish_helpers import publish_payloads, publisher, write_site

pytestmark = pytest.mark.integration


def test_a_failing_worker_is_restarted_with_backoff_and_reported_until_healthy() -> None:
    calls: list[float] = []
    failures: list[str] = []

    def work(stop: threading.Event) -> None:
        calls.append(time.monotonic())
        if len(calls) <= 2:
            raise RuntimeError(f"boom {len(calls)}")
        stop.wait()

    supervisor = Supervisor(
        logging.getLogger("test"), first_s=0.1, max_s=1.0, healthy_after_s=0.5,
        on_failure=lambda name, exc: failures.append(f"{name}: {exc}"),
    )  # fmt: skip
    stop = threading.Event()
    supervisor.start("worker-x", work, stop)
    deadline = time.monotonic() + 5
    while len(calls) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(calls) == 3 and failures == ["worker-x: boom 1", "worker-x: boom 2"]
    assert calls[2] - calls[1] >= 0.18  # backoff doubled: 0.1 s, then 0.2 s
    assert supervisor.problems() == ["worker-x: RuntimeError: boom 2 (restarts: 2)"]
    time.sleep(0.7)
    assert supervisor.problems() == []  # ran healthily for healthy_after_s
    guarded = supervisor.guard("callback", lambda: 1 / 0)
    assert guarded() is None and supervisor.problems()[0].startswith("callback: ZeroDivisionError")
    stop.set()


class BuggyWriter(V1HttpWriter):
    """The real v1 writer with one bug: its first write raises something no WriteError handler expects."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:  # the real writer's, passed on
        super().__init__(*args, **kwargs)
        self.bugs = 1

    def write(self, lines: list[str]) -> None:
        if self.bugs:
            self.bugs -= 1
            raise KeyError("a bug in the writer")
        super().write(lines)


def test_a_sink_that_dies_is_restarted_and_its_batch_is_still_stored(
    mqtt_url: str,
    influx_url: str,
    influx_db: str,
    site_id: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    site = load_site(write_site(tmp_path / "site.toml", site_id, sensors=2))
    services = load_services(
        {"mqtt_url": mqtt_url, "influx_url": influx_url, "influx_db": influx_db, "state_dir": str(tmp_path)},
        env={},
    )
    writer = BuggyWriter(influx_url, influx_db, None)
    service = IngestService(site, services, Options(client_id=f"{site_id}-sup", group=None), writer)
    stop = threading.Event()
    runner = threading.Thread(target=service.run, args=(stop,))
    runner.start()
    client = publisher(mqtt_url)
    try:
        time.sleep(1.5)  # subscribed
        ts = (int(time.time()) - 5) * 1000
        payload = encode_batch("gw-1-x-1-1", [encode(Reading("nz-0001", 1, ts, 1.0, laeq=50.0)).decode()])
        publish_payloads(client, [(batch_topic(site_id, "gw-1"), payload)])
        influx = InfluxQLClient(influx_url, influx_db)
        assert wait_for_count(influx, "SELECT count(laeq) FROM noise", 1, 20) == 1
        state, reasons = service.health()
        assert state == "degraded" and "ingest-sink: KeyError" in reasons[0]
        assert "worker ingest-sink failed" in caplog.text and "Traceback" in caplog.text
    finally:
        client.disconnect()
        client.loop_stop()
        stop.set()
        runner.join(timeout=30)
    assert not runner.is_alive()


def test_a_driver_thread_that_dies_marks_its_sensor_offline_and_is_restarted(
    mqtt_url: str, site_id: str, tmp_path: Path
) -> None:
    path = write_bridge_site(tmp_path, site_id, mqtt_url, refs=1, modbus_per_bus=0)
    site = load_site(path)
    bridge = BridgeRunner(site, BRIDGE, tmp_path / "state")
    runs: list[int] = []

    def flaky_driver(stop: threading.Event) -> None:
        runs.append(1)
        if len(runs) == 1:
            raise OSError("the USB adapter vanished")
        bridge.states["ref-0"].set_online()
        stop.wait()

    bridge.workers = [("ref-0", flaky_driver)]
    collector = Collector(mqtt_url, site_id)
    thread = threading.Thread(target=bridge.run)
    thread.start()
    try:
        wait_until(lambda: "driver failed" in collector.status("ref-0").get("reason", ""), 15, "offline")
        assert collector.status("ref-0")["state"] == "offline"
        assert "OSError: the USB adapter vanished" in collector.status("ref-0")["reason"]
        status = bridge.status()
        assert status["state"] == "degraded" and "ref-0" in status["reasons"][0]
        assert abs(status["clock_ms"] - time.time() * 1000) < 5000  # its wall clock, for ingest's skew
        wait_until(lambda: collector.status("ref-0").get("state") == "online", 15, "restarted")
        assert len(runs) == 2
    finally:
        bridge.stop()
        thread.join(timeout=30)
        collector.close()


def test_a_full_outbox_disk_is_counted_per_sensor_and_the_bridge_resumes(
    mqtt_url: str, site_id: str, tmp_path: Path, small_disk: Callable[[int], Path]
) -> None:
    """The outbox's disk fills up: the bridge keeps running, counts what it could not keep per sensor as
    ``outbox_full`` (status says degraded), and stores and publishes again once space returns."""
    disk = small_disk(8192)
    path = write_bridge_site(tmp_path, site_id, mqtt_url, refs=2, modbus_per_bus=0)
    site = load_site(path)
    collector = Collector(mqtt_url, site_id)

    def newest() -> int:
        return max((r["ts"] for r in collector.by_sensor().get("ref-0", [])), default=0)

    with Simulator(site, port_dir=tmp_path / "ports"):
        bridge = start_bridge(path, tmp_path / "bridge.log", env={"SEATWATCH_STATE_DIR": str(disk)})
        try:
            wait_until(lambda: newest() > 0, 30, "first readings")
            filler = disk / "filler"
            with open(filler, "wb") as out:
                try:
                    while True:
                        out.write(b"\0" * 65536)
                        out.flush()
                except OSError:
                    pass  # ENOSPC: the disk is full
            wait_until(
                lambda: collector.status(f"_bridge/{BRIDGE}").get("outbox_full", 0) > 0, 40, "outbox_full"
            )
            status = collector.status(f"_bridge/{BRIDGE}")
            assert status["state"] == "degraded" and any("outbox" in r for r in status["reasons"]), status
            assert collector.status("ref-0")["errors"].get("outbox_full", 0) > 0
            assert bridge.poll() is None, "the bridge exited on a full disk"
            filler.unlink()
            resumed = time.time() * 1000
            wait_until(lambda: newest() > resumed + 2000, 40, "readings after space returned")
        finally:
            stop_bridge(bridge)
            collector.close()
    output = (tmp_path / "bridge.log").read_text()
    assert "Traceback" not in output, output[-3000:]
    assert output.count("cannot keep readings") <= 3, "logged once a minute, not per reading"
