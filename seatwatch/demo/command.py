"""``seatwatch demo``: start the servers, simulate the example floor, run the real pipeline, write a report.

A newcomer must see seatwatch do its whole job with one command and without setting anything up, so the
demo runs the same commands a deployment runs (ingest, bridges, analyze, report) as child processes,
against a real Mosquitto and a real InfluxDB that it starts in a temporary folder on 127.0.0.1 (unless
SEATWATCH_MQTT_URL / SEATWATCH_INFLUX_URL name servers to use). A report needs a working day of data, so a
realistic past day is published first the way bridges publish (backfill.py); then simulated devices on
pseudo-terminals and the real bridges show live data flowing. Ctrl-C, at any point, stops everything it
started; ``--keep-running`` leaves live data flowing until then.
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from firmware_bridge.calibrate.broker import BrokerError, close, connect
from firmware_bridge.calibrate.record_store import RecordStore
from firmware_bridge.simulate.simulator import SensorBias, Simulator
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE
from seatwatch.core.contract import Reading, encode
from seatwatch.core.influxql import InfluxQLClient, InfluxQLError, quote_ident
from seatwatch.core.schema import Light, Noise, Tag, level_ql
from seatwatch.core.settings import Services, load_services
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site
from seatwatch.core.topics import ingest_status_topic
from seatwatch.core.wording import plural
from seatwatch.demo import prerequisites
from seatwatch.demo.backfill import (
    calibration_records,
    last_working_day,
    publish_day,
    sensor_biases,
)
from seatwatch.demo.children import Child, Children
from seatwatch.demo.demo_site import EXAMPLE_SITE, write_demo_site
from seatwatch.local_servers import Influxd, Mosquitto
from seatwatch.setup_db.command import setup_database

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130
INGEST_CLIENT_ID = "seatwatch-demo-ingest"
STEPS = 7
WAIT_TIMEOUT_S = 120.0
# The query the summary offers to paste into a shell: unquoted names keep it inside the shell's quotes.
LEVEL_BY_SEAT = f"SELECT {level_ql(Noise.EXPOSURE, Noise.DUR)} FROM {Noise.NAME} GROUP BY {Tag.SEAT}"


class DemoFailed(RuntimeError):
    """A step could not finish; the message says which and where to look."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Start Mosquitto and InfluxDB on 127.0.0.1 in a temporary folder, simulate the example floor, "
        "run the real ingest, bridges, analysis and report, and export the dashboards. Ctrl-C stops "
        "everything it started."
    )
    parser.epilog = (
        "examples:\n  seatwatch demo\n"
        "  seatwatch demo --keep-running        # explore live data until Ctrl-C\n"
        "  SEATWATCH_MQTT_URL=mqtt://broker:1883 seatwatch demo   # use your broker, start none"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=Path("seatwatch-demo"),
        metavar="DIR",
        help="where the report, the demo's site file and the logs go (default: ./seatwatch-demo)",
    )
    parser.add_argument(
        "--site",
        type=Path,
        default=EXAMPLE_SITE,
        metavar="SITE.toml",
        help="the site to simulate (default: examples/site.toml, the 48-seat floor shipped with seatwatch)",
    )
    parser.add_argument(
        "--keep-running", action="store_true", help="leave live data flowing at the end until Ctrl-C"
    )
    parser.add_argument(
        "--step",
        type=int,
        default=60,
        metavar="SECONDS",
        help="interval of the backfilled day's readings (default: 60; it must divide a day)",
    )
    parser.add_argument(
        "--live",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="how long to watch live data before analysing (default: 10)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the simulated office (default: 0)")


def _bad_arguments(args: argparse.Namespace) -> list[str]:
    problems = []
    if not 1 <= args.step <= 3600 or 86_400 % args.step:
        problems.append(f"--step {args.step}: must be 1..3600 seconds and divide a day (60, 300, 600...)")
    if args.live < 0:
        problems.append(f"--live {args.live}: must not be negative")
    if not args.site.is_file():
        problems.append(f"--site {args.site}: no such file")
    return problems


def say(step: int | None, text: str) -> None:
    prefix = f"[{step}/{STEPS}] " if step else "      "
    print(prefix + text, flush=True)


def run(args: argparse.Namespace) -> int:
    problems = _bad_arguments(args)
    if problems:
        for problem in problems:
            print(f"seatwatch demo: {problem}", file=sys.stderr)
        return EXIT_USAGE
    # The user's own file, checked before any server starts: a ConfigError names its lines (not those of
    # the demo's rewritten copy); seatwatch.cli prints it, exit 2.
    load_site(args.site)
    env = dict(os.environ, PATH=prerequisites.SEARCH_PATH)
    missing = prerequisites.missing(env)
    if missing:
        print(prerequisites.how_to_get(missing), file=sys.stderr)
        return EXIT_USAGE
    os.environ["PATH"] = env["PATH"]  # the servers are started from this process too

    def interrupted(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    # Ctrl-C must work even when the demo was started with SIGINT ignored (e.g. `cmd &` in a script).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    demo = Demo(args, env)
    try:
        return demo.run()
    except KeyboardInterrupt:
        print("\nStopping: every process the demo started is being stopped.", flush=True)
        return EXIT_INTERRUPTED
    except (DemoFailed, BrokerError, InfluxQLError, RuntimeError, OSError) as exc:
        # a server that would not start, a broker or database that refused us: say what, not a traceback
        print(f"seatwatch demo: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        # a second Ctrl-C must not cut the clean-up short and leave servers behind
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        demo.stop()


class Demo:
    """One demo run: what it started (so it can stop it) and where things are (so it can say so)."""

    def __init__(self, args: argparse.Namespace, env: dict[str, str]) -> None:
        self.args = args
        self.env = env
        self.out = args.out.resolve()
        self.work = Path(tempfile.mkdtemp(prefix="seatwatch-demo-"))
        self.stack = ExitStack()
        self.stack.callback(shutil.rmtree, self.work, ignore_errors=True)
        self.children = Children(self.out / "logs", env)
        self.started_none = False  # set by start_servers: True if every server was the user's

    def stop(self) -> None:
        self.children.stop_all()
        self.stack.close()

    # -- the steps -------------------------------------------------------------------------------
    def run(self) -> int:
        mqtt_url, influx_url = self.start_servers()
        site, services = self.prepare_site(mqtt_url, influx_url)
        biases = sensor_biases(site, self.args.seed)
        day = last_working_day(site, datetime.now(site.hours.timezone).date())
        self.install_calibrations(site, services, biases, day)
        self.start_ingest(site, services)
        self.backfill(site, services, biases, day)
        self.start_live(site, services, biases)
        report = self.analyse(site, day)
        dashboards = self.export_dashboards(site)
        self.tell(site, services, day, report, dashboards)
        if self.args.keep_running:
            self.keep_running(site, services)
        return EXIT_OK

    def start_servers(self) -> tuple[str, str]:
        urls = []
        self.started_none = True
        for server, kind in ((prerequisites.MOSQUITTO, Mosquitto), (prerequisites.INFLUXD, Influxd)):
            url = server.configured_url(self.env)
            if url:
                say(1, f"{server.what}: using {_without_credentials(url)} ({server.env_var})")
            else:
                process = kind(self.work / server.binary)
                self.started_none = False
                self.stack.callback(process.stop)
                process.start()
                url = process.url
                say(1, f"{server.what}: started on {url} (data in {process.workdir})")
            urls.append(url)
        return urls[0], urls[1]

    def prepare_site(self, mqtt_url: str, influx_url: str) -> tuple[Site, Services]:
        state = self.work / "state"
        self.env.update(
            SEATWATCH_MQTT_URL=mqtt_url, SEATWATCH_INFLUX_URL=influx_url, SEATWATCH_STATE_DIR=str(state)
        )
        target = self.out / "site.toml"
        site = write_demo_site(
            self.args.site,
            target,
            self.work / "dev",
            {"mqtt_url": mqtt_url, "influx_url": influx_url, "state_dir": str(state)},
        )
        services = load_services(site.services, env=self.env, base=target.parent)
        client = InfluxQLClient(services.influx_url, services.influx_db, token=services.influx_token)
        setup_database(client)  # what `seatwatch setup-db` does
        say(
            2,
            f"site {site.id!r}: {plural(len(site.seats), 'seat')}, {plural(len(site.sensors), 'sensor')} on "
            f"{plural(len(site.bridges), 'bridge')}; demo site file {target}",
        )
        return site, services

    def install_calibrations(
        self, site: Site, services: Services, biases: dict[str, SensorBias], day: date
    ) -> None:
        performed = datetime.combine(day - timedelta(days=30), datetime.min.time(), UTC)
        records = calibration_records(site, biases, performed)
        store = RecordStore(site.id, services, self.work / "state" / "calibrate")
        for record in records:
            store.append(record)
            store.publish(record)
        skipped = sorted(set(site.sensors) - {r.sensor for r in records})
        say(
            3,
            f"calibration: {plural(len(records), 'record')} published (retained), "
            "as `seatwatch calibrate` does; "
            f"left uncalibrated on purpose: {', '.join(skipped) or 'none'}",
        )

    def start_ingest(self, site: Site, services: Services) -> None:
        child = self.children.start(
            "ingest", "ingest", "--site", str(self.out / "site.toml"),
            "--client-id", INGEST_CLIENT_ID, "--status-every", "1",
        )  # fmt: skip
        topic = ingest_status_topic(site.id, INGEST_CLIENT_ID)
        self.wait_for_message(services, topic, lambda doc: doc.get("state") == "online", [child])
        say(4, f"ingest is running (MQTT v5 shared subscription -> InfluxDB); log {child.log}")

    def backfill(self, site: Site, services: Services, biases: dict[str, SensorBias], day: date) -> None:
        say(5, f"backfilling {day} (site time) with {self.args.step}-s readings (dur={self.args.step}) ...")
        client = connect(services, "demo-backfill")
        pending = []
        points = 0
        started = time.monotonic()

        def publish(topic: str, readings: list[Reading]) -> None:
            nonlocal points
            points += sum((r.laeq is not None) + (r.lux is not None) for r in readings)
            pending.append(client.publish(topic, encode(readings), qos=1))

        try:
            count = publish_day(site, day, self.args.step, biases, self.args.seed, publish)
            for info in pending:
                info.wait_for_publish(WAIT_TIMEOUT_S)
        finally:
            close(client)
        elapsed = time.monotonic() - started
        say(None, f"published {count:,} readings in {len(pending)} bridge batches ({elapsed:.0f} s)")
        start = datetime.combine(day, datetime.min.time(), site.hours.timezone)
        self.wait_for_points(services, start, start + timedelta(days=1), points)

    def start_live(self, site: Site, services: Services, biases: dict[str, SensorBias]) -> None:
        simulator = Simulator(site, port_dir=self.work / "dev" / "sim", biases=biases, seed=self.args.seed)
        self.stack.callback(simulator.stop)
        simulator.start()
        bridges = [
            self.children.start(f"bridge-{b}", "bridge", "--site", str(self.out / "site.toml"), "--bridge", b)
            for b in sorted(site.bridges)
        ]
        say(
            6,
            f"live: {len(simulator.sensors)} simulated devices on pseudo-terminals, "
            f"bridges {', '.join(site.bridges)}",
        )
        since = datetime.now(UTC)
        deadline = time.monotonic() + self.args.live
        while time.monotonic() < deadline:
            time.sleep(min(2.0, max(0.0, deadline - time.monotonic())))
            dead = [c for c in bridges if c.process.poll() is not None]
            if dead:
                raise DemoFailed(self._died(dead[0]))
            say(
                None, f"live readings stored since the bridges started: {self.count_since(services, since):,}"
            )

    def analyse(self, site: Site, day: date) -> Path:
        period = [
            "--site",
            str(self.out / "site.toml"),
            "--from",
            day.isoformat(),
            "--to",
            (day + timedelta(days=1)).isoformat(),
        ]
        code, output = self.children.run("analyze", "analyze", *period)
        if code != 0:
            raise DemoFailed(f"seatwatch analyze failed (exit {code}):\n{output.strip()}")
        say(7, f"analysis: {output.strip().splitlines()[-1] if output.strip() else 'done'}")
        report_dir = self.out / "report"
        lacking = prerequisites.missing_for_pdf()
        if lacking:
            say(
                None,
                "report.pdf is skipped: it needs "
                + ", ".join(p.what for p in lacking)
                + f" (Debian: apt-get install {' '.join(p.apt_package for p in lacking)})",
            )
        no_pdf = ["--no-pdf"] if lacking else []
        code, output = self.children.run("report", "report", *period, "--out", str(report_dir), *no_pdf)
        if code != 0:
            raise DemoFailed(f"seatwatch report failed (exit {code}):\n{output.strip()}")
        return report_dir

    def export_dashboards(self, site: Site) -> Path | None:
        target = self.out / "dashboards"
        code, output = self.children.run(
            "dashboards", "dashboards", "export", "--site", str(self.out / "site.toml"), "--out", str(target)
        )
        if code != 0:
            say(
                None,
                f"dashboards were not exported (exit {code}); see {self.out / 'logs' / 'dashboards.log'}",
            )
            return None
        return target

    def tell(self, site: Site, services: Services, day: date, report: Path, dashboards: Path | None) -> None:
        summary = _verdicts(report / "report.json")
        influx = _without_credentials(services.influx_url)
        lines = [
            "",
            f"Done. Compliance report for {site.name} on {day}:",
            f"  open   {report / 'report.html'}",
            "  also   "
            + "  ".join(
                str(report / name)
                for name in ("report.pdf", "report.json", "seats.csv", "zones.csv")
                if (report / name).exists()
            ),
        ]
        if summary:
            lines.append(f"  seats  {summary}")
        # The servers the demo started stop with it: offer their addresses only while they still answer.
        servers_stay = self.args.keep_running or self.started_none
        if servers_stay:
            lines += [
                f"  data   InfluxDB {influx}, database {services.influx_db!r}; try:",
                f"         curl -sG {influx}/query --data-urlencode db={services.influx_db} "
                f"--data-urlencode 'q={LEVEL_BY_SEAT}'",
            ]
        if dashboards:
            source = f"InfluxDB, InfluxQL, {influx}, database {services.influx_db}" if servers_stay else ""
            lines.append(
                f"  Grafana {dashboards}: dashboards/ to import, or provisioning/ for a Grafana you run"
                + (f" (data source: {source})" if source else "")
            )
        lines.append(f"  logs   {self.out / 'logs'}")
        if not servers_stay:
            lines.append(
                "The demo's servers, ingest and bridges stop now (their data was in a temporary folder); "
                "the report stays. To query the data or point Grafana at it, run "
                "`seatwatch demo --keep-running`: it prints the addresses and keeps them up until Ctrl-C."
            )
        print("\n".join(lines), flush=True)

    def keep_running(self, site: Site, services: Services) -> None:
        print(
            "\nLive data keeps flowing (servers, ingest and bridges on 127.0.0.1). Press Ctrl-C to stop.",
            flush=True,
        )
        since = datetime.now(UTC)
        while True:
            time.sleep(10)
            dead = self.children.dead()
            if dead:
                raise DemoFailed(self._died(dead[0]))
            stored = self.count_since(services, since)
            say(None, f"live readings stored in the last {(datetime.now(UTC) - since).seconds} s: {stored:,}")

    # -- waiting and counting ----------------------------------------------------------------------
    def wait_for_message(
        self, services: Services, topic: str, accept: Callable[[dict[str, Any]], bool], watch: list[Child]
    ) -> None:
        """Wait until a (retained) JSON message on ``topic`` satisfies ``accept``; fail if a child dies."""
        messages: queue.Queue[bytes | bytearray] = queue.Queue()  # paho hands bytearray payloads too
        client = connect(services, "demo-watch")
        client.on_message = lambda _c, _u, message: messages.put(message.payload)
        client.subscribe(topic, qos=1)
        deadline = time.monotonic() + WAIT_TIMEOUT_S
        try:
            while time.monotonic() < deadline:
                dead = [c for c in watch if c.process.poll() is not None]
                if dead:
                    raise DemoFailed(self._died(dead[0]))
                try:
                    doc = json.loads(messages.get(timeout=0.5))
                except queue.Empty:
                    continue
                except ValueError:
                    continue
                if isinstance(doc, dict) and accept(doc):
                    return
        finally:
            close(client)
        raise DemoFailed(
            f"nothing acceptable on {topic} within {WAIT_TIMEOUT_S:.0f} s; logs in {self.out / 'logs'}"
        )

    def wait_for_points(self, services: Services, start: datetime, end: datetime, expected: int) -> None:
        """Wait until InfluxDB holds ``expected`` noise + light points in [start, end), showing progress."""
        client = InfluxQLClient(services.influx_url, services.influx_db, token=services.influx_token)
        where = (
            f"time >= '{start.astimezone(UTC).isoformat()}' AND time < '{end.astimezone(UTC).isoformat()}'"
        )
        last, last_change = -1, time.monotonic()
        while True:
            stored = _stored(client, where)
            if stored >= expected:
                say(None, f"stored in InfluxDB by ingest: {stored:,} points (calibrated, tagged by seat)")
                return
            if stored != last:
                say(None, f"stored in InfluxDB by ingest: {stored:,} of {expected:,} points")
                last, last_change = stored, time.monotonic()
            dead = self.children.dead()
            if dead:
                raise DemoFailed(self._died(dead[0]))
            if time.monotonic() - last_change > WAIT_TIMEOUT_S:
                log = self.out / "logs" / "ingest.log"
                raise DemoFailed(
                    f"ingest stored {stored:,} of {expected:,} points, then nothing "
                    f"for {WAIT_TIMEOUT_S:.0f} s; see {log}"
                )
            time.sleep(1.0)

    def count_since(self, services: Services, since: datetime) -> int:
        client = InfluxQLClient(services.influx_url, services.influx_db, token=services.influx_token)
        where = f"time >= '{since.isoformat()}'"
        return _stored(client, where)

    def _died(self, child: Child) -> str:
        return (
            f"{child.name} stopped unexpectedly (exit {child.process.returncode}); "
            f"the end of {child.log}:\n{child.tail()}"
        )


def _without_credentials(url: str) -> str:
    """A URL fit to print: any ``user:password@`` part is hidden (secrets are never printed)."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def _stored(client: InfluxQLClient, where: str) -> int:
    """Noise and light points stored in ``where``, counted by a field only a reading of ingest has."""
    total = 0
    for measurement, field in ((Noise.NAME, Noise.RAW_LAEQ), (Light.NAME, Light.RAW_LUX)):
        q = f"SELECT count({quote_ident(field)}) FROM {quote_ident(measurement)} WHERE {where}"
        series = client.query(q)
        total += int(series[0].values[0][1]) if series and series[0].values else 0
    return total


def _verdicts(report_json: Path) -> str:
    """'48 seats: 20 pass, 15 marginal, ...' from the report, or '' if it cannot be read."""
    try:
        doc = json.loads(report_json.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return ""
    seats = doc.get("seats") if isinstance(doc, dict) else None
    if not isinstance(seats, list):
        return ""
    counts: dict[str, int] = {}
    for seat in seats:
        verdict = seat.get("verdict", "?") if isinstance(seat, dict) else "?"
        counts[verdict] = counts.get(verdict, 0) + 1
    return f"{plural(len(seats), 'seat')}: " + ", ".join(f"{n} {v}" for v, n in sorted(counts.items()))
