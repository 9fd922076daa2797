"""``seatwatch setup-db`` is idempotent, and several sites each on its own influxd work side by side:
setup, analysis, the report and the dashboards' data source each reach the site's own server through
the site → URL mapping (SEATWATCH_INFLUX_URLS)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from seatwatch.cli import main
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.settings import SITE_URLS, load_services
from tests.compliance_data import SiteSpec, calibration_line, light_lines, noise_lines, steady, write
from tests.conftest import unavailable
from tests.services import Influxd

TZ = ZoneInfo("Asia/Shanghai")
DAY = datetime(2026, 3, 2, tzinfo=TZ)


def policies(client: InfluxQLClient) -> dict[str, dict[str, object]]:
    rows = [r for s in client.query(f'SHOW RETENTION POLICIES ON "{client.database}"') for r in s.rows()]
    return {str(r["name"]): r for r in rows}


def site_file(folder: Path, site: str, url: str, db: str) -> Path:
    return SiteSpec(
        id=site,
        zones=[("z", "agent", 14.0)],
        seats=[("A", "z", 1.0, 1.0, None), ("B", "z", 2.0, 1.0, None)],
        sensors=[("s-A", ("noise", "light")), ("s-B", ("noise", "light"))],
        installations=[(f"s-{s}", s, "2026-03-01T00:00:00+08:00", None) for s in "AB"],
    ).write(folder, url, db)


def test_setup_db_creates_then_leaves_then_alters_the_policy(
    influx_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = f"t_{uuid.uuid4().hex[:12]}"
    site = site_file(tmp_path, "setup", influx_url, db)
    client = InfluxQLClient(influx_url, db)
    try:
        assert main(["setup-db", "--site", str(site)]) == 0
        assert "created" in capsys.readouterr().out
        first = policies(client)["seatwatch"]
        assert (
            first["default"] is True
            and first["duration"] == "0s"
            and first["shardGroupDuration"] == "168h0m0s"
        )
        assert main(["setup-db", "--site", str(site)]) == 0
        assert "unchanged" in capsys.readouterr().out
        assert policies(client)["seatwatch"] == first
        assert main(["setup-db", "--site", str(site), "--keep", "400d", "--shard-duration", "1d"]) == 0
        assert "altered" in capsys.readouterr().out
        altered = policies(client)["seatwatch"]
        assert (altered["duration"], altered["shardGroupDuration"]) == ("9600h0m0s", "24h0m0s")
        assert main(["setup-db", "--site", str(site)]) == 0  # no options: an operator's choice stays
        assert "unchanged" in capsys.readouterr().out
        assert policies(client)["seatwatch"] == altered
        assert main(["setup-db", "--site", str(site), "--keep", "400 days"]) == 2
        assert "'400 days' is not a duration" in capsys.readouterr().err
    finally:
        client.command(f'DROP DATABASE "{db}"')


def test_setup_db_exits_2_when_the_server_is_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    site = site_file(tmp_path, "nowhere", "http://127.0.0.1:9", "seatwatch")
    monkeypatch.delenv("SEATWATCH_INFLUX_URL", raising=False)
    monkeypatch.delenv(SITE_URLS, raising=False)
    assert main(["setup-db", "--site", str(site)]) == 2
    assert "cannot reach InfluxDB at http://127.0.0.1:9" in capsys.readouterr().err


def test_site_url_mapping_wins_for_its_site_only() -> None:
    env = {
        "SEATWATCH_INFLUX_URL": "http://all:8086",
        SITE_URLS: "east=http://db-east:8086, west=https://db-w:8086",
    }
    table = {"influx_url": "http://from-file:8086"}
    assert load_services(table, env=env, site="east").influx_url == "http://db-east:8086"
    assert load_services(table, env=env, site="west").influx_url == "https://db-w:8086"
    assert load_services(table, env=env, site="north").influx_url == "http://all:8086"
    assert load_services(table, env={}, site="east").influx_url == "http://from-file:8086"
    with pytest.raises(ConfigError) as caught:
        load_services(table, env={SITE_URLS: "east=http://a:1,west"}, site="east")
    assert f"{SITE_URLS}: entry 2: 'west' is not site=http://host:port" in str(caught.value.problems[0])


@pytest.fixture
def two_servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    if not Influxd.available():
        unavailable("influxd is not available: install it (apt-get install influxdb)")
    servers = [Influxd(tmp_path / f"influxd-{i}") for i in (1, 2)]
    for server in servers:
        server.start()
    try:
        yield servers[0].url, servers[1].url
    finally:
        for server in servers:
            server.stop()


def test_two_sites_each_on_its_own_influxd(
    two_servers: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    east_url, west_url = two_servers
    # Both site files point nowhere and the global URL too: only the mapping can reach the servers.
    monkeypatch.setenv("SEATWATCH_INFLUX_URL", "http://127.0.0.1:9")
    monkeypatch.setenv(SITE_URLS, f"east={east_url},west={west_url}")
    levels = {"east": 50.0, "west": 60.0}  # east passes the 55 dB requirement, west fails it
    for site, url in (("east", east_url), ("west", west_url)):
        path = site_file(tmp_path, site, "http://127.0.0.1:9", "seatwatch")
        assert main(["setup-db", "--site", str(path)]) == 0
        lines = [
            calibration_line(site, f"s-{s}", q, DAY - timedelta(days=5), DAY + timedelta(days=30))
            for s in "AB"
            for q in ("noise", "light")
        ]
        for seat in "AB":
            level = levels[site]
            lines += noise_lines(
                site, "z", seat, f"s-{seat}", DAY, DAY + timedelta(days=1), steady(level)
            )
            lines += light_lines(site, "z", seat, f"s-{seat}", DAY, DAY + timedelta(days=1), lambda t: 400.0)
        write(url, "seatwatch", lines)
    period = ["--from", DAY.isoformat(), "--to", (DAY + timedelta(days=1)).isoformat()]
    for site, url in (("east", east_url), ("west", west_url)):
        path = tmp_path / f"{site}.toml"
        assert main(["analyze", "--site", str(path), *period]) == 0
        assert main(["report", "--site", str(path), *period, "--out", str(tmp_path / f"r-{site}")]) == 0
        assert main(["dashboards", "export", "--site", str(path), "--out", str(tmp_path / f"d-{site}")]) == 0
        report = json.loads((tmp_path / f"r-{site}" / "report.json").read_text(encoding="utf-8"))
        noise = [c for s in report["seats"] for c in s["checks"] if c["check"] == "noise"]
        assert {c["verdict"] for c in noise} == ({"pass"} if site == "east" else {"fail"})
        assert [c["value"] for c in noise] == pytest.approx([levels[site]] * 2)
        source = yaml.safe_load(
            (tmp_path / f"d-{site}" / "provisioning" / "datasources" / f"seatwatch-{site}.yaml").read_text()
        )
        assert source["datasources"][0]["url"] == url
    for site, url in (("east", east_url), ("west", west_url)):
        client = InfluxQLClient(url, "seatwatch")
        sites = {
            s.tags["site"] for s in client.query('SELECT count("verdict") FROM "compliance" GROUP BY "site"')
        }
        assert sites == {site}
