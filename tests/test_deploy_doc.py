"""docs/deploy.md, followed step by step on one machine, ends with a verdict for every seat.

Every command line of the document's shell and SQL blocks is listed below with what the test does for it:
run it as written once its paths are moved into a temporary root (``/etc`` -> ROOT/etc, ...), run an
equivalent (``systemctl enable --now UNIT`` runs that unit's ExecStartPre/ExecStart lines with its
EnvironmentFile and Environment=, as systemd would; ``mosquitto_passwd`` gets ``-b`` and a password instead
of a prompt), or skip it with the reason. A line of the document that is not listed fails the test, so when
the document changes the test must change with it.

What runs is the real thing: Debian's Mosquitto with the shipped TLS/ACL configuration and a CA the
document's openssl lines make, influxd with ``auth-enabled`` and the users the document's SQL creates,
``seatwatch validate/ingest/bridge/analyze/report`` from the units' own command lines and env files, and a
simulated floor (``seatwatch simulate --write-site``) read by the real bridges. Yesterday's working day is
published the way the bridges publish, with each bridge's own MQTT user, and the calibrations with the
``calibrate`` user, so the nightly analysis and the daily report have a day to judge.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from firmware_bridge.calibrate.broker import close, connect
from firmware_bridge.calibrate.record_store import RecordStore
from seatwatch.core.contract import encode
from seatwatch.core.settings import Services, load_services
from seatwatch.core.site_file import load_site
from seatwatch.demo.backfill import calibration_records, publish_day, sensor_biases
from seatwatch.local_servers import Influxd
from tests.conftest import EXAMPLE_SITE, REPO, unavailable
from tests.mosquitto_secure import DeployedMosquitto
from tests.systemd_units import INSTALLED, env_file, exec_lines, words

pytestmark = [pytest.mark.integration, pytest.mark.slow]

DOC = REPO / "docs" / "deploy.md"
SEATWATCH = str(Path(sys.executable).parent / "seatwatch")
SITE_ID = "sh-pudong-csc"
BRIDGES = ("gw-east", "gw-west")
MQTT_USERS = ("bridge-gw-east", "bridge-gw-west", "ingest", "calibrate")
SITE_TZ = ZoneInfo("Asia/Shanghai")  # analysis.env.example's TZ: the example site's zone
TIMEOUT_S = 240.0


def password(user: str) -> str:
    return f"pw-{user}"


# -- what the test does for each line of the document -------------------------------------------------
RUN = "run"  # as written, paths moved into the temporary root


@dataclass
class Skip:
    why: str


@dataclass
class Replace:
    """Run this shell line instead (paths moved too); ``why`` says why it differs."""

    line: str
    why: str


@dataclass
class Step:
    """A Python action the document's line stands for (a service start, an editor session)."""

    action: str
    why: str


ONE_MACHINE = "one machine, the test's own user: no system accounts are made or changed"
SERVER = {
    "apt-get install -y mosquitto influxdb python3-venv openssl": Step(
        "check_packages", "installed by .ci/run"
    ),
    "useradd --system --home-dir /var/lib/seatwatch --shell /usr/sbin/nologin seatwatch": Skip(ONE_MACHINE),
    "groupadd --system seatwatch-reports       # who may read the report files: usermod -aG seatwatch-reports NAME": (  # noqa: E501 - the document's line, verbatim
        Skip(ONE_MACHINE)
    ),
    "git clone <this repository> /opt/seatwatch/src": Skip("the checkout under test is the source"),
    "python3 -m venv /opt/seatwatch/venv && /opt/seatwatch/venv/bin/pip install /opt/seatwatch/src": Skip(
        "the test's environment has seatwatch installed; its bin/seatwatch stands for /opt/seatwatch/venv/bin"
    ),
    "install -d -m 0755 /etc/seatwatch": RUN,
    "cp your-site.toml /etc/seatwatch/site.toml            # layout: docs/site-file.md, examples/site.toml": (
        Replace("cp $WORK/your-site.toml /etc/seatwatch/site.toml", "the example floor, simulated")
    ),
    "/opt/seatwatch/venv/bin/seatwatch validate /etc/seatwatch/site.toml": RUN,
    # Certificates
    "cd /etc/mosquitto/certs": Replace(
        "mkdir -p /etc/mosquitto/certs && cd /etc/mosquitto/certs", "a new root"
    ),
    'openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=seatwatch CA" -keyout ca.key -out ca.crt': RUN,  # noqa: E501 - the document's line, verbatim
    'openssl req -newkey rsa:3072 -nodes -subj "/CN=mqtt.example.internal" -keyout server.key -out server.csr': RUN,  # noqa: E501 - the document's line, verbatim
    "printf 'subjectAltName=DNS:mqtt.example.internal,IP:10.0.0.5\\n' > san.ext": Replace(
        "printf 'subjectAltName=DNS:mqtt.example.internal,IP:127.0.0.1\\n' > san.ext",
        "on one machine the gateways dial the broker at 127.0.0.1",
    ),
    "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 825 -extfile san.ext -out server.crt": RUN,  # noqa: E501 - the document's line, verbatim
    "chown mosquitto: server.key && chmod 0600 server.key ca.key": Replace(
        "chmod 0600 server.key ca.key", "the test's Mosquitto runs as the test's user"
    ),
    "mv ca.key /root/seatwatch-ca.key    # keep the CA key off the broker's folders (offline is better)": (
        Replace("mkdir -p /root && mv ca.key /root/seatwatch-ca.key", "a new root")
    ),
    # Mosquitto
    "cp /opt/seatwatch/src/deploy/mosquitto/seatwatch.conf /etc/mosquitto/conf.d/": Replace(
        "mkdir -p /etc/mosquitto/conf.d && cp /opt/seatwatch/src/deploy/mosquitto/seatwatch.conf "
        "/etc/mosquitto/conf.d/",
        "a new root",
    ),
    "cp /opt/seatwatch/src/deploy/mosquitto/seatwatch.acl /etc/mosquitto/": RUN,
    "$EDITOR /etc/mosquitto/seatwatch.acl        # your site id and bridge ids (one block per bridge)": Skip(
        "the shipped ACL is written for the example site, which is the one deployed here"
    ),
    "touch /etc/mosquitto/seatwatch.passwd && chown mosquitto: /etc/mosquitto/seatwatch.passwd": Replace(
        "touch /etc/mosquitto/seatwatch.passwd", "the test's Mosquitto runs as the test's user"
    ),
    "chmod 0600 /etc/mosquitto/seatwatch.passwd": RUN,
    "for user in bridge-gw-east bridge-gw-west ingest calibrate; do": RUN,
    'mosquitto_passwd /etc/mosquitto/seatwatch.passwd "$user"     # asks for each password': Replace(
        'mosquitto_passwd -b /etc/mosquitto/seatwatch.passwd "$user" "pw-$user"', "no prompt in a test"
    ),
    "done": RUN,
    "systemctl restart mosquitto": Step("start_mosquitto", "the shipped config on a free loopback port"),
    # InfluxDB: statements are sent to the auth-enabled influxd (admin first, then as admin)
    "CREATE USER admin WITH PASSWORD '…' WITH ALL PRIVILEGES": Step("influxql", "sent over HTTP"),
    "CREATE DATABASE seatwatch": Step("influxql", "sent over HTTP"),
    "CREATE USER seatwatch WITH PASSWORD '…'": Step("influxql", "sent over HTTP"),
    "GRANT ALL ON seatwatch TO seatwatch          -- ingest and analysis": Step("influxql", "sent over HTTP"),
    "CREATE USER grafana WITH PASSWORD '…'": Step("influxql", "sent over HTTP"),
    "GRANT READ ON seatwatch TO grafana": Step("influxql", "sent over HTTP"),
    "CREATE CONTINUOUS QUERY noise_1m ON seatwatch BEGIN": Step("influxql_block", "sent over HTTP"),
    # seatwatch services on the server
    "cp /opt/seatwatch/src/deploy/systemd/seatwatch-{ingest@.service,analysis.service,analysis.timer} /etc/systemd/system/": Replace(  # noqa: E501 - the document's line, verbatim
        "mkdir -p /etc/systemd/system && cp /opt/seatwatch/src/deploy/systemd/"
        "seatwatch-{ingest@.service,analysis.service,analysis.timer} /etc/systemd/system/",
        "a new root",
    ),
    "cp /opt/seatwatch/src/deploy/systemd/seatwatch-report{@.service,-daily.timer,-monthly.timer,-quarterly.timer} /etc/systemd/system/": RUN,  # noqa: E501 - the document's line, verbatim
    "install -m 0600 /opt/seatwatch/src/deploy/systemd/ingest.env.example /etc/seatwatch/ingest.env": RUN,
    "install -m 0600 /opt/seatwatch/src/deploy/systemd/analysis.env.example /etc/seatwatch/analysis.env": RUN,
    "$EDITOR /etc/seatwatch/ingest.env /etc/seatwatch/analysis.env     # URLs, passwords, tokens, TZ": Step(
        "edit_server_env", "the values the steps above made"
    ),
    "systemctl daemon-reload": Skip("the units' command lines are run directly"),
    "systemctl enable --now seatwatch-ingest@1 seatwatch-analysis.timer": Step(
        "start_ingest", "ingest@1 from its unit; the timer's service runs below, once the day is stored"
    ),
    "systemctl enable --now seatwatch-report-daily.timer seatwatch-report-monthly.timer seatwatch-report-quarterly.timer": Skip(  # noqa: E501 - the document's line, verbatim
        "the timers fire at night; their services are started directly at the end, as the document says"
    ),
    "journalctl -u seatwatch-ingest@1 -f": Skip(
        "ingest's output goes to a log file the test reads on failure"
    ),
    # the gateways
    "apt-get install -y python3-venv": Step("check_packages", "installed by .ci/run"),
    "python3 -m venv /opt/seatwatch/venv && /opt/seatwatch/venv/bin/pip install /path/to/seatwatch": Skip(
        "one machine: the server's environment serves the gateways too"
    ),
    "install -d /etc/seatwatch && cp site.toml /etc/seatwatch/ && cp ca.crt /etc/seatwatch/": Skip(
        "one machine: the server's /etc/seatwatch already holds this site.toml and ca.crt"
    ),
    "cp deploy/systemd/seatwatch-bridge@.service /etc/systemd/system/": RUN,
    "install -m 0600 deploy/systemd/bridge.env.example /etc/seatwatch/bridge-gw-east.env": Replace(
        "for b in gw-east gw-west; do install -m 0600 deploy/systemd/bridge.env.example "
        "/etc/seatwatch/bridge-$b.env; done",
        "both gateways of the example site",
    ),
    "$EDITOR /etc/seatwatch/bridge-gw-east.env     # broker URL, bridge-gw-east and its password": Step(
        "edit_bridge_env", "each bridge's own user and password"
    ),
    "systemctl daemon-reload && systemctl enable --now seatwatch-bridge@gw-east": Step(
        "start_bridges", "bridge@gw-east and bridge@gw-west from their unit"
    ),
}
NOT_FOLLOWED = {"4. The same server side with docker compose": "Docker cannot run here"}


def document_blocks() -> list[tuple[str, str, list[str]]]:
    """(section, language, lines) of each sh and sql block of the document, in order."""
    out: list[tuple[str, str, list[str]]] = []
    section, language = "", None
    lines: list[str] = []
    for raw in DOC.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if language is None and raw.startswith("## "):
            section = raw[3:].strip()
        if line.startswith("```"):
            if language is None:
                language, lines = line[3:].strip() or "text", []
            else:
                if language in ("sh", "sql") and section not in NOT_FOLLOWED:
                    out.append((section, language, lines))
                language = None
            continue
        if language is not None and line:
            lines.append(line)
    return out


def document_lines() -> list[str]:
    return [line for _, _, lines in document_blocks() for line in lines]


def test_every_command_line_of_the_document_is_followed_or_skipped_for_a_reason() -> None:
    lines = document_lines()
    sql_block = [line for line in lines if line not in SERVER]
    unknown = [line for line in sql_block if not _in_continuous_query(line)]
    assert not unknown, "docs/deploy.md has lines this test does not follow yet:\n" + "\n".join(unknown)
    stale = [line for line in SERVER if line not in lines]
    assert not stale, "this test follows lines docs/deploy.md no longer has:\n" + "\n".join(stale)


def _in_continuous_query(line: str) -> bool:
    """The lines of the CREATE CONTINUOUS QUERY block after its first (sent with it as one statement)."""
    block = _continuous_query()
    return line in block.splitlines()[1:]


def _continuous_query() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"```sql\n\s*(CREATE CONTINUOUS QUERY.*?END)\n\s*```", text, re.S)
    assert match, "docs/deploy.md: the continuous query block moved"
    return "\n".join(line.strip() for line in match.group(1).splitlines())


# -- the deployment ------------------------------------------------------------------------------------
class AuthInfluxd(Influxd):
    """influxd with ``[http] auth-enabled = true``, as the document says to turn on."""

    def command(self) -> list[str]:
        command = super().command()
        config = self.workdir / "influxdb.conf"
        config.write_text(config.read_text().replace("[http]\n", "[http]\n  auth-enabled = true\n", 1))
        return command


@dataclass
class Deployment:
    root: Path
    work: Path
    influx: AuthInfluxd
    mosquitto_port: int = 0
    # only polled, stopped and waited for: text or bytes output alike
    processes: dict[str, subprocess.Popen[bytes] | subprocess.Popen[str]] = field(default_factory=dict)
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    # paths and command lines ----------------------------------------------------------------------
    def moved(self, text: str) -> str:
        """A path or command line of the document with its system folders under the temporary root."""
        text = text.replace(INSTALLED, SEATWATCH).replace(
            "/opt/seatwatch/venv/bin/", f"{Path(SEATWATCH).parent}/"
        )
        text = text.replace("/opt/seatwatch/src", str(REPO))
        for folder in ("/etc/", "/var/lib/", "/root"):
            text = re.sub(rf"(?<![\w./-]){re.escape(folder)}", f"{self.root}{folder}", text)
        return text.replace("$WORK", str(self.work))

    def shell(self, script: str) -> None:
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
        )
        assert result.returncode == 0, f"{script}\n{result.stdout}{result.stderr}"

    def unit_env(self, unit: Path, instance: str) -> dict[str, str]:
        """The environment systemd gives the unit: its EnvironmentFile, then its Environment= lines."""
        text = unit.read_text()
        env = {"PATH": os.environ["PATH"], "HOME": str(self.work)}
        for line in text.splitlines():
            if line.startswith("EnvironmentFile="):
                env.update(env_file(Path(self.moved(line.split("=", 1)[1].replace("%i", instance)))))
        for line in text.splitlines():
            if line.startswith("Environment="):
                key, value = line.split("=", 2)[1:]
                env[key] = self.moved(value.replace("%i", instance))
        return env

    def unit_commands(self, name: str, instance: str) -> tuple[list[list[str]], dict[str, str]]:
        unit = self.root / "etc" / "systemd" / "system" / name
        assert unit.is_file(), f"{unit} was not installed by the document's steps"
        env = self.unit_env(unit, instance)
        mode = 0o755
        for line in unit.read_text().splitlines():  # systemd makes StateDirectory= before starting
            if line.startswith("StateDirectoryMode="):
                mode = int(line.split("=", 1)[1], 8)
        for line in unit.read_text().splitlines():
            if line.startswith("StateDirectory="):
                folder = self.root / "var" / "lib" / line.split("=", 1)[1].replace("%i", instance)
                folder.mkdir(parents=True, exist_ok=True)
                folder.chmod(mode)
        return [words(self.moved(line), instance, "deploytest") for line in exec_lines(unit)], env

    def start_unit(self, name: str, instance: str) -> None:
        """Type=simple: the ExecStartPre lines must succeed, then ExecStart keeps running."""
        commands, env = self.unit_commands(name, instance)
        *pre, main = commands
        for command in pre:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120)
            assert result.returncode == 0, f"{name} {instance}: {command}\n{result.stderr}"
        log = self.work / f"{name.replace('@.service', '')}-{instance}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                main, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )
        self.processes[f"{name}:{instance}"] = process

    def run_unit(self, name: str, instance: str = "") -> str:
        """Type=oneshot: every ExecStart line in order, each must succeed; returns their output."""
        commands, env = self.unit_commands(name, instance)
        output = ""
        for command in commands:
            result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=TIMEOUT_S)
            assert result.returncode == 0, f"{name} {instance}: {command}\n{result.stdout}{result.stderr}"
            output += result.stdout + result.stderr
        return output

    # InfluxDB as the document's users --------------------------------------------------------------
    def influxql(self, statement: str, user: str | None, method: str = "POST", db: str = "") -> dict:
        query = {"q": statement, **({"db": db} if db else {})}
        request = urllib.request.Request(
            f"{self.influx.url}/query", data=urllib.parse.urlencode(query).encode(), method=method
        )
        if user:
            token = base64.b64encode(f"{user}:{password(user)}".encode()).decode()
            request.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            doc = json.loads(response.read())
        errors = [r["error"] for r in doc.get("results", []) if "error" in r]
        assert not errors, f"{statement}: {errors}"
        return doc

    def count_by_sensor(self, since: datetime, until: datetime | None = None) -> dict[str, int]:
        """Points per sensor in noise + light within [since, until), read as the grafana (read-only) user."""
        where = f"time >= '{since.astimezone(UTC).isoformat()}'"
        if until:
            where += f" AND time < '{until.astimezone(UTC).isoformat()}'"
        counts: dict[str, int] = {}
        for measurement, fieldname in (("noise", "raw_laeq"), ("light", "raw_lux")):
            q = f'SELECT count("{fieldname}") FROM "{measurement}" WHERE {where} GROUP BY "sensor"'
            for series in self.influxql(q, "grafana", db="seatwatch")["results"][0].get("series", []):
                sensor = series["tags"]["sensor"]
                counts[sensor] = counts.get(sensor, 0) + int(series["values"][0][1])
        return counts

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for action in reversed(self.cleanup):
            action()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(condition: Callable[[], bool], what: str, logs: Path) -> None:
    """Wait for ``condition``; a service that says its credentials were refused fails at once."""
    deadline = time.monotonic() + TIMEOUT_S
    while not condition():
        texts = {p.name: p.read_text(errors="replace") for p in sorted(logs.glob("*.log"))}
        refused = [f"{name}: {line}" for name, text in texts.items() for line in text.splitlines()
                   if "(401)" in line or "Not authorized" in line]  # fmt: skip
        if refused or time.monotonic() > deadline:
            tails = "\n".join(f"== {name}\n{text[-3000:]}" for name, text in texts.items())
            cause = f"credentials refused: {refused[0]}" if refused else f"timed out after {TIMEOUT_S:.0f} s"
            raise AssertionError(f"{cause}, waiting for {what}\n{tails}")
        time.sleep(1.0)


@pytest.fixture()
def deployment(tmp_path: Path) -> Iterator[Deployment]:
    for binary in ("mosquitto", "mosquitto_passwd", "influxd", "openssl", "bash"):
        if shutil.which(binary, path=os.environ["PATH"] + ":/usr/sbin") is None:
            unavailable(f"{binary} is not installed (apt-get install mosquitto influxdb openssl)")
    work = tmp_path / "work"
    work.mkdir()
    deployment = Deployment(tmp_path / "root", work, AuthInfluxd(tmp_path / "influxd"))
    try:
        yield deployment
    finally:
        deployment.stop()


# -- the steps the document's lines stand for ----------------------------------------------------------
class Steps:
    def __init__(self, d: Deployment) -> None:
        self.d = d

    def check_packages(self, line: str) -> None:
        for package in line.split("install -y", 1)[1].split():
            binary = {"mosquitto": "mosquitto", "influxdb": "influxd", "openssl": "openssl"}.get(package)
            if package == "python3-venv":
                assert subprocess.run(["python3", "-c", "import venv, ensurepip"]).returncode == 0
            elif binary:
                assert shutil.which(binary, path=os.environ["PATH"] + ":/usr/sbin"), package

    def start_mosquitto(self, line: str) -> None:
        broker = DeployedMosquitto(self.d.root / "etc" / "mosquitto")  # conf.d's copy: the shipped file
        broker.start()
        self.d.cleanup.append(broker.stop)
        self.d.mosquitto_port = broker.port

    def influxql(self, line: str) -> None:
        statement = re.sub(r"\s*--.*$", "", line)
        user = re.match(r"CREATE USER (\w+)", statement)
        if user:
            statement = statement.replace("'…'", f"'{password(user.group(1))}'")
        self.d.influxql(statement, None if statement.startswith("CREATE USER admin") else "admin")

    def influxql_block(self, line: str) -> None:
        # The retention advice above the block gives its policies inline; the query writes into one.
        for policy in re.findall(r"`(CREATE RETENTION POLICY [^`]+)`", DOC.read_text(encoding="utf-8")):
            self.d.influxql(policy, "admin")
        self.d.influxql(_continuous_query(), "admin")

    def _edit(self, path: Path, values: dict[str, str]) -> None:
        current = env_file(path)
        assert set(values) <= set(current), f"{path.name} lacks {set(values) - set(current)}"
        path.write_text("".join(f"{key}={value}\n" for key, value in {**current, **values}.items()))

    def edit_server_env(self, line: str) -> None:
        etc = self.d.root / "etc" / "seatwatch"
        mqtt = {
            "SEATWATCH_MQTT_URL": f"mqtts://127.0.0.1:{self.d.mosquitto_port}",
            "SEATWATCH_MQTT_CA_FILE": str(etc / "ca.crt"),
        }
        influx = {
            "SEATWATCH_INFLUX_URL": self.d.influx.url,
            "SEATWATCH_INFLUX_TOKEN": f"seatwatch:{password('seatwatch')}",  # the 1.x form the doc gives
        }
        self._edit(
            etc / "ingest.env",
            {
                **mqtt,
                "SEATWATCH_MQTT_USERNAME": "ingest",
                "SEATWATCH_MQTT_PASSWORD": password("ingest"),
                **influx,
            },
        )
        self._edit(etc / "analysis.env", {**influx, "TZ": "Asia/Shanghai"})

    def edit_bridge_env(self, line: str) -> None:
        etc = self.d.root / "etc" / "seatwatch"
        for bridge in BRIDGES:
            self._edit(
                etc / f"bridge-{bridge}.env",
                {
                    "SEATWATCH_MQTT_URL": f"mqtts://127.0.0.1:{self.d.mosquitto_port}",
                    "SEATWATCH_MQTT_CA_FILE": str(etc / "ca.crt"),
                    "SEATWATCH_MQTT_USERNAME": f"bridge-{bridge}",
                    "SEATWATCH_MQTT_PASSWORD": password(f"bridge-{bridge}"),
                },
            )

    def start_ingest(self, line: str) -> None:
        self.d.start_unit("seatwatch-ingest@.service", "1")

    def start_bridges(self, line: str) -> None:
        for bridge in BRIDGES:
            self.d.start_unit("seatwatch-bridge@.service", bridge)


def _mqtt_services(d: Deployment, user: str) -> Services:
    etc = d.root / "etc" / "seatwatch"
    return load_services(
        {},
        env={
            "SEATWATCH_MQTT_URL": f"mqtts://127.0.0.1:{d.mosquitto_port}",
            "SEATWATCH_MQTT_CA_FILE": str(etc / "ca.crt"),
            "SEATWATCH_MQTT_USERNAME": user,
            "SEATWATCH_MQTT_PASSWORD": password(user),
            "SEATWATCH_STATE_DIR": str(d.work / f"state-{user}"),
        },
    )


def _publish_yesterday(d: Deployment, day: date) -> int:
    """Calibrations as the ``calibrate`` user, then ``day``'s readings as each bridge's own MQTT user."""
    site = load_site(d.root / "etc" / "seatwatch" / "site.toml")
    biases = sensor_biases(site, 0)
    calibrator = _mqtt_services(d, "calibrate")
    store = RecordStore(site.id, calibrator, d.work / "calibrate")
    for record in calibration_records(
        site, biases, datetime.combine(day - timedelta(days=30), datetime.min.time(), UTC)
    ):
        store.append(record)
        store.publish(record)
    clients = {b: connect(_mqtt_services(d, f"bridge-{b}"), f"backfill-{b}") for b in BRIDGES}
    pending = []
    try:
        count = publish_day(
            site, day, 300, biases, 0,
            lambda topic, readings: pending.append(
                clients[topic.split("/")[4]].publish(topic, encode(readings), qos=1)
            ),
        )  # fmt: skip
        for info in pending:
            info.wait_for_publish(60)
            assert info.is_published()
    finally:
        for client in clients.values():
            close(client)
    return count


def test_deploy_md_step_by_step_ends_with_a_verdict_for_every_seat(deployment: Deployment) -> None:
    d = deployment
    d.influx.start()
    d.cleanup.append(d.influx.stop)
    # "your-site.toml": the example floor, its ports the simulator's pseudo-terminals
    simulate = subprocess.Popen(
        [SEATWATCH, "simulate", "--site", str(EXAMPLE_SITE), "--write-site", str(d.work / "your-site.toml"),
         "--port-dir", str(d.work / "ports")],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )  # fmt: skip
    d.processes["simulate"] = simulate
    assert simulate.stdout is not None
    simulated = [simulate.stdout.readline().split("\t")[0] for _ in range(68)]
    _wait(lambda: (d.work / "your-site.toml").is_file(), "the simulator's site file", d.work)

    steps = Steps(d)
    for _section, _language, lines in document_blocks():
        script = ""  # a block's shell lines run as one script: its cd and for loops hold
        for line in lines:
            what = SERVER.get(line)
            if what is None:  # the continuous query's lines after its first, sent with it
                continue
            if isinstance(what, Step):
                if script:
                    d.shell(script)
                script = ""
                getattr(steps, what.action)(line)
            elif what == RUN or isinstance(what, Replace):
                script += d.moved(what.line if isinstance(what, Replace) else line) + "\n"
        if script:
            d.shell(script)
        if any(line.startswith("mv ca.key") for line in lines):
            # the document, after this block: copy ca.crt (never a key) to /etc/seatwatch/ca.crt
            d.shell(d.moved("cp /etc/mosquitto/certs/ca.crt /etc/seatwatch/ca.crt"))

    # the floor flows: every simulated sensor's readings are stored, through the TLS broker and ingest
    live_since = datetime.now(UTC)
    _wait(
        lambda: set(d.count_by_sensor(live_since)) >= set(simulated),
        "live readings from all 68 simulated sensors in InfluxDB",
        d.work,
    )
    # yesterday, site time (analysis.env's TZ), published as the bridges publish
    yesterday = datetime.now(SITE_TZ).date() - timedelta(days=1)
    published = _publish_yesterday(d, yesterday)
    start = datetime.combine(yesterday, datetime.min.time(), SITE_TZ)
    _wait(
        lambda: sum(d.count_by_sensor(start, start + timedelta(days=1)).values()) >= published,
        f"{published} readings of {yesterday} stored",
        d.work,
    )

    # `systemctl start seatwatch-analysis`, then `systemctl start seatwatch-report@daily`
    analysis = d.run_unit("seatwatch-analysis.service")
    assert "48 seats" in analysis, analysis
    judged = d.influxql('SELECT count("value") FROM "compliance" GROUP BY "seat"', "grafana", db="seatwatch")
    seat_ids = set(load_site(EXAMPLE_SITE).seats)
    assert {s["tags"]["seat"] for s in judged["results"][0]["series"]} - {""} == seat_ids
    d.run_unit("seatwatch-report@.service", "daily")
    folder = d.root / "var" / "lib" / "seatwatch" / "reports" / "daily" / yesterday.isoformat()
    report = json.loads((folder / "report.json").read_text())
    seats = {seat["seat"]: seat["verdict"] for seat in report["seats"]}
    assert set(seats) == seat_ids and set(seats.values()) <= {"pass", "marginal", "fail", "insufficient_data"}
    # calibrated sensors and a whole day: real verdicts, not just "no data" (two sensors are left
    # uncalibrated on purpose by the backfill, so some seats are insufficient_data)
    assert {"pass", "fail"} & set(seats.values()), seats
    assert (folder / "report.html").is_file() and (folder / "seats.csv").is_file()
