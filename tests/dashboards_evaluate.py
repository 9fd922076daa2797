"""Evaluating generated Grafana alert rules and joined tables the way Grafana does, against a real
influxd, for tests (no Grafana server can be installed here).

A rule is A (an InfluxQL query over its relative time range) → B (reduce: the last non-null value of each
series) → C (threshold on B). Each series of A is one alert instance, labelled with the rule's labels and
the series' tags; a query that returns no series at all takes the rule's ``noDataState``. A table panel's
``joinByField`` outer join keeps every row of every frame, filling missing columns with None.
"""

from __future__ import annotations

import time
from typing import Any

from seatwatch.core.influxql import InfluxQLClient
from tests.dashboards_macros import expand

COMPARE = {"gt": lambda v, x: v > x, "lt": lambda v, x: v < x}


def evaluate(
    rule: dict[str, Any], influx: InfluxQLClient, now_s: float | None = None
) -> list[dict[str, Any]]:
    """The firing instances of ``rule``: [{"labels": {...}, "value": float | None}]."""
    query, reduce, threshold = rule["data"]
    assert rule["condition"] == threshold["refId"] == "C" and reduce["model"]["expression"] == "A"
    now_ms = int((now_s or time.time()) * 1000)
    span = query["relativeTimeRange"]
    text = expand(query["model"]["query"], now_ms - span["from"] * 1000, now_ms - span["to"] * 1000, "1s", {})
    series = influx.query(text)
    (condition,) = threshold["model"]["conditions"]
    operator, (limit,) = condition["evaluator"]["type"], condition["evaluator"]["params"]
    if not series:
        return [{"labels": dict(rule["labels"]), "value": None}] if rule["noDataState"] == "Alerting" else []
    firing = []
    for s in series:
        values = [v for row in s.rows() for k, v in row.items() if k != "time" and v is not None]
        if values and COMPARE[operator](values[-1], limit):
            firing.append({"labels": {**rule["labels"], **s.tags}, "value": values[-1]})
    return firing


def outer_join(frames: list[list[dict[str, Any]]], field: str) -> list[dict[str, Any]]:
    """Rows of all frames joined on ``field``, every key of every frame present (None where missing)."""
    columns = [k for frame in frames for row in frame for k in row]
    keys = dict.fromkeys(row[field] for frame in frames for row in frame)
    out = []
    for key in keys:
        merged: dict[str, Any] = dict.fromkeys(columns)
        for frame in frames:
            for row in frame:
                if row[field] == key:
                    merged.update(row)
        out.append(merged)
    return out


def static_rows(target: dict[str, Any]) -> list[dict[str, Any]]:
    """The rows of a "-- Grafana --" snapshot target (DataFrameJSON: schema.fields + data.values)."""
    (frame,) = target["snapshot"]
    names = [f["name"] for f in frame["schema"]["fields"]]
    return [dict(zip(names, row, strict=True)) for row in zip(*frame["data"]["values"], strict=True)]
