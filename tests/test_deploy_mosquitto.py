"""The Mosquitto configuration we ship (deploy/mosquitto/) really does what docs/security.md promises.

The shipped files are used as they are; only paths and the port are moved into a temporary folder. A test
CA and server certificate are made here with openssl, passwords with mosquitto_passwd -b. Under MQTT v5
the broker answers a QoS 1 publish it refuses with PUBACK reason code 0x87 (not authorized); the test also
checks what a subscriber actually receives, which is what matters.
"""

from __future__ import annotations

import os
import queue
import shutil
import ssl
import subprocess
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from seatwatch.site_file import load_site
from tests.conftest import EXAMPLE_SITE, unavailable
from tests.services import ServerProcess

pytestmark = pytest.mark.integration

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
SITE = "sh-pudong-csc"
NOT_AUTHORIZED = 0x87
ACCEPTED = (0x00, 0x10)  # success, and success with "no matching subscribers"
PASSWORDS = {
    "bridge-gw-east": "east-secret",
    "bridge-gw-west": "west-secret",
    "ingest": "ingest-secret",
    "calibrate": "calibrate-secret",
}


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        unavailable(f"{binary} is not installed (apt-get install mosquitto openssl)")


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def make_test_ca(folder: Path) -> None:
    """A CA, and a server certificate it signs for 127.0.0.1/localhost, in ``folder`` (ca.crt, server.*)."""
    folder.mkdir(parents=True)
    ca, key, crt = folder / "ca.crt", folder / "ca.key", folder / "server.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=seatwatch test CA",
             "-keyout", key, "-out", ca)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
             "-keyout", folder / "server.key", "-out", folder / "server.csr")  # fmt: skip
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", folder / "server.csr", "-CA", ca, "-CAkey", key, "-CAcreateserial",
             "-days", "2", "-extfile", folder / "san.ext", "-out", crt)  # fmt: skip


class DeployedMosquitto(ServerProcess):
    """deploy/mosquitto/seatwatch.conf with /etc/mosquitto and /var/lib/mosquitto moved into ``workdir``."""

    binary = "mosquitto"

    def command(self) -> list[str]:
        text = (DEPLOY / "seatwatch.conf").read_text()
        moves = {
            "listener 8883\n": f"listener {self.port} 127.0.0.1\n",
            "/etc/mosquitto/": f"{self.workdir}/",
            "/var/lib/mosquitto/": f"{self.workdir}/data/",
        }
        for old, new in moves.items():
            assert old in text, f"deploy/mosquitto/seatwatch.conf no longer contains {old!r}"
            text = text.replace(old, new)
        (self.workdir / "data").mkdir(exist_ok=True)
        user = "user root\n" if os.geteuid() == 0 else ""  # as root it would drop to user mosquitto
        config = self.workdir / "mosquitto.conf"
        config.write_text(f"{text}\n{user}log_dest file {self.workdir}/mosquitto.log\n")
        return ["mosquitto", "-c", str(config)]


@dataclass
class Broker:
    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    for binary in ("mosquitto", "mosquitto_passwd", "openssl"):
        _require(binary)
    workdir = tmp_path_factory.mktemp("deployed-mosquitto")
    make_test_ca(workdir / "certs")
    shutil.copy(DEPLOY / "seatwatch.acl", workdir / "seatwatch.acl")
    passwd = workdir / "seatwatch.passwd"
    passwd.touch(mode=0o600)
    for user, password in PASSWORDS.items():
        subprocess.run(["mosquitto_passwd", "-b", str(passwd), user, password], check=True)
    server = DeployedMosquitto(workdir)
    server.start()
    try:
        yield Broker(server.port, workdir / "certs" / "ca.crt")
    finally:
        server.stop()


class Client:
    """A paho v5 client over TLS that records CONNACK, PUBACK and SUBACK reason codes and messages."""

    def __init__(self, broker: Broker, username: str | None, password: str | None = None) -> None:
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"t-{uuid.uuid4().hex[:8]}", protocol=mqtt.MQTTv5
        )
        self.client.tls_set(ca_certs=str(broker.ca_file), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.connected = threading.Event()
        self.connack: int | None = None
        self.pubacks: dict[int, int] = {}
        self.subacks: dict[int, list[int]] = {}
        self.acked = threading.Condition()
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.client.on_connect = self._on_connect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = lambda _c, _u, message: self.messages.put(message)
        self.broker = broker

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        self.connack = reason.value  # type: ignore[attr-defined]
        self.connected.set()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: object, _p: object) -> None:
        with self.acked:
            self.pubacks[mid] = reason.value  # type: ignore[attr-defined]
            self.acked.notify_all()

    def _on_subscribe(self, _c: mqtt.Client, _u: object, mid: int, reasons: list, _p: object) -> None:
        with self.acked:
            self.subacks[mid] = [r.value for r in reasons]
            self.acked.notify_all()

    def connect(self) -> int:
        """Connect and return the CONNACK reason code (0 = accepted)."""
        self.client.connect("127.0.0.1", self.broker.port)
        self.client.loop_start()
        assert self.connected.wait(10), "no CONNACK within 10 s"
        assert self.connack is not None
        return self.connack

    def publish(self, topic: str, payload: bytes = b"{}") -> int:
        """Publish at QoS 1 and return the PUBACK reason code."""
        mid = self.client.publish(topic, payload, qos=1).mid
        with self.acked:
            assert self.acked.wait_for(lambda: mid in self.pubacks, 10), f"no PUBACK for {topic}"
            return self.pubacks[mid]

    def subscribe(self, topic: str) -> int:
        """Subscribe at QoS 1 and return the SUBACK reason code."""
        _, mid = self.client.subscribe(topic, qos=1)
        with self.acked:
            assert self.acked.wait_for(lambda: mid in self.subacks, 10), f"no SUBACK for {topic}"
            return self.subacks[mid][0]

    def received(self, timeout_s: float = 1.0) -> list[str]:
        topics = []
        try:
            while True:
                topics.append(self.messages.get(timeout=timeout_s).topic)
        except queue.Empty:
            return topics

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def clients(broker: Broker) -> Iterator[list[Client]]:
    made: list[Client] = []
    yield made
    for client in made:
        client.close()


def connected(broker: Broker, clients: list[Client], user: str) -> Client:
    client = Client(broker, user, PASSWORDS[user])
    clients.append(client)
    assert client.connect() == 0, f"{user} was refused"
    return client


def test_bridge_publishes_under_its_own_site_only(broker: Broker, clients: list[Client]) -> None:
    ingest = connected(broker, clients, "ingest")
    # ingest subscribes as `seatwatch ingest` does: on a shared subscription (docs/scale-out.md)
    assert ingest.subscribe(f"$share/seatwatch-ingest/seatwatch/v1/{SITE}/+/reading") == 1
    assert ingest.subscribe(f"$share/seatwatch-ingest/seatwatch/v1/{SITE}/_bridge/+/readings") == 1
    east = connected(broker, clients, "bridge-gw-east")

    allowed = [f"seatwatch/v1/{SITE}/ref-001/reading", f"seatwatch/v1/{SITE}/_bridge/gw-east/readings"]
    for topic in allowed:
        assert east.publish(topic) in ACCEPTED, topic
    refused = [
        "seatwatch/v1/other-site/ref-001/reading",  # another site
        f"seatwatch/v1/{SITE}/_bridge/gw-west/readings",  # another bridge's batch topic
        f"seatwatch/v1/{SITE}/_calibration/ref-001/forged",  # calibration records
        "elsewhere/entirely",
    ]
    for topic in refused:
        assert east.publish(topic) == NOT_AUTHORIZED, topic
    assert sorted(ingest.received()) == sorted(allowed)


def test_bridge_reads_nothing(broker: Broker, clients: list[Client]) -> None:
    """Mosquitto 2.0 may grant a wildcard SUBACK, but the per-message read check must deliver nothing."""
    east = connected(broker, clients, "bridge-gw-east")
    for topic in (f"seatwatch/v1/{SITE}/#", "#"):
        assert east.subscribe(topic) in (1, NOT_AUTHORIZED), topic
    west = connected(broker, clients, "bridge-gw-west")
    assert west.publish(f"seatwatch/v1/{SITE}/_bridge/gw-west/readings") in ACCEPTED
    assert west.publish(f"seatwatch/v1/{SITE}/nz-w-01/reading") in ACCEPTED
    calibrate = connected(broker, clients, "calibrate")
    assert calibrate.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/rec-1") in ACCEPTED
    assert east.received() == []


def test_ingest_publishes_only_its_status(broker: Broker, clients: list[Client]) -> None:
    ingest = connected(broker, clients, "ingest")
    assert ingest.publish(f"seatwatch/v1/{SITE}/_ingest/ingest-1/status") in ACCEPTED
    assert ingest.publish(f"seatwatch/v1/{SITE}/ref-001/reading") == NOT_AUTHORIZED
    assert ingest.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/forged") == NOT_AUTHORIZED


def test_calibrate_writes_records_and_reads_live_readings(broker: Broker, clients: list[Client]) -> None:
    calibrate = connected(broker, clients, "calibrate")
    assert calibrate.subscribe(f"seatwatch/v1/{SITE}/ref-001/reading") == 1
    assert calibrate.publish(f"seatwatch/v1/{SITE}/_calibration/ref-001/rec-2") in ACCEPTED
    assert calibrate.publish(f"seatwatch/v1/{SITE}/ref-001/reading") == NOT_AUTHORIZED
    east = connected(broker, clients, "bridge-gw-east")
    assert east.publish(f"seatwatch/v1/{SITE}/ref-001/reading") in ACCEPTED
    assert calibrate.received() == [f"seatwatch/v1/{SITE}/ref-001/reading"]


@pytest.mark.parametrize(
    ("username", "password"),
    [(None, None), ("bridge-gw-east", "wrong password"), ("nobody", "east-secret")],
    ids=["anonymous", "wrong-password", "unknown-user"],
)
def test_refused_clients(
    broker: Broker, clients: list[Client], username: str | None, password: str | None
) -> None:
    client = Client(broker, username, password)
    clients.append(client)
    assert client.connect() in (0x86, 0x87), "bad user name or password / not authorized"


def test_tls_needs_the_right_ca(broker: Broker, tmp_path: Path) -> None:
    """A client that trusts another CA refuses the broker; with the test CA it connects (shown above)."""
    make_test_ca(tmp_path / "other")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(tmp_path / "other" / "ca.crt"))
    with pytest.raises(ssl.SSLCertVerificationError):
        client.connect("127.0.0.1", broker.port)


def test_plain_mqtt_is_not_served(broker: Broker) -> None:
    """The only listener speaks TLS: a plain-text MQTT client never gets a CONNACK."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.username_pw_set("ingest", PASSWORDS["ingest"])
    answered = threading.Event()
    client.on_connect = lambda *_: answered.set()
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    try:
        assert not answered.wait(2)
    finally:
        client.loop_stop()


def test_acl_covers_every_bridge_of_the_example_site() -> None:
    site = load_site(EXAMPLE_SITE)
    acl = (DEPLOY / "seatwatch.acl").read_text()
    assert site.id == SITE
    for bridge in site.bridges:
        block = f"user bridge-{bridge}\n"
        assert block in acl
        assert f"topic write seatwatch/v1/{site.id}/_bridge/{bridge}/#" in acl
    assert "topic read" not in acl.split("user bridge-")[1].split("user ")[0]
