"""Run ``seatwatch ingest`` as a real subprocess (so tests can ``kill -9`` it) and wait for its points."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from seatwatch.core.influxql import InfluxQLClient
from tests.conftest import REPO
from tests.services import free_port


class IngestProcess:
    def __init__(
        self,
        site_file: Path,
        state_dir: Path,
        mqtt_url: str,
        influx_url: str,
        influx_db: str,
        client_id: str,
        api: str = "auto",
        extra: tuple[str, ...] = (),
        env: Mapping[str, str] | None = None,
    ) -> None:
        """``env``: more environment, such as a secured broker's SEATWATCH_MQTT_* settings."""
        self.args = [
            sys.executable, "-m", "seatwatch", "ingest", "--site", str(site_file), "--client-id", client_id,
            "--status-every", "5", *extra,
        ]  # fmt: skip
        self.env = dict(
            os.environ,
            SEATWATCH_MQTT_URL=mqtt_url,
            SEATWATCH_INFLUX_URL=influx_url,
            SEATWATCH_INFLUX_DB=influx_db,
            SEATWATCH_INFLUX_API=api,
            SEATWATCH_STATE_DIR=str(state_dir),
            PYTHONPATH=str(REPO),
        )
        self.env.update(env or {})
        self.log = state_dir / f"{client_id}.log"
        state_dir.mkdir(parents=True, exist_ok=True)
        self.health_port = 0
        self._log_start = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> IngestProcess:
        self.health_port = free_port()
        self._log_start = len(self.output()) if self.log.exists() else 0
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [*self.args, "--health-port", str(self.health_port)], env=self.env, stdout=log, stderr=log
            )
        return self

    def wait_ready(self, timeout_s: float = 30.0) -> IngestProcess:
        """Until this run logged its MQTT connection (so it has read the site file and subscribes)."""
        deadline = time.monotonic() + timeout_s
        while "connected to " not in self.output()[self._log_start :]:
            assert self.process is not None and self.process.poll() is None, self.output()[-2000:]
            if time.monotonic() > deadline:
                raise TimeoutError(f"ingest did not connect within {timeout_s} s: {self.output()[-2000:]}")
            time.sleep(0.1)
        time.sleep(0.3)  # the SUBACK follows the CONNACK
        return self

    def kill(self) -> None:
        """``kill -9``: no flush, no goodbye."""
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> int:
        assert self.process is not None
        self.process.terminate()
        return self.process.wait(timeout=60)

    def metric(self, name: str) -> float:
        """One sample of the process's Prometheus ``/metrics`` (0 when absent)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.health_port}/metrics", timeout=5) as response:
            for text in response.read().decode().splitlines():
                if text.startswith(name + " ") or text.startswith(name + "{"):
                    return float(text.rsplit(" ", 1)[1])
        return 0.0

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def count(client: InfluxQLClient, query: str) -> int:
    series = client.query(query)
    return int(series[0].values[0][1]) if series else 0


def wait_for_count(client: InfluxQLClient, query: str, expected: int, timeout_s: float = 60.0) -> int:
    """Poll until ``query`` (a single count) reaches ``expected`` or time runs out; returns the last value."""
    deadline = time.monotonic() + timeout_s
    value = -1
    while time.monotonic() < deadline:
        try:
            value = count(client, query)
        except Exception:  # the server may be restarting in a fault test
            value = -1
        if value >= expected:
            return value
        time.sleep(0.5)
    return value
