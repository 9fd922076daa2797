"""A dashboard as Grafana's "Export → Export for sharing externally" writes it, for a manual import.

The provisioned dashboards name their data source by its fixed uid (``sw-<site>-influx``), which is right
when the data source comes from our provisioning file or ``push``. A data source added by hand gets
another uid, and every panel would say "datasource not found". The shareable copy declares the data
source as an import input (``__inputs``) and refers to it as ``${DS_SEATWATCH_INFLUX}`` everywhere; on
import Grafana asks which InfluxDB data source to use and substitutes its uid. Built-in data sources
("-- Grafana --", "-- Mixed --") are left as they are: every Grafana has them.
"""

from __future__ import annotations

from typing import Any

from dashboards.datasource import DataSource
from dashboards.model import JSON

INPUT = "DS_SEATWATCH_INFLUX"
GRAFANA_VERSION = "10.0.0"


def shareable(model: JSON, source: DataSource) -> JSON:
    """A copy of ``model`` with the data source as an import input and what it needs in ``__requires``."""
    body = _substitute(model, source.uid, f"${{{INPUT}}}")
    panels = sorted({p["type"] for p in model["panels"]})
    requires = [
        {"type": "grafana", "id": "grafana", "name": "Grafana", "version": GRAFANA_VERSION},
        {"type": "datasource", "id": "influxdb", "name": "InfluxDB", "version": "1.0.0"},
        *({"type": "panel", "id": kind, "name": kind, "version": ""} for kind in panels),
    ]
    inputs = [
        {
            "name": INPUT,
            "label": "InfluxDB (seatwatch, InfluxQL)",
            "description": f"the InfluxQL data source of database {source.model['database']!r}",
            "type": "datasource",
            "pluginId": "influxdb",
            "pluginName": "InfluxDB",
        }
    ]
    return {"__inputs": inputs, "__requires": requires, **body}


def _substitute(value: Any, uid: str, placeholder: str) -> Any:
    """Every data source reference ``{"type": "influxdb", "uid": uid}`` with the placeholder as uid."""
    if isinstance(value, dict):
        out = {k: _substitute(v, uid, placeholder) for k, v in value.items()}
        if out.get("type") == "influxdb" and out.get("uid") == uid:
            out["uid"] = placeholder
        return out
    if isinstance(value, list):
        return [_substitute(v, uid, placeholder) for v in value]
    return value
