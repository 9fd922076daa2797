"""The two writers against real servers: v2 (influxdb-client) into VictoriaMetrics' ``/api/v2/write``, v1
into influxd 1.6.7, and the ``/ping`` version detection that picks between them."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from ingest.writers import api_for_version, detect_api
from ingest.writers.v1_http import V1HttpWriter
from ingest.writers.v2_client import V2ClientWriter
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.line_protocol import WriteError, line
from tests.ingest_process import IngestProcess, count
from tests.publish_helpers import make_readings, publish_readings, write_site
from tests.services import free_port

pytestmark = pytest.mark.integration


def _lines(site: str, n: int) -> list[str]:
    start_ns = (int(time.time()) - n - 10) * 1_000_000_000
    return [
        line(
            "noise",
            {"site": site, "sensor": "nz-0001"},
            {"laeq": 40.0 + i % 10, "dur": 1.0},
            start_ns + i * 10**9,
        )
        for i in range(n)
    ]


def _vm_samples(vm_url: str, metric: str, site: str) -> int:
    """Samples of ``metric`` for ``site`` in VictoriaMetrics (after forcing its buffers to storage)."""
    urllib.request.urlopen(f"{vm_url}/internal/force_flush", timeout=10).read()
    query = urllib.parse.urlencode({"match[]": f'{{__name__="{metric}",site="{site}"}}'})
    with urllib.request.urlopen(f"{vm_url}/api/v1/export?{query}", timeout=10) as response:
        return sum(len(json.loads(row)["values"]) for row in response.read().decode().splitlines() if row)


def test_v2_writer_into_victoria_metrics(vm_url: str, site_id: str) -> None:
    # Written once: VictoriaMetrics keeps a replayed sample twice unless run with -dedup.minScrapeInterval
    # (ingest/README.md), and the shared test server runs without it.
    writer = V2ClientWriter(vm_url, "seatwatch", "seatwatch", None)
    try:
        writer.write(_lines(site_id, 500))
    finally:
        writer.close()
    assert _vm_samples(vm_url, "noise_laeq", site_id) == 500


def test_v2_writer_errors_are_write_errors() -> None:
    writer = V2ClientWriter(f"http://127.0.0.1:{free_port()}", "seatwatch", "seatwatch", None, timeout_s=2)
    with pytest.raises(WriteError) as caught:
        writer.write(_lines("x", 1))
    assert caught.value.retryable
    writer.close()


def test_v1_writer_into_influxd(influx_url: str, influx: InfluxQLClient, site_id: str) -> None:
    writer = V1HttpWriter(influx_url, influx.database, None)
    writer.write(_lines(site_id, 300))
    writer.write(_lines(site_id, 300))
    assert count(influx, "SELECT count(laeq) FROM noise") == 300
    with pytest.raises(WriteError) as caught:
        writer.write(["noise,site=x laeq= 1"])
    assert not caught.value.retryable


def test_api_detection(influx_url: str, vm_url: str) -> None:
    assert detect_api(influx_url) == "v1"  # Debian's influxd 1.6.7 has no /api/v2/write
    assert detect_api(vm_url) == "v1"  # no version header: /write is the common ground
    cases = {
        "1.6.7": "v1",
        "1.8.10": "v2",
        "v2.7.4": "v2",
        "2.7.1": "v2",
        "3.0.1": "v2",
        None: "v1",
        "x": "v1",
    }
    assert {version: api_for_version(version) for version in cases} == cases
    with pytest.raises(WriteError):
        detect_api(f"http://127.0.0.1:{free_port()}", timeout_s=2)


def test_ingest_with_the_v2_api_into_victoria_metrics(
    mqtt_url: str, vm_url: str, site_id: str, tmp_path: Path
) -> None:
    site_file = write_site(tmp_path / "site.toml", site_id, sensors=10)
    ingest = IngestProcess(
        site_file, tmp_path / "state", mqtt_url, vm_url, "seatwatch", f"{site_id}-v2", "v2"
    )
    ingest.start().wait_ready()
    try:
        publish_readings(mqtt_url, site_id, make_readings(2_000, sensors=10, seed=3), per_message=100)
        deadline = time.monotonic() + 30
        while _vm_samples(vm_url, "noise_exposure", site_id) < 2_000 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _vm_samples(vm_url, "noise_exposure", site_id) == 2_000
        assert _vm_samples(vm_url, "light_lux", site_id) == 2_000
    finally:
        assert ingest.stop() == 0
