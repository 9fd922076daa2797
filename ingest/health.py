"""Health of one ingest process: Prometheus metrics, a retained MQTT status message and a log line.

Operators need four numbers to trust ingest — rate, lag, spool depth and rejects by reason — wherever they
look: Prometheus scrapes ``/metrics`` (``--health-port``), dashboards and other processes read the retained
status topic, and the log gets the same figures every ``--status-every`` seconds.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from seatwatch.core.vocabulary import RejectReason

log = logging.getLogger("seatwatch.ingest")


class Metrics:
    """Counters and gauges in a registry of their own (two ingests in one test process do not collide)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.messages = Counter("seatwatch_ingest_messages", "MQTT messages received", registry=r)
        self.readings = Counter("seatwatch_ingest_readings", "readings converted to points", registry=r)
        self.rejects = Counter("seatwatch_ingest_rejects", "refused readings", ["reason"], registry=r)
        self.points = Counter("seatwatch_ingest_points_written", "points accepted by InfluxDB", registry=r)
        self.write_errors = Counter("seatwatch_ingest_write_errors", "failed write attempts", registry=r)
        self.refused_batches = Counter(
            "seatwatch_ingest_refused_batches",
            "sets of points InfluxDB refused as invalid (kept on disk in refused/)",
            registry=r,
        )
        self.refused_points = Counter(
            "seatwatch_ingest_refused_points", "points InfluxDB refused as invalid", registry=r
        )
        self.refused_files = Gauge(
            "seatwatch_ingest_refused_files", "files waiting in refused/ for 'ingest replay'", registry=r
        )
        self.bridge_skew = Gauge(
            "seatwatch_ingest_bridge_clock_skew_seconds",
            "a bridge's wall clock minus this ingest's, from its latest live status",
            ["bridge"],
            registry=r,
        )
        self.worker_restarts = Counter(
            "seatwatch_ingest_worker_restarts",
            "workers restarted after an unexpected error",
            ["worker"],
            registry=r,
        )
        self.spool_batches = Gauge("seatwatch_ingest_spool_batches", "batches waiting on disk", registry=r)
        self.spool_bytes = Gauge("seatwatch_ingest_spool_bytes", "bytes waiting on disk", registry=r)
        self.spool_age = Gauge(
            "seatwatch_ingest_spool_oldest_age_seconds", "age of the oldest spooled batch", registry=r
        )
        self.lag = Gauge(
            "seatwatch_ingest_lag_seconds", "now minus the newest reading time made durable", registry=r
        )
        self._reject_counts: dict[RejectReason, int] = {}
        self._skews: dict[str, float] = {}
        self._lock = threading.Lock()

    def count_rejects(self, reasons: Mapping[RejectReason, int]) -> None:
        with self._lock:
            for reason, n in reasons.items():
                self.rejects.labels(reason).inc(n)
                self._reject_counts[reason] = self._reject_counts.get(reason, 0) + n

    def set_skew(self, bridge: str, seconds: float) -> None:
        with self._lock:
            self._skews[bridge] = round(seconds, 3)
        self.bridge_skew.labels(bridge).set(seconds)

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            rejects = dict(self._reject_counts)
            skews = dict(self._skews)
        value = self.registry.get_sample_value
        return {
            "messages": int(value("seatwatch_ingest_messages_total") or 0),
            "readings": int(value("seatwatch_ingest_readings_total") or 0),
            "points_written": int(value("seatwatch_ingest_points_written_total") or 0),
            "rejects": rejects,
            "spool_batches": int(value("seatwatch_ingest_spool_batches") or 0),
            "spool_bytes": int(value("seatwatch_ingest_spool_bytes") or 0),
            "spool_oldest_age_s": round(value("seatwatch_ingest_spool_oldest_age_seconds") or 0.0, 1),
            "lag_s": round(value("seatwatch_ingest_lag_seconds") or 0.0, 1),
            "refused_points": int(value("seatwatch_ingest_refused_points_total") or 0),
            "refused_files": int(value("seatwatch_ingest_refused_files") or 0),
            "bridge_clock_skew_s": skews,
        }

    def serve(self, port: int) -> None:
        """``/metrics`` on 127.0.0.1:``port`` (loopback: put a proxy in front to expose it)."""
        start_http_server(port, addr="127.0.0.1", registry=self.registry)


class StatusReporter:
    """Every ``every_s`` seconds: rate since the last report, then the snapshot, as log line and status.

    ``health()`` says ``("online", [])`` or ``("degraded", reasons)``; the reasons go into the status."""

    def __init__(
        self,
        metrics: Metrics,
        publish: Callable[[str], None],
        every_s: float,
        health: Callable[[], tuple[str, list[str]]] = lambda: ("online", []),
    ) -> None:
        self.metrics = metrics
        self.publish = publish
        self.every_s = every_s
        self.health = health
        self._last = (time.monotonic(), 0)

    def report(self, state: str | None = None) -> dict[str, Any]:
        """Publish the status; ``state`` overrides the health's (``offline`` when stopping)."""
        healthy, reasons = self.health()
        snap = self.metrics.snapshot()
        snap["reasons"] = reasons
        now = time.monotonic()
        then, readings_then = self._last
        snap["rate_per_s"] = round((snap["readings"] - readings_then) / max(now - then, 1e-6), 1)
        snap["state"] = state or healthy
        snap["time"] = int(time.time())
        self._last = (now, snap["readings"])
        log.info("status %s", json.dumps(snap, sort_keys=True))
        self.publish(json.dumps(snap, sort_keys=True))
        return snap

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.every_s):
            self.report()
