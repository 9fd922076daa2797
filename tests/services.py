"""Real servers for tests: Mosquitto, InfluxDB 1.x (influxd) and VictoriaMetrics, on loopback.

Principle 5 of docs/design.md: tests talk to the real thing. `.ci/run` starts one shared instance of each and
exports their URLs (SEATWATCH_TEST_MQTT_URL, SEATWATCH_TEST_INFLUX_URL, SEATWATCH_TEST_VM_URL); a developer
running pytest alone gets instances started here in temporary folders. Tests that stop, kill or restart a
server start a private one with these classes so they never disturb the shared ones. Mosquitto and influxd
(and their configurations) live in seatwatch/local_servers.py because `seatwatch demo` starts them too.
"""

from __future__ import annotations

import urllib.request

from seatwatch.local_servers import Influxd, Mosquitto, ServerProcess, free_port, wait_for_port

__all__ = ["Influxd", "Mosquitto", "ServerProcess", "VictoriaMetrics", "free_port", "wait_for_port"]


class VictoriaMetrics(ServerProcess):
    binary = "victoria-metrics"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        return [
            "victoria-metrics",
            f"-storageDataPath={self.workdir}/data",
            f"-httpListenAddr=127.0.0.1:{self.port}",
            "-retentionPeriod=100y",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
        ]

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                return response.status == 200
        except OSError:
            return False
