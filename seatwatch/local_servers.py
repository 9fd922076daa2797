"""Mosquitto and InfluxDB 1.x (influxd) run from a folder of their own, listening on loopback only.

Two users need a real broker and database started on the spot: the test suite (docs/design.md principle 5,
via tests/services.py) and ``seatwatch demo`` on a newcomer's machine. Both must run them with the same
configuration — above all Mosquitto's raised queue limits, without which the broker silently drops
messages (docs/dependencies.md) — so that configuration lives here, once.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

# Mosquitto's defaults silently drop messages queued for offline sessions beyond 1,000 and let only 20
# QoS 1 messages in flight (docs/dependencies.md); every broker we start or ship raises both.
MOSQUITTO_CONFIG = """\
listener {port} 127.0.0.1
allow_anonymous true
persistence true
persistence_location {workdir}/
autosave_interval 60
max_queued_messages 2000000
max_queued_bytes 0
max_inflight_messages 1000
set_tcp_nodelay true
log_dest file {workdir}/mosquitto.log
{user}
"""

INFLUXD_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{workdir}/meta"
[data]
  dir = "{workdir}/data"
  wal-dir = "{workdir}/wal"
  query-log-enabled = false
  max-values-per-tag = 0
  max-series-per-database = 0
[coordinator]
  query-timeout = "0s"
[http]
  bind-address = "127.0.0.1:{port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
[logging]
  level = "warn"
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout_s} s")


class ServerProcess:
    """A server binary run in its own folder; ``start``/``stop``/``kill``/``restart`` for fault tests."""

    binary = ""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @classmethod
    def available(cls) -> bool:
        return shutil.which(cls.binary) is not None

    @property
    def url(self) -> str:
        """Where clients reach the server (each kind says its scheme)."""
        raise NotImplementedError

    def command(self) -> list[str]:
        raise NotImplementedError

    def ready(self) -> bool:
        return True

    def start(self, timeout_s: float = 30.0) -> None:
        log = open(self.workdir / f"{self.binary}.out", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            self.command(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_for_port(self.port, timeout_s)
        deadline = time.monotonic() + timeout_s
        while not self.ready():
            if time.monotonic() > deadline or self.process.poll() is not None:
                raise RuntimeError(f"{self.binary} did not become ready; see {self.workdir}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()


class Mosquitto(ServerProcess):
    binary = "mosquitto"

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        config = self.workdir / "mosquitto.conf"
        # As root, Mosquitto drops to the 'mosquitto' user unless told otherwise; our temp folders are root's.
        user = "user root" if os.geteuid() == 0 else ""
        config.write_text(MOSQUITTO_CONFIG.format(port=self.port, workdir=self.workdir, user=user))
        return ["mosquitto", "-c", str(config)]


class Influxd(ServerProcess):
    binary = "influxd"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        if not hasattr(self, "rpc_port"):
            self.rpc_port = free_port()
        config = self.workdir / "influxdb.conf"
        config.write_text(self.config())
        return ["influxd", "run", "-config", str(config)]

    def config(self) -> str:
        """The configuration file's text (a test server with other settings overrides this)."""
        return INFLUXD_CONFIG.format(port=self.port, rpc_port=self.rpc_port, workdir=self.workdir)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/ping", timeout=1) as response:
                return response.status == 204
        except OSError:
            return False
