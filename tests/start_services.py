"""Start the shared test servers for `.ci/run` and print shell assignments of their URLs and pids.

Usage: ``eval "$(python -m tests.start_services WORKDIR)"``. The servers keep running after this process
exits (they run in their own sessions); `.ci/run` kills them by pid when it ends.
"""

from __future__ import annotations

import sys
from pathlib import Path

from tests.services import Influxd, Mosquitto, VictoriaMetrics


def main(workdir: str) -> None:
    root = Path(workdir)
    for kind, prefix, env in (
        (Mosquitto, "MOSQUITTO", "SEATWATCH_TEST_MQTT_URL"),
        (Influxd, "INFLUXD", "SEATWATCH_TEST_INFLUX_URL"),
        (VictoriaMetrics, "VM", "SEATWATCH_TEST_VM_URL"),
    ):
        server = kind(root / kind.binary)
        server.start()
        assert server.process is not None
        print(f"{prefix}_PID={server.process.pid}")
        print(f"{env}={server.url}")


if __name__ == "__main__":
    main(sys.argv[1])
