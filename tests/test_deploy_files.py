"""The systemd units and the docker-compose stack in deploy/ are well-formed and keep secrets out.

Docker cannot run here, so compose.yaml is checked by reading it: the services, that every secret comes
from an env_file (never a literal in the file), what is published, and that the Mosquitto config it mounts
is the one tests/test_deploy_mosquitto.py exercises. The systemd units go through `systemd-analyze verify`
and their command lines through seatwatch's own argument parsers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from seatwatch.cli import COMMANDS, _command_parser
from tests.conftest import unavailable
from tests.systemd_units import INSTALLED, exec_lines, seatwatch_arguments, words

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"
SYSTEMD = DEPLOY / "systemd"
DOCKER = DEPLOY / "docker"
SECRET_NAME = re.compile(r"PASSWORD|TOKEN|SECRET|_KEY$", re.IGNORECASE)


def _compose() -> dict:
    return yaml.safe_load((DOCKER / "compose.yaml").read_text())


def test_compose_has_the_full_stack() -> None:
    services = _compose()["services"]
    assert set(services) == {"mosquitto", "influxdb", "grafana", "ingest", "analysis"}
    assert services["influxdb"]["image"].startswith("influxdb:1.8")
    assert services["ingest"]["command"][0] == "ingest"
    assert services["ingest"]["build"]["dockerfile"] == "deploy/docker/Dockerfile"


def test_compose_holds_no_secret_literal() -> None:
    for name, service in _compose()["services"].items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: use a mapping for environment"
        leaked = [key for key in environment if SECRET_NAME.search(key)]
        assert not leaked, f"{name} sets {leaked} in compose.yaml; secrets belong in its env_file"
    for example in DOCKER.glob("*.env.example"):
        for line in example.read_text().splitlines():
            key, _, value = line.partition("=")
            if SECRET_NAME.search(key) and not line.startswith("#"):
                assert value == "", f"{example.name}: {key} must be empty in the example"


def test_compose_publishes_only_the_broker_and_loopback_grafana() -> None:
    published = {name: s.get("ports", []) for name, s in _compose()["services"].items() if s.get("ports")}
    assert published == {"mosquitto": ["8883:8883"], "grafana": ["127.0.0.1:3000:3000"]}


def test_compose_mounts_the_tested_mosquitto_config() -> None:
    volumes = _compose()["services"]["mosquitto"]["volumes"]
    for shipped in ("../mosquitto/seatwatch.conf", "../mosquitto/seatwatch.acl"):
        mount = next(v for v in volumes if v.startswith(shipped + ":"))
        assert (DOCKER / shipped).resolve().is_file(), mount


def test_dockerfile_copies_what_exists() -> None:
    for line in (DOCKER / "Dockerfile").read_text().splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                if source != "README.md":  # the lead's README; the build needs it, the test tree may not
                    assert (REPO / source).exists(), line


INSTANCES = {"seatwatch-report@.service": ("daily", "monthly", "quarterly")}


@pytest.mark.parametrize("unit", sorted(p.name for p in SYSTEMD.glob("*.service")))
def test_unit_commands_parse(unit: str, tmp_path: Path) -> None:
    """Every seatwatch command a unit runs exists, and its options parse once the command is built."""
    for instance in INSTANCES.get(unit, ("gw-east",)):
        for command in exec_lines(SYSTEMD / unit):
            name, *args = seatwatch_arguments(words(command, instance), tmp_path)
            assert name in COMMANDS, command
            if COMMANDS[name].module is not None:
                _command_parser(name).parse_args(args)


def _periods(today: date) -> dict[str, tuple[date, date]]:
    """Yesterday, last month and last quarter as [first day, next period's first day), by calendar."""
    month = today.replace(day=1)
    quarter = month.replace(month=(today.month - 1) // 3 * 3 + 1)
    before = (quarter.month - 4) % 12 + 1, quarter.year - (quarter.month == 1)
    return {
        "daily": (today - timedelta(days=1), today),
        "monthly": ((month - timedelta(days=1)).replace(day=1), month),
        "quarterly": (date(before[1], before[0], 1), quarter),
    }


def test_report_timers_cover_the_periods_they_name(tmp_path: Path) -> None:
    today = datetime.now().date()  # the unit's shell runs `date` on this clock, in this time zone
    unit = SYSTEMD / "seatwatch-report@.service"
    for period, (start, end) in _periods(today).items():
        timer = (SYSTEMD / f"seatwatch-report-{period}.timer").read_text()
        assert f"Unit=seatwatch-report@{period}.service" in timer
        args = seatwatch_arguments(words(exec_lines(unit)[0], period), tmp_path)
        assert args[0] == "report"
        options = dict(zip(args[1::2], args[2::2], strict=True))
        assert (options["--from"], options["--to"]) == (start.isoformat(), end.isoformat()), period
        assert options["--out"] == f"/var/lib/seatwatch/reports/{period}/{start.isoformat()}"
    unknown = words(exec_lines(unit)[0], "weekly")
    result = subprocess.run(unknown, capture_output=True, text=True)
    assert result.returncode == 2 and "daily, monthly or quarterly" in result.stderr


def test_units_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        unavailable("systemd-analyze is not installed (apt-get install systemd)")
    seatwatch = Path(sys.executable).parent / "seatwatch"
    assert seatwatch.is_file(), "install the package (pip install -e .) so the units' commands exist"
    for unit in SYSTEMD.iterdir():
        if unit.suffix in (".service", ".timer"):
            (tmp_path / unit.name).write_text(unit.read_text().replace(INSTALLED, str(seatwatch)))
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", *units], capture_output=True, text=True, cwd=tmp_path
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
