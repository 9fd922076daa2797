"""Every panel query of every generated dashboard, run against a real influxd with Grafana's macros
expanded, and the numbers checked: LAeq is the energy mean of its inputs, never the arithmetic one."""

from __future__ import annotations

import math
import re
import time
from datetime import UTC, datetime, timedelta

import pytest

from dashboards import bundle
from seatwatch.core.calibration_records import CalibrationRecord, record_line
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.line_protocol import line, write_v1
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from tests.conftest import EXAMPLE_SITE
from tests.dashboards_macros import expand, influx_targets, variables_of

pytestmark = pytest.mark.integration
S = 1_000_000_000
LEVELS = (40.0, 70.0)  # energy mean 66.99 dB; the arithmetic mean would say 55.0
ENERGY = 10 * math.log10(sum(10 ** (v / 10) for v in LEVELS) / len(LEVELS))


def _noise(site: str, t_s: int, laeq: float, below: bool) -> str:
    tags = {"site": site, "zone": "agents-east", "seat": "E-01", "sensor": "ref-001"}
    fields: dict[str, float | bool | str] = {
        "laeq": laeq,
        "lafmax": laeq + 5,
        "lafmin": laeq - 5,
        "dur": 60.0,
        "exposure": 60 * 10 ** (laeq / 10),
        "raw_laeq": laeq,
        "below_floor": below,
        "cal": "c1",
    }
    return line("noise", tags, fields, t_s * S)


def _light(site: str, t_s: int, lux: float) -> str:
    tags = {"site": site, "zone": "agents-east", "seat": "E-01", "sensor": "ref-001"}
    return line("light", tags, {"lux": lux, "raw_lux": lux, "cal": "c1"}, t_s * S)


def _verdict(site: str, seat: str, t_s: int, verdict: str) -> str:
    tags = {"site": site, "zone": "agents-east", "seat": seat, "check": "noise", "profile": "iac-csc"}
    fields: dict[str, float | str] = {"value": 50.0, "required": 55.0, "target": 52.0, "verdict": verdict}
    fields["coverage"] = 1.0
    return line("compliance", tags, fields, t_s * S)


def test_every_panel_query_runs_and_levels_are_energy_means(influx_url: str, influx: InfluxQLClient) -> None:
    site = load_site(EXAMPLE_SITE)
    built = bundle.build(site, load_services(site.services, env={}))
    now = int(time.time())
    base = (now - 20 * 60) // 600 * 600  # a 10-minute bucket that holds the two "historical" readings only
    lines = []
    for n, level in enumerate(LEVELS):
        lines += [
            _noise(site.id, base + 60 * n, level, below=n == 0),
            _light(site.id, base + 60 * n, 300.0 + 100 * n),
        ]
        lines += [
            _noise(site.id, now - 240 + 60 * n, level, below=False),
            _light(site.id, now - 240 + 60 * n, 150.0),
        ]
    lines += [
        _verdict(site.id, "E-01", now - 86400, "fail"),
        _verdict(site.id, "E-01", now - 3600, "pass"),
        _verdict(site.id, "E-02", now - 3600, "fail"),
        line(
            "rejects",
            {"site": site.id, "reason": "schema", "sensor": "ref-001"},
            {"detail": "bad", "payload": "{}", "topic": "t"},
            (now - 60) * S,
        ),
        line(
            "rejects",
            {"site": site.id, "reason": "schema", "sensor": "ref-001"},
            {"detail": "bad", "payload": "{}", "topic": "t"},
            (now - 59) * S,
        ),
    ]
    lines.append(  # as ingest writes it from a bridge's live status (ingest/service.py)
        line(
            "bridge_status",
            {"site": site.id, "bridge": "gw-east", "ingest": "i-1"},
            {"clock_skew_s": 2.5, "outbox": 0, "state": "online"},
            (now - 30) * S,
        )
    )
    performed = datetime.now(UTC) - timedelta(days=30)
    record = CalibrationRecord(
        "cal-1",
        "ref-001",
        Quantity.NOISE,
        "sound-calibrator",
        performed,
        performed + timedelta(days=365),
        offset_db=0.4,
    )
    lines.append(record_line(site.id, record))
    write_v1(influx_url, influx.database, lines)

    start_ms, end_ms = (now - 3 * 86400) * 1000, (now + 1) * 1000
    results: dict[tuple[str, str, str], list] = {}
    for dash in built.dashboards:
        variables = variables_of(dash)
        for panel, target in influx_targets(dash):
            query = expand(target["query"], start_ms, end_ms, "10m", variables)
            assert not re.search(r"\$[A-Za-z_]", query), query
            assert 'mean("laeq")' not in query
            results[(dash["uid"], panel["title"], target["refId"])] = influx.query(query)
    assert len(results) >= 30

    def rows(uid_suffix: str, title_start: str, ref: str = "A") -> list[dict]:
        (key,) = [
            k for k in results if k[0].endswith(uid_suffix) and k[1].startswith(title_start) and k[2] == ref
        ]
        return [dict(row, **s.tags) for s in results[key] for row in s.rows()]

    # Seat detail: the 10-minute bucket holding 40 and 70 dB is their energy mean, not 55.
    laeq = {r["time"]: r["LAeq"] for r in rows("-seat", "LAeq")}
    assert laeq[base * 1000] == pytest.approx(ENERGY, abs=1e-9)
    assert abs(laeq[base * 1000] - 55.0) > 10
    assert {r["time"]: r["LAFmax"] for r in rows("-seat", "LAFmax")}[base * 1000] == 75.0
    assert {r["time"]: r["lux"] for r in rows("-seat", "Illuminance")}[base * 1000] == 350.0
    lines_drawn = {
        next(k for k in r if k != "time"): r[next(k for k in r if k != "time")]
        for ref in "BCDEFG"
        for r in _rows_or_none(results, "-seat", "LAeq", ref)
    }
    assert lines_drawn == {"required 55 (agent, noise)": 55.0, "target 52 (agent, noise)": 52.0}

    # Floor overview: the last five minutes of E-01, coloured against the agent limits.
    (current,) = rows("-floor", "Agent zone East")
    assert current["seat"] == "E-01" and current["LAeq"] == pytest.approx(ENERGY, abs=1e-9)
    assert rows("-floor", "Agent zone East", "B")[0]["lux"] == 150.0
    (plan,) = rows("-floor", "Floor plan")  # the Canvas seat boxes: the same energy mean, by seat
    assert plan["seat"] == "E-01" and plan["LAeq"] == pytest.approx(ENERGY, abs=1e-9)
    assert [r["sensor"] for r in rows("-seat", "Sensors of this seat")] == ["ref-001"]
    assert rows("-floor", "Noise sensors reporting")[0]["noise sensors reporting"] == 1
    assert rows("-floor", "Compliance", "A")[0]["pass"] == 1  # E-01's latest verdict
    assert rows("-floor", "Compliance", "C")[0]["fail"] == 1  # E-02's; E-01's old fail is superseded

    # Sensor health: below-floor seconds, rejects, calibration due date.
    assert rows("-health", "Noise sensors: share", "A")[0]["below floor s"] == 60.0
    assert rows("-health", "Noise sensors: share", "B")[0]["measured s"] == 240.0
    assert sum(r["rejects"] for r in rows("-health", "Rejected")) == 2
    (skew,) = rows("-health", "Bridge clock skew")
    assert skew["bridge"] == "gw-east" and skew["skew s"] == 2.5
    (due,) = rows("-health", "Noise calibrations", "B")
    assert due["valid until"] == int(record.valid_until.timestamp() * 1000)
    assert due["time"] == int(performed.timestamp() * 1000) and due["sensor"] == "ref-001"

    # Compliance trend: per-day counts add up; the loudest seat's LAeq over the range is an energy mean.
    assert sum(r["fail"] for r in rows("-trend", "Verdicts per day", "C")) == 2
    assert {r["seat"]: r["fail"] for r in rows("-trend", "Seats with the most")} == {"E-01": 1, "E-02": 1}
    assert rows("-trend", "Loudest seats")[0]["LAeq"] == pytest.approx(ENERGY, abs=1e-9)


def _rows_or_none(results: dict, uid_suffix: str, title_start: str, ref: str) -> list[dict]:
    keys = [k for k in results if k[0].endswith(uid_suffix) and k[1].startswith(title_start) and k[2] == ref]
    return [row for k in keys for s in results[k] for row in s.rows()]
