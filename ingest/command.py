"""``seatwatch ingest --site SITE.toml``: store readings from MQTT in InfluxDB (see ingest/README.md).

``seatwatch ingest replay DIR --site SITE.toml`` re-submits set-aside batches (ingest/replay.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from pathlib import Path

from ingest.service import IngestService, Options
from ingest.writers import APIS, detect_api, make_writer
from seatwatch.core.change_journal import JournalWriter
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, load_site_and_services
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.line_protocol import WriteError
from seatwatch.core.settings import Services, redact

log = logging.getLogger("seatwatch.ingest")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "action",
        nargs="?",
        choices=["run", "replay"],
        default="run",
        help="run (default): consume MQTT and store; replay DIR: re-submit the batches kept in DIR "
        "(a refused/ folder) to InfluxDB once their cause is fixed — stop the ingest that owns DIR first",
    )
    parser.add_argument("folder", nargs="?", type=Path, metavar="DIR", help="with replay: the folder")
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    parser.add_argument(
        "--client-id",
        help="fixed MQTT client id of this process; its persistent session and spool folder are named by it "
        "(default: seatwatch-ingest-SITE-HOSTNAME)",
    )
    parser.add_argument(
        "--group", default="seatwatch-ingest", help="shared subscription group (default: %(default)s)"
    )
    parser.add_argument(
        "--no-share",
        action="store_true",
        help="subscribe without $share: one ingest process per site (for a broker without shared "
        "subscriptions; see ingest/README.md)",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=5000,
        metavar="POINTS",
        help="points per write (default: %(default)s)",
    )
    parser.add_argument(
        "--linger-ms",
        type=int,
        default=200,
        metavar="MS",
        help="longest wait to fill a batch, in milliseconds (default: %(default)s)",
    )
    parser.add_argument(
        "--receive-maximum",
        type=int,
        default=1000,
        metavar="MESSAGES",
        help="un-acknowledged MQTT messages in flight (default: %(default)s)",
    )
    parser.add_argument(
        "--session-expiry",
        type=int,
        default=7 * 24 * 3600,
        metavar="SECONDS",
        help="how long the broker keeps messages for this process while it is down (default: one week)",
    )
    parser.add_argument(
        "--spool-max-mb",
        type=int,
        default=1024,
        metavar="MB",
        help="on-disk spool bound, in MB (default: %(default)s)",
    )
    parser.add_argument(
        "--health-port",
        type=int,
        metavar="PORT",
        help="serve Prometheus /metrics on 127.0.0.1:PORT (default: not served)",
    )
    parser.add_argument(
        "--status-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="seconds between ingest's retained status messages (default: %(default)s)",
    )
    parser.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="least severe messages logged (default: %(default)s)",
    )
    parser.epilog = (
        "examples:\n  seatwatch ingest --site /etc/seatwatch/site.toml --client-id ingest-$(hostname)-1\n"
        "  seatwatch ingest --site site.toml --health-port 9108   # /metrics for Prometheus"
    )


def _positive(args: argparse.Namespace) -> list[str]:
    names = ("batch_size", "linger_ms", "receive_maximum", "session_expiry", "spool_max_mb", "status_every")
    return [
        f"--{n.replace('_', '-')} must be positive, not {getattr(args, n)}"
        for n in names
        if getattr(args, n) <= 0
    ]


def run(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    problems = _positive(args)
    if args.health_port is not None and not 0 < args.health_port < 65536:
        problems.append(f"--health-port {args.health_port} is not a TCP port")
    services: Services | None = None
    try:
        site, services = load_site_and_services(args.site)
    except ConfigError as exc:  # reported with the options' problems, all at once
        # never an empty list here: with no problem to print, the command would go on without services
        problems.extend([str(p) for p in exc.problems] or [f"--site {args.site}: {str(exc) or 'not usable'}"])
    if services is not None and services.influx_api not in APIS:
        problems.append(
            f"influx_api {services.influx_api!r} (site file or SEATWATCH_INFLUX_API) "
            f"is not one of {', '.join(APIS)}"
        )
    if args.action == "replay" and (args.folder is None or not args.folder.is_dir()):
        problems.append(f"replay needs the folder to replay (DIR), not {args.folder}")
    if problems or services is None:
        for problem in problems:
            print(f"seatwatch ingest: {redact(problem)}", file=sys.stderr)
        return EXIT_USAGE
    if args.action == "replay":
        return _replay(args.folder, services)
    options = Options(
        client_id=args.client_id or f"seatwatch-ingest-{site.id}-{socket.gethostname()}",
        group=None if args.no_share else args.group,
        batch_size=args.batch_size,
        linger_s=args.linger_ms / 1000,
        receive_maximum=args.receive_maximum,
        session_expiry_s=args.session_expiry,
        spool_max_bytes=args.spool_max_mb << 20,
        status_every_s=args.status_every,
        create_database=services.influx_create_database,
    )
    state = services.state_dir / "ingest" / options.client_id
    try:
        state.mkdir(parents=True, exist_ok=True)
        if not os.access(state, os.W_OK):
            raise PermissionError(f"{state} is not writable")
    except OSError as exc:
        print(
            f"seatwatch ingest: state_dir (SEATWATCH_STATE_DIR) {services.state_dir}: "
            f"cannot keep the spool there: {exc}",
            file=sys.stderr,
        )
        return EXIT_USAGE

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    api = services.influx_api
    while api == "auto" and not stop.is_set():
        try:
            api = detect_api(services.influx_url)
        except WriteError as exc:
            log.warning("%s; trying again in 5 s (the broker keeps the readings meanwhile)", exc)
            stop.wait(5)
    if stop.is_set():
        return EXIT_OK
    service = IngestService(site, services, options, JournalWriter(make_writer(services, api)))
    if args.health_port is not None:
        try:
            service.metrics.serve(args.health_port)
        except OSError as exc:
            print(
                f"seatwatch ingest: --health-port {args.health_port}: cannot listen: {exc}", file=sys.stderr
            )
            return EXIT_USAGE
    log.info(
        "ingest for site %s: MQTT %s, InfluxDB %s (%s API, db %s), client id %s, group %s",
        site.id,
        services.mqtt_url,
        services.influx_url,
        api,
        services.influx_db,
        options.client_id,
        options.group or "none (plain subscriptions)",
    )
    started = time.monotonic()
    service.run(stop)
    log.info("ingest stopped after %.0f s", time.monotonic() - started)
    return EXIT_OK


def _replay(folder: Path, services: Services) -> int:
    """Replay ``folder``; exit 0 when all of it was replayed, 1 when InfluxDB could not take it all."""
    from ingest.replay import replay

    api = services.influx_api
    try:
        if api == "auto":
            api = detect_api(services.influx_url)
    except WriteError as exc:
        print(f"seatwatch ingest replay: {exc}", file=sys.stderr)
        return 1
    where = f"at {services.influx_url} (database {services.influx_db!r})"
    writer = JournalWriter(make_writer(services, api))
    try:
        result = replay(folder, writer, services.influx_create_database, where)
    finally:
        writer.close()
    print(
        f"replayed {result.files} file(s) from {folder}: {result.stored} point(s) stored, "
        f"{result.refused} refused again (kept in {folder} with InfluxDB's reason)"
    )
    if result.remaining:
        print(
            f"seatwatch ingest replay: {result.remaining} file(s) not replayed: InfluxDB {where} does not "
            "take writes now (see the error above); run replay again when it does",
            file=sys.stderr,
        )
        return 1
    return EXIT_OK
