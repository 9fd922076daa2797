"""Shared fixtures: real servers (see tests/services.py), unique databases and site ids per test.

Under CI=true a server that cannot be found or started is a test failure, never a skip: a green CI run
must mean the integration tests ran.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn, TypeVar

import pytest

from seatwatch.core.influxql import InfluxQLClient, quote_ident
from tests.services import Influxd, Mosquitto, ServerProcess, VictoriaMetrics

# A plugin that test modules also import from (pytest_plugins + import): rewrite its asserts all the same.
pytest.register_assert_rewrite("tests.mosquitto_secure")

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
REPO = Path(__file__).resolve().parent.parent
EXAMPLE_SITE = REPO / "examples" / "site.toml"


def unavailable(message: str) -> NoReturn:
    """A prerequisite (server, binary) is missing: skip on a developer's machine, fail under CI=true."""
    if IN_CI:
        pytest.fail(f"CI=true and {message}", pytrace=False)
    pytest.skip(message)


def _unavailable(what: str) -> NoReturn:
    unavailable(f"{what} is not available: install it (apt-get install mosquitto influxdb victoria-metrics)")


def _server(
    kind: type[ServerProcess], env_var: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if os.environ.get(env_var):
        yield os.environ[env_var]
        return
    if not kind.available():
        _unavailable(kind.binary)
    server = kind(tmp_path_factory.mktemp(kind.binary))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a shared, running Mosquitto (mqtt://127.0.0.1:PORT). Do not stop it."""
    yield from _server(Mosquitto, "SEATWATCH_TEST_MQTT_URL", tmp_path_factory)


@pytest.fixture(scope="session")
def influx_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a shared, running influxd 1.x (v1 /write and /query). Do not stop it."""
    yield from _server(Influxd, "SEATWATCH_TEST_INFLUX_URL", tmp_path_factory)


@pytest.fixture(scope="session")
def vm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a shared, running VictoriaMetrics (accepts /api/v2/write)."""
    yield from _server(VictoriaMetrics, "SEATWATCH_TEST_VM_URL", tmp_path_factory)


@pytest.fixture
def influx_db(influx_url: str) -> Iterator[str]:
    """A fresh, empty database on the shared influxd, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    client = InfluxQLClient(influx_url, name)
    client.command(f"CREATE DATABASE {quote_ident(name)}")
    yield name
    client.command(f"DROP DATABASE {quote_ident(name)}")


@pytest.fixture
def influx(influx_url: str, influx_db: str) -> InfluxQLClient:
    """An InfluxQL client on the test's own database."""
    return InfluxQLClient(influx_url, influx_db)


@pytest.fixture
def site_id() -> str:
    """A unique site id, so tests sharing the broker never see each other's topics."""
    return f"t-{uuid.uuid4().hex[:10]}"


Server = TypeVar("Server", bound=ServerProcess)


def _private(kind: type[Server], tmp_path: Path) -> Iterator[Callable[[], Server]]:
    started: list[Server] = []

    def make() -> Server:
        if not kind.available():
            _unavailable(kind.binary)
        server = kind(tmp_path / f"{kind.binary}-{len(started)}")
        server.start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def private_mosquitto(tmp_path: Path) -> Iterator[Callable[[], Mosquitto]]:
    """Factory for a Mosquitto this test owns and may stop, kill or restart (persistence on)."""
    yield from _private(Mosquitto, tmp_path)


@pytest.fixture
def private_influxd(tmp_path: Path) -> Iterator[Callable[[], Influxd]]:
    """Factory for an influxd this test owns and may stop or kill."""
    yield from _private(Influxd, tmp_path)


@pytest.fixture
def private_victoria_metrics(tmp_path: Path) -> Iterator[Callable[[], VictoriaMetrics]]:
    yield from _private(VictoriaMetrics, tmp_path)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Callable[[int], Path]]:
    """Factory for a real, small filesystem (tmpfs of ``kib`` KiB) that a test can fill: a full disk
    answers ENOSPC exactly as a full partition does. Needs root (CI runs as root)."""
    mounted: list[Path] = []

    def make(kib: int) -> Path:
        folder = tmp_path / f"disk-{len(mounted)}"
        folder.mkdir()
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={kib}k", "tmpfs", str(folder)], capture_output=True
        )
        if done.returncode != 0:
            unavailable(f"cannot mount a small tmpfs (root needed): {done.stderr.decode().strip()}")
        mounted.append(folder)
        return folder

    yield make
    for folder in mounted:
        subprocess.run(["umount", "-l", str(folder)], check=False)
