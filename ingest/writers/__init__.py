"""InfluxDB writers: one ``write(lines)`` call per batch, raising ``WriteError`` (retryable or not).

Two ways in, because no single API reaches every InfluxDB: the v2 API through influxdb-client (2.x, 3.x,
1.8+ and VictoriaMetrics) and the plain v1 ``/write`` (every 1.x, including Debian's 1.6.7, which answers
404 on ``/api/v2/write``). ``influx_api = "auto"`` asks the server's ``/ping`` which one it is.
"""

from __future__ import annotations

import logging
import urllib.request
from typing import Protocol

from seatwatch.core.line_protocol import WriteError
from seatwatch.core.settings import Services

log = logging.getLogger("seatwatch.ingest")

APIS = ("auto", "v1", "v2")


class Writer(Protocol):
    @property
    def user(self) -> str | None:
        """Who we write as, for messages (never the password)."""

    def write(self, lines: list[str]) -> None:
        """Store a batch; raise :class:`WriteError` when it is not stored."""

    def create_database(self) -> None:
        """Create the database written to; raise :class:`WriteError` when that is not permitted."""

    def close(self) -> None: ...


def api_for_version(version: str | None) -> str:
    """v1 for InfluxDB 1.0-1.7 and servers that do not say (``/write`` is common ground); v2 otherwise."""
    if not version:
        return "v1"
    parts = version.lstrip("v").split(".")
    try:
        major, minor = int(parts[0]), int(parts[1]) if len(parts) > 1 else 0
    except ValueError:
        return "v1"
    return "v1" if major == 1 and minor < 8 else "v2"


def detect_api(url: str, timeout_s: float = 5.0) -> str:
    """Read ``X-Influxdb-Version`` from ``/ping``; raises :class:`WriteError` if the server is unreachable."""
    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/ping", timeout=timeout_s) as response:
            version = response.headers.get("X-Influxdb-Version")
    except OSError as exc:
        raise WriteError(f"cannot reach InfluxDB at {url} to detect its version: {exc}", True) from exc
    api = api_for_version(version)
    log.info("InfluxDB at %s reports version %s: using the %s write API", url, version or "(none)", api)
    return api


def make_writer(services: Services, api: str) -> Writer:
    """The writer for ``api`` ("v1" or "v2"; resolve "auto" with :func:`detect_api` first)."""
    if api == "v2":
        from ingest.writers.v2_client import V2ClientWriter

        return V2ClientWriter(
            services.influx_url, services.influx_db, services.influx_org, services.influx_token
        )
    from ingest.writers.v1_http import V1HttpWriter

    return V1HttpWriter(services.influx_url, services.influx_db, services.influx_token)
