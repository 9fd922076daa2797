"""Push against a fake Grafana that checks each request against the documented HTTP API; export; and the
one-environment proof that our Grafana client and influxdb-client live together cleanly."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from seatwatch.cli import main
from seatwatch.core.site_file import load_site
from tests.conftest import EXAMPLE_SITE, REPO
from tests.dashboards_grafana_fake import FakeGrafana

TOKEN = "glsa_test_secret_token"


@pytest.fixture
def grafana(monkeypatch: pytest.MonkeyPatch):
    with FakeGrafana(TOKEN) as fake:
        monkeypatch.setenv("SEATWATCH_GRAFANA_URL", fake.url)
        monkeypatch.setenv("SEATWATCH_GRAFANA_TOKEN", TOKEN)
        yield fake


def _push(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["dashboards", "push", "--site", str(EXAMPLE_SITE), *extra])
    out, err = capsys.readouterr()
    assert TOKEN not in out + err
    return code, out, err


def test_push_creates_everything_then_changes_nothing(
    grafana: FakeGrafana, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _push(capsys, "--dry-run")
    assert code == 0 and "would create" in out and grafana.writes() == []

    code, out, _ = _push(capsys)
    assert code == 0, out
    assert grafana.violations == []
    assert len(grafana.dashboards) == 4 and len(grafana.datasources) == 1 and len(grafana.folders) == 1
    assert {d["folderUid"] for d in grafana.dashboards.values()} == set(grafana.folders)
    assert grafana.secrets == {}  # InfluxDB 1.x without a token: no secret to send
    # Alert rules: three groups in the same folder, every rule editable in the UI (X-Disable-Provenance).
    site = load_site(EXAMPLE_SITE)
    rules = [r for g in grafana.rule_groups.values() for r in g["rules"]]
    assert {folder for folder, _ in grafana.rule_groups} == set(grafana.folders)
    checks = [r["labels"]["check"] for r in rules]
    assert checks.count("sensor-silent") == len(site.sensors)  # one per sensor of the site file
    assert checks.count("calibration-due") == sum(len(s.measures) for s in site.sensors.values())
    assert {"ingest-lag", "ingest-rejects"} <= set(checks)
    noise_rules = {r["labels"]["zone"] for r in rules if r["uid"].startswith("sw-sh-pudong-csc-noise-")}
    # iac-csc has an occupied-hours LAeq check for agent and training zones, none for meeting rooms
    assert noise_rules == {"agents-east", "agents-west", "training"}
    assert {r["provenance"] for r in rules} == {""} and set(grafana.provenance_headers) == {"true"}
    assert list(grafana.time_intervals) == ["seatwatch-sh-pudong-csc-occupied"]
    versions = {uid: d["dashboard"]["version"] for uid, d in grafana.dashboards.items()}
    updated = {r["uid"]: r["updated"] for r in rules}
    writes = len(grafana.writes())

    code, out, _ = _push(capsys)
    assert code == 0 and "changed 0 of 10" in out
    assert len(grafana.writes()) == writes
    assert {uid: d["dashboard"]["version"] for uid, d in grafana.dashboards.items()} == versions
    assert {r["uid"]: r["updated"] for g in grafana.rule_groups.values() for r in g["rules"]} == updated

    code, out, _ = _push(capsys, "--dry-run")
    assert "would change 0 of 10" in out and len(grafana.writes()) == writes


def test_push_updates_a_dashboard_edited_in_grafana(
    grafana: FakeGrafana, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _push(capsys)[0] == 0
    uid = next(iter(grafana.dashboards))
    grafana.dashboards[uid]["dashboard"]["title"] = "edited by hand"
    code, out, _ = _push(capsys)
    assert code == 0 and "changed 1 of 10" in out and "(title)" in out
    assert grafana.dashboards[uid]["dashboard"]["version"] == 2 and grafana.violations == []
    # A rule's threshold edited in Grafana's UI is put back by the next push, and only that group.
    (group,) = [g for (_, name), g in grafana.rule_groups.items() if name.endswith(" ingest")]
    group["rules"][0]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] = [99]
    code, out, _ = _push(capsys)
    assert code == 0 and "changed 1 of 10" in out and "ingest" in out and "(rules)" in out
    assert group is not next(g for (_, n), g in grafana.rule_groups.items() if n.endswith(" ingest"))


def test_datasource_for_influxdb_2_sends_token_header_once(grafana: FakeGrafana, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SEATWATCH_INFLUX_TOKEN", "influx-secret")
    monkeypatch.setenv("SEATWATCH_INFLUX_API", "v2")
    code, out, err = _push(capsys)
    assert code == 0 and "influx-secret" not in out + err
    (source,) = grafana.datasources.values()
    assert source["jsonData"]["httpHeaderName1"] == "Authorization"
    assert grafana.secrets[source["uid"]] == {"httpHeaderValue1": "Token influx-secret"}
    assert "changed 0 of 10" in _push(capsys)[1]


def test_datasource_for_influxdb_1_sends_user_and_password(grafana: FakeGrafana, capsys, monkeypatch) -> None:
    monkeypatch.setenv("SEATWATCH_INFLUX_TOKEN", "grafana:influx-secret")
    code, out, err = _push(capsys)
    assert code == 0 and "influx-secret" not in out + err and grafana.violations == []
    (source,) = grafana.datasources.values()
    assert source["user"] == "grafana" and "httpHeaderName1" not in source["jsonData"]
    assert grafana.secrets[source["uid"]] == {"password": "influx-secret"}
    assert "changed 0 of 10" in _push(capsys)[1]


def test_bad_token_and_unreachable_grafana_give_clear_errors(
    grafana: FakeGrafana, capsys, monkeypatch
) -> None:
    monkeypatch.setenv("SEATWATCH_GRAFANA_TOKEN", "wrong-token")
    code = main(["dashboards", "push", "--site", str(EXAMPLE_SITE)])
    err = capsys.readouterr().err
    # docs/contracts.md: 2 = bad input or unavailable prerequisite
    assert (
        code == 2 and "rejected the token (401" in err and "wrong-token" not in err and "Traceback" not in err
    )
    assert grafana.writes() == []
    monkeypatch.setenv("SEATWATCH_GRAFANA_URL", "http://127.0.0.1:9")
    code = main(["dashboards", "push", "--site", str(EXAMPLE_SITE)])
    err = capsys.readouterr().err
    assert code == 2 and "cannot reach Grafana at http://127.0.0.1:9" in err


def test_missing_settings_and_bad_site_exit_2(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.delenv("SEATWATCH_GRAFANA_URL", raising=False)
    monkeypatch.delenv("SEATWATCH_GRAFANA_TOKEN", raising=False)
    assert main(["dashboards", "push", "--site", str(EXAMPLE_SITE)]) == 2
    assert "SEATWATCH_GRAFANA_URL" in capsys.readouterr().err
    bad = tmp_path / "site.toml"
    bad.write_text('[site]\nid = "x"\nprofile = "no-such-profile"\n')
    assert main(["dashboards", "export", "--site", str(bad), "--out", str(tmp_path / "o")]) == 2
    assert str(bad) in capsys.readouterr().err


def test_export_writes_the_same_models_as_push(grafana: FakeGrafana, tmp_path: Path, capsys) -> None:
    assert _push(capsys)[0] == 0
    out_dir = tmp_path / "grafana"
    assert main(["dashboards", "export", "--site", str(EXAMPLE_SITE), "--out", str(out_dir)]) == 0
    files = sorted((out_dir / "dashboards").rglob("*.json"))
    assert len(files) == 4
    for path in files:
        exported = json.loads(path.read_text())
        pushed = {
            k: v
            for k, v in grafana.dashboards[exported["uid"]]["dashboard"].items()
            if k not in ("id", "version")
        }
        assert exported == pushed
    (ds_file,) = (out_dir / "provisioning" / "datasources").glob("*.yaml")
    (source,) = yaml.safe_load(ds_file.read_text())["datasources"]
    stored = next(iter(grafana.datasources.values()))
    assert {k: source[k] for k in ("uid", "url", "jsonData", "database")} == {
        k: stored[k] for k in ("uid", "url", "jsonData", "database")
    }
    (provider,) = yaml.safe_load(next((out_dir / "provisioning" / "dashboards").glob("*.yaml")).read_text())[
        "providers"
    ]
    assert provider["type"] == "file" and provider["folderUid"] == next(iter(grafana.folders))


@pytest.mark.integration
def test_grafana_client_and_influxdb_client_share_one_process_cleanly(
    vm_url: str, grafana: FakeGrafana
) -> None:
    script = textwrap.dedent(
        f"""
        from influxdb_client import InfluxDBClient
        from influxdb_client.client.write_api import WriteOptions
        from dashboards.grafana_api import GrafanaClient
        client = InfluxDBClient(url={vm_url!r}, token="t", org="o")
        writer = client.write_api(write_options=WriteOptions(batch_size=10, flush_interval=100))
        for i in range(100):
            writer.write(bucket="b", record=f"noise,site=s laeq={{40.0 + i % 30}} {{i + 1}}")
        grafana = GrafanaClient({grafana.url!r}, {TOKEN!r})
        assert grafana.health()["database"] == "ok"
        assert grafana.folder("nope") is None
        writer.close()
        client.close()
        print("ok")
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    assert done.stderr == ""
