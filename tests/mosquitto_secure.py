"""A real Mosquitto run with the configuration we ship (deploy/mosquitto/): TLS only, password file, ACL.

Shared by tests/test_deploy_mosquitto.py (what the broker allows) and tests/test_bridge_tls.py (the real
``seatwatch bridge`` against it), so both prove the same broker. The shipped files are used as they are;
only paths and the port are moved into a temporary folder. A test CA and server certificate are made here
with openssl, passwords with ``mosquitto_passwd -b``.
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
from paho.mqtt.reasoncodes import ReasonCode

from tests.conftest import unavailable
from tests.services import ServerProcess

DEPLOY = Path(__file__).resolve().parent.parent / "deploy" / "mosquitto"
SITE = "sh-pudong-csc"  # the site deploy/mosquitto/seatwatch.acl is written for
PASSWORDS = {
    "bridge-gw-east": "east-secret",
    "bridge-gw-west": "west-secret",
    "ingest": "ingest-secret",
    "calibrate": "calibrate-secret",
}


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
    """The deployed broker, one per test module: its users are :data:`PASSWORDS`, its CA ``ca_file``.

    A test module gets it with ``pytest_plugins = ["tests.mosquitto_secure"]``. A missing binary skips, or
    fails under CI=true.
    """
    for binary in ("mosquitto", "mosquitto_passwd", "openssl"):
        if shutil.which(binary) is None:
            unavailable(f"{binary} is not installed (apt-get install mosquitto openssl)")
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

    def _on_connect(self, _c: mqtt.Client, _u: object, _f: object, reason: ReasonCode, _p: object) -> None:
        self.connack = reason.value
        self.connected.set()

    def _on_publish(self, _c: mqtt.Client, _u: object, mid: int, reason: ReasonCode, _p: object) -> None:
        with self.acked:
            self.pubacks[mid] = reason.value
            self.acked.notify_all()

    def _on_subscribe(
        self, _c: mqtt.Client, _u: object, mid: int, reasons: list[ReasonCode], _p: object
    ) -> None:
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
        assert mid is not None  # None only for an empty topic list
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
