"""Both ways into Grafana: the import copies resolve against a data source added by hand (Grafana's import
substitutes ``${DS_...}`` inputs), the provisioning copies against the exported data-source file; and
grafana-foundation-sdk (Grafana 11 build) reads every dashboard and alert rule group back."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import alerting
from grafana_foundation_sdk.models.dashboard import Dashboard

from dashboards import bundle
from seatwatch.cli import main
from seatwatch.core.settings import load_services
from seatwatch.core.site_file import load_site
from tests.conftest import EXAMPLE_SITE

BUILTIN = {"grafana", "-- Mixed --"}
HAND_ADDED = "P951FEA4DE68E13C5"  # the kind of uid Grafana gives a data source added in its UI
SECRET = "p4ss-not-in-files"


def _export(tmp_path: Path, monkeypatch: Any) -> Path:
    monkeypatch.setenv("SEATWATCH_INFLUX_TOKEN", f"grafana:{SECRET}")
    out = tmp_path / "grafana"
    assert main(["dashboards", "export", "--site", str(EXAMPLE_SITE), "--out", str(out)]) == 0
    return out


def _references(value: Any) -> Iterator[dict[str, Any]]:
    """Every data source reference ({"type", "uid"} under a "datasource" key) anywhere in a model."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "datasource" and isinstance(item, dict):
                yield item
            yield from _references(item)
    elif isinstance(value, list):
        for item in value:
            yield from _references(item)


def _grafana_import(text: str, inputs: dict[str, str]) -> dict[str, Any]:
    """What POST /api/dashboards/import does with the inputs: ``${NAME}`` replaced in every string."""
    model = json.loads(text)
    declared = {i["name"] for i in model.pop("__inputs")}
    assert declared == set(inputs)
    model.pop("__requires")
    substituted = json.dumps(model)
    for name, value in inputs.items():
        substituted = substituted.replace(f"${{{name}}}", value)
    return json.loads(substituted)


def test_import_copies_resolve_to_a_hand_added_data_source(tmp_path: Path, monkeypatch: Any) -> None:
    out = _export(tmp_path, monkeypatch)
    files = sorted((out / "import").rglob("*.json"))
    assert len(files) == 4
    for path in files:
        text = path.read_text()
        raw = json.loads(text)
        assert raw["__inputs"][0]["pluginId"] == "influxdb"
        influx = [r for r in _references(raw) if r.get("type") == "influxdb"]
        assert influx and {r["uid"] for r in influx} == {"${DS_SEATWATCH_INFLUX}"}, path
        imported = _grafana_import(text, {"DS_SEATWATCH_INFLUX": HAND_ADDED})
        unresolved = [r for r in _references(imported) if r["uid"] not in BUILTIN | {HAND_ADDED}]
        assert unresolved == [], path
        assert "${DS_" not in json.dumps(imported)


def test_provisioning_copies_keep_the_fixed_uid_of_their_data_source_file(
    tmp_path: Path, monkeypatch: Any
) -> None:
    out = _export(tmp_path, monkeypatch)
    (ds_file,) = (out / "provisioning" / "datasources").glob("*.yaml")
    text = ds_file.read_text()
    (source,) = yaml.safe_load(text)["datasources"]
    # InfluxDB 1.x with a user: Grafana's user + password (basic auth), the password left to Grafana's env
    assert source["user"] == "grafana" and source["secureJsonData"] == {
        "password": "$__env{SEATWATCH_INFLUX_PASSWORD}"
    }
    assert "httpHeaderName1" not in source["jsonData"]
    written = "".join(p.read_text() for p in out.rglob("*") if p.is_file())
    assert SECRET not in written
    for path in sorted((out / "dashboards").rglob("*.json")):
        model = json.loads(path.read_text())
        assert "__inputs" not in model
        assert {r["uid"] for r in _references(model)} <= BUILTIN | {source["uid"]}
    (alerting,) = (out / "provisioning" / "alerting").glob("*.yaml")
    rules = [r for g in yaml.safe_load(alerting.read_text())["groups"] for r in g["rules"]]
    sources = {q["datasourceUid"] for r in rules for q in r["data"]}
    assert sources == {source["uid"], "__expr__"}


def _differences(ours: Any, theirs: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """("dropped" | "added" | "changed", path with list indexes folded) between two JSON values."""
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in ours.keys() | theirs.keys():
            if key not in theirs:
                yield "dropped", f"{path}/{key}"
            elif key not in ours:
                yield "added", f"{path}/{key}"
            else:
                yield from _differences(ours[key], theirs[key], f"{path}/{key}")
    elif isinstance(ours, list) and isinstance(theirs, list) and len(ours) == len(theirs):
        for a, b in zip(ours, theirs, strict=True):
            yield from _differences(a, b, f"{path}[]")
    elif ours != theirs:
        yield "changed", path


def test_foundation_sdk_round_trips_every_dashboard(tmp_path: Path, monkeypatch: Any) -> None:
    """The SDK keeps everything but the time regions' annotation target (its AnnotationTarget type has
    only limit/matchAny/tags/type), and adds only its defaults."""
    out = _export(tmp_path, monkeypatch)
    dropped_expected = {f"/annotations/list[]/target/{k}" for k in ("queryType", "refId", "timeRegion")}
    for path in sorted((out / "dashboards").rglob("*.json")):
        model = json.loads(path.read_text())
        back = json.loads(json.dumps(Dashboard.from_json(json.loads(path.read_text())), cls=JSONEncoder))
        found = set(_differences(model, back))
        assert {p for kind, p in found if kind == "changed"} == set(), path
        dropped = {p for kind, p in found if kind == "dropped"}
        assert dropped <= dropped_expected, path
        assert bool(dropped) == bool(model["annotations"]["list"]), path
        added = {re.sub(r".*/", "", p) for kind, p in found if kind == "added"}
        assert added <= {
            "fiscalYearStartMonth",
            "graphTooltip",
            "repeatDirection",
            "transparent",
            "builtIn",
            "limit",
            "matchAny",
            "tags",
            "type",
            "allowCustomValue",
            "auto",
            "auto_count",
            "auto_min",
        }, path


def test_foundation_sdk_round_trips_the_alert_rule_groups() -> None:
    """Every rule group exactly as pushed (the SDK's alerting.RuleGroup/Rule types). Its MuteTiming type is
    not the API's: it reads our time interval as empty times and weekdays (measured), so it is not used."""
    site = load_site(EXAMPLE_SITE)
    built = bundle.build(site, load_services(site.services, env={}))
    for group in built.rule_groups:
        body = group.body("folder-uid")
        back = json.loads(
            json.dumps(alerting.RuleGroup.from_json(json.loads(json.dumps(body))), cls=JSONEncoder)
        )
        assert back == body
