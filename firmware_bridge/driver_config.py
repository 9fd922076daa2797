"""Reading a sensor's ``connection`` table with errors that name the sensor and the key.

The site file checks only the keys every driver needs; each driver owns its optional keys and validates them
here, so a typo in ``baud`` says ``sensors ref-003: connection.baud must be ...`` instead of a traceback.
"""

from __future__ import annotations

from typing import Any

from seatwatch.core.site import Sensor


class DriverConfigError(ValueError):
    """A sensor's connection settings cannot work; the message names the sensor and the key."""


def check_keys(sensor: Sensor, allowed: set[str]) -> None:
    """Refuse connection keys the driver does not know (a typo would otherwise be ignored silently)."""
    unknown = sorted(set(sensor.connection) - allowed)
    if unknown:
        raise DriverConfigError(
            f"sensor {sensor.id}: connection.{unknown[0]} is not a {sensor.driver} driver key "
            f"(expected one of: {', '.join(sorted(allowed))})"
        )


def option(sensor: Sensor, key: str, kind: type, default: Any = None) -> Any:
    """``sensor.connection[key]`` checked against ``kind`` (ints accepted for floats); ``default`` if absent.

    A ``default`` of None makes the key required; numbers must be positive.
    """
    if key not in sensor.connection:
        if default is None:
            raise DriverConfigError(f"sensor {sensor.id}: connection.{key} is missing")
        return default
    value = sensor.connection[key]
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) or not isinstance(value, kind):
        raise DriverConfigError(
            f"sensor {sensor.id}: connection.{key} must be {kind.__name__}, not {type(value).__name__}"
        )
    if isinstance(value, int | float) and value <= 0:  # kind is int or float (bools refused above)
        raise DriverConfigError(f"sensor {sensor.id}: connection.{key} must be positive, not {value}")
    return value
