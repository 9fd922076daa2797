"""What the bridge knows about one sensor right now: online or not, why, and its error counters.

Drivers update it from their threads; the runner publishes it as the sensor's retained status. Counting
here, per sensor, is what lets an installer see that one cable is noisy while the other fifteen sensors
are fine (the bridge drops bad frames and carries on, docs/design.md principle 6).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from seatwatch.core.contract import VERSION, Reading


class SensorState:
    """Thread-safe status and counters of one sensor; ``take_changed`` tells the runner when to republish."""

    def __init__(self, sensor: str, bridge: str, driver: str) -> None:
        self.sensor = sensor
        self.bridge = bridge
        self.driver = driver
        self._lock = threading.Lock()
        self._online = False
        self._reason = "starting"
        self._since = time.time()
        self._errors: Counter[str] = Counter()
        self._readings = 0
        self._changed = True
        self.info: dict[str, str] = {}

    @property
    def online(self) -> bool:
        return self._online

    def set_online(self) -> None:
        self._set(True, "")

    def set_offline(self, reason: str) -> None:
        self._set(False, reason)

    def count(self, reason: str, n: int = 1) -> None:
        """Count ``n`` problems of kind ``reason`` (garbage, checksum, timeout, gap ...)."""
        with self._lock:
            self._errors[reason] += n

    def counted_reading(self) -> None:
        with self._lock:
            self._readings += 1

    def errors(self) -> dict[str, int]:
        with self._lock:
            return dict(self._errors)

    def take_changed(self) -> bool:
        """True once after every online/offline change (and at start)."""
        with self._lock:
            changed, self._changed = self._changed, False
        return changed

    def status(self) -> dict[str, Any]:
        """The retained status document on ``topics.sensor_status_topic``."""
        with self._lock:
            return {
                "v": VERSION,
                "sensor": self.sensor,
                "bridge": self.bridge,
                "driver": self.driver,
                "state": "online" if self._online else "offline",
                "reason": self._reason,
                "since": int(self._since * 1000),
                "readings": self._readings,
                "errors": dict(self._errors),
                **self.info,
            }

    def _set(self, online: bool, reason: str) -> None:
        with self._lock:
            if online == self._online and reason == self._reason:
                return
            if online != self._online:
                self._since = time.time()
            self._online, self._reason, self._changed = online, reason, True


Emit = Callable[[Reading], None]
"""How a driver hands a finished reading to the runner (which checks the clock and stores it)."""
