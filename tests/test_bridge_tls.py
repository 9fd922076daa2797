"""The real ``seatwatch bridge`` publishes over TLS with its own user to the broker we ship (issue #5).

tests/test_deploy_mosquitto.py proves what deploy/mosquitto/ allows a hand-made client; here the bridge
itself, configured the documented way (``mqtts://`` URL in the site file; CA file, user name and password
from SEATWATCH_MQTT_CA_FILE, SEATWATCH_MQTT_USERNAME, SEATWATCH_MQTT_PASSWORD), reads simulated devices on
ptys and publishes to that broker, watched by the ``ingest`` user over TLS. The shipped ACL is written for
site sh-pudong-csc and bridge gw-east, so the test site uses those ids. Whatever goes wrong (a wrong
password, a CA that did not sign the broker's certificate), the bridge must say so plainly, keep running
with its readings in the outbox, and never print the password.
"""

from __future__ import annotations

import json
import logging
import queue
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from firmware_bridge.outbox import Outbox
from firmware_bridge.publisher import Publisher
from firmware_bridge.simulate.simulator import Simulator
from seatwatch.core.contract import Reading, encode, parse_payload
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from seatwatch.core.topics import batch_topic, bridge_status_topic
from tests.bridge_support import start_bridge, stop_bridge, wait_until, write_site
from tests.mosquitto_secure import PASSWORDS, SITE, Broker, Client, make_test_ca

pytestmark = pytest.mark.integration
pytest_plugins = ["tests.mosquitto_secure"]  # the `broker` fixture

BRIDGE = "gw-east"
USER = f"bridge-{BRIDGE}"
WRONG_PASSWORD = "not-the-east-secret"
SENSORS = {"ref-0", "ref-1"}


class Ingest:
    """The ``ingest`` user over TLS, subscribed to the bridge's batches and its retained status."""

    def __init__(self, broker: Broker) -> None:
        self.client = Client(broker, "ingest", PASSWORDS["ingest"])
        assert self.client.connect() == 0, "ingest was refused"
        for topic in (batch_topic(SITE, BRIDGE), bridge_status_topic(SITE, BRIDGE)):
            assert self.client.subscribe(topic) == 1, topic
        self.readings: set[tuple[str, int]] = set()  # (sensor, ts)
        self.status: dict[str, Any] = {}
        self.status_retained = False  # the broker sent the latest status as a retained message

    def poll(self) -> None:
        """Take what arrived: batches go through the contract's parser, which must reject nothing."""
        while True:
            try:
                message = self.client.messages.get_nowait()
            except queue.Empty:
                return
            if message.topic == bridge_status_topic(SITE, BRIDGE):
                self.status = json.loads(message.payload)
                self.status_retained = message.retain
                continue
            readings, rejected = parse_payload(message.payload, topic=message.topic)
            assert rejected == [], rejected
            self.readings |= {(r.sensor, r.ts) for r in readings}

    def received(self) -> set[tuple[str, int]]:
        """(sensor, ts) of every reading received so far."""
        self.poll()
        return self.readings

    def online_since(self, since_ms: int) -> bool:
        """The retained bridge status says online, and was written by this run (not an earlier test's)."""
        self.poll()
        return self.status.get("state") == "online" and self.status.get("since", 0) >= since_ms


@pytest.fixture
def ingest(broker: Broker) -> Iterator[Ingest]:
    """Subscribed before the bridge starts: a batch no one subscribes to is held back (publisher.py)."""
    watcher = Ingest(broker)
    yield watcher
    watcher.client.close()


@pytest.fixture
def site(tmp_path: Path, broker: Broker) -> Iterator[Path]:
    """A site of two reference sensors on bridge gw-east, served by the simulator on ptys."""
    path = write_site(
        tmp_path, SITE, f"mqtts://127.0.0.1:{broker.port}", refs=2, modbus_per_bus=0, bridge=BRIDGE
    )
    with Simulator(load_site(path), port_dir=tmp_path / "ports"):
        yield path


def run_bridge(site: Path, ca_file: Path, password: str) -> subprocess.Popen[bytes]:
    """The bridge as an installer runs it: the secrets in the environment, never in the site file."""
    env = {
        "SEATWATCH_MQTT_CA_FILE": str(ca_file),
        "SEATWATCH_MQTT_USERNAME": USER,
        "SEATWATCH_MQTT_PASSWORD": password,
    }
    return start_bridge(site, site.parent / "bridge.log", env=env, bridge=BRIDGE)


def log_of(site: Path) -> str:
    return (site.parent / "bridge.log").read_text(errors="replace")


def outbox(site: Path) -> list[tuple[str, int]]:
    """(sensor, ts) of the readings waiting in the stopped bridge's outbox."""
    box = Outbox(site.parent / "state" / f"outbox-{SITE}-{BRIDGE}.sqlite")
    try:
        rows = box.take(0, 100_000)
    finally:
        box.close()
    return [(r.sensor, r.ts) for _, payload in rows for r in parse_payload(payload.encode())[0]]


def assert_no_password(site: Path) -> None:
    text = log_of(site)
    for password in (PASSWORDS[USER], WRONG_PASSWORD):
        assert password not in text, "the bridge printed a password"


def test_readings_arrive_over_tls_with_the_bridges_own_user(
    broker: Broker, ingest: Ingest, site: Path
) -> None:
    started_ms = int(time.time() * 1000)
    bridge = run_bridge(site, broker.ca_file, PASSWORDS[USER])
    try:
        wait_until(lambda: {s for s, _ in ingest.received()} == SENSORS, 20, "readings of both sensors")
        wait_until(lambda: ingest.online_since(started_ms), 10, "the bridge status: online")
        late = Ingest(broker)  # subscribes now, so it gets the status only if the broker retained it
        try:
            wait_until(lambda: late.online_since(started_ms), 5, "the retained status")
            assert late.status_retained
        finally:
            late.client.close()
        assert bridge.poll() is None
    finally:
        stop_bridge(bridge)
    assert "error" not in log_of(site).lower(), log_of(site)
    assert_no_password(site)


def run_refused(site: Path, ca_file: Path, password: str, marker: str) -> str:
    """Run a bridge the broker will not have until it logs ``marker``, then 3 s more (readings, several of
    paho's retries); check it kept running, logged the reason once and kept the readings. The log line."""
    bridge = run_bridge(site, ca_file, password)
    try:
        wait_until(lambda: marker in log_of(site), 15, f"{marker!r} in the log")
        time.sleep(3)
        assert bridge.poll() is None, "the bridge exited"
    finally:
        stop_bridge(bridge)
    lines = [line for line in log_of(site).splitlines() if marker in line]
    assert len(lines) == 1, f"the reason is logged once, not on every retry: {lines}"
    assert {sensor for sensor, _ in outbox(site)} == SENSORS, "readings made meanwhile wait in the outbox"
    assert_no_password(site)
    return lines[0]


def test_wrong_password_is_reported_readings_are_kept_and_delivered_later(
    broker: Broker, ingest: Ingest, site: Path
) -> None:
    error = run_refused(site, broker.ca_file, WRONG_PASSWORD, "refused the connection")
    assert f"127.0.0.1:{broker.port}" in error and USER in error, error
    # Mosquitto 2.0 answers a wrong password with 0x87 under MQTT v5 (tests/test_deploy_mosquitto.py)
    assert "Bad user name or password" in error or "Not authorized" in error, error
    held = outbox(site)
    assert ingest.received() == set()

    bridge = run_bridge(site, broker.ca_file, PASSWORDS[USER])
    try:
        wait_until(lambda: set(held) <= ingest.received(), 20, "the held readings")
    finally:
        stop_bridge(bridge)
    assert_no_password(site)


def test_a_ca_that_did_not_sign_the_broker_is_a_clear_tls_error(broker: Broker, site: Path) -> None:
    make_test_ca(site.parent / "other-ca")
    error = run_refused(site, site.parent / "other-ca" / "ca.crt", PASSWORDS[USER], "TLS")
    assert "certificate verification" in error and "SEATWATCH_MQTT_CA_FILE" in error, error
    assert f"127.0.0.1:{broker.port}" in error, error


def test_a_publish_the_acl_refuses_keeps_its_readings_and_says_why(
    broker: Broker, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """gw-east's user publishing as gw-west: every PUBACK is 0x87 Not authorized. Nothing may leave the
    outbox as if delivered, and the log must name the refusal and the topic."""
    services = load_services(
        {
            "mqtt_url": f"mqtts://127.0.0.1:{broker.port}",
            "mqtt_username": USER,
            "mqtt_ca_file": str(broker.ca_file),
        },
        env={"SEATWATCH_MQTT_PASSWORD": PASSWORDS[USER]},
    )
    outbox = Outbox(tmp_path / "outbox.sqlite")
    publisher = Publisher(services, SITE, "gw-west", outbox, batch_readings=10)
    caplog.set_level(logging.WARNING, logger="seatwatch.bridge")
    publisher.start()
    try:
        outbox.add(
            [
                encode(Reading("nz-w-01", n, 1_764_230_400_000 + n * 1000, 1.0, lux=1.0)).decode()
                for n in range(20)
            ]
        )
        deadline = time.monotonic() + 10
        while publisher.resent < 2 and time.monotonic() < deadline:
            publisher.pump()  # refused (0x87): resent soon, like a batch no one subscribed to
            time.sleep(0.01)
        assert publisher.resent >= 2
        assert (outbox.depth(), publisher.published) == (20, 0)
        refusals = [
            r.getMessage()
            for r in caplog.records
            if r.levelno == logging.ERROR and "refused readings" in r.getMessage()
        ]
        assert len(refusals) == 1, caplog.text
        assert "Not authorized" in refusals[0] and batch_topic(SITE, "gw-west") in refusals[0]
        assert PASSWORDS[USER] not in caplog.text
    finally:
        publisher.stop()
        outbox.close()
