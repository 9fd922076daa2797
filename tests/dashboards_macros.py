"""Grafana's InfluxQL macro and variable expansion, done the way Grafana does it, for running panel
queries against a real influxd in tests.

Grafana replaces ``$timeFilter`` with ``time >= <from>ms and time <= <to>ms``, ``$__interval`` with its
computed interval (e.g. ``10m``), ``$__interval_ms`` with the same in milliseconds, and a template variable
used in a regex (``=~ /^$seat$/``) with a regex group of its value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def expand(query: str, start_ms: int, end_ms: int, interval: str, variables: dict[str, str]) -> str:
    parsed = re.fullmatch(r"(\d+)(ms|s|m|h|d)", interval)
    assert parsed, f"not a Grafana interval: {interval!r}"
    amount, unit = parsed.groups()
    q = query.replace("$timeFilter", f"time >= {start_ms}ms and time <= {end_ms}ms")
    q = q.replace("$__interval_ms", str(int(amount) * UNITS_MS[unit])).replace("$__interval", interval)
    for name, value in variables.items():
        group = ".*" if value == ALL else f"({re.escape(value)})"
        q = q.replace(f"/^${name}$/", f"/^{group}$/").replace(f"${name}", value)
    return q


def influx_targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every InfluxQL target (static "-- Grafana --" frames left out)."""
    for panel, target in panel_targets(dashboard):
        if target["datasource"]["type"] == "influxdb":
            yield panel, target


def variables_of(dashboard: dict[str, Any]) -> dict[str, str]:
    """Each template variable's current value; "All" is the variable's ``allValue``, written raw into a
    regex as Grafana does (``/^$sensor$/`` becomes ``/^.*$/``)."""
    out = {}
    for v in dashboard["templating"]["list"]:
        value = v["current"]["value"]
        out[v["name"]] = ALL if value == "$__all" else value
    return out


ALL = "\x00all"  # marks "All" so expand() writes the allValue unescaped


def panel_targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every target of every panel, rows' nested panels included."""
    for panel in dashboard["panels"]:
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []):
                yield inner, target
