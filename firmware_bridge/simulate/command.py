"""``seatwatch simulate --site SITE.toml``: run virtual devices until Ctrl-C, for demos and installers.

With ``--write-site OUT.toml`` it also writes a copy of the site file whose ports are the simulator's, so
``seatwatch bridge --site OUT.toml --bridge ID`` reads the simulated floor with nothing edited by hand.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.simulate import rehearsal
from firmware_bridge.simulate.simulator import Simulator
from firmware_bridge.simulate.site_copy import rewrite_ports
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE
from seatwatch.core.site import Site
from seatwatch.core.site_file import load_site


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Run virtual reference sensors and Modbus transmitters on pseudo-terminals, reporting a plausible "
        "office at each seat, until Ctrl-C; prints each sensor's port. With --write-site, real bridges "
        "read them with no file edited by hand."
    )
    parser.epilog = (
        "example (a dry run of the serial path):\n"
        "  seatwatch simulate --site examples/site.toml --write-site /tmp/sim.toml &\n"
        "  seatwatch bridge --site /tmp/sim.toml --bridge gw-east"
    )
    rehearsal.add_arguments(parser)
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    parser.add_argument(
        "--bridge", metavar="ID", help="simulate only this bridge's sensors (default: every bridge's)"
    )
    parser.add_argument(
        "--port-dir",
        type=Path,
        metavar="DIR",
        help="where to put ports the site file's paths cannot hold, such as /dev/... (default: a temp dir)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the office model (default: 0)")
    parser.add_argument(
        "--write-site",
        type=Path,
        metavar="OUT.toml",
        help="also write a copy of the site file whose ports are the simulator's, for "
        "`seatwatch bridge --site OUT.toml` (default: none written)",
    )


def run(args: argparse.Namespace) -> int:
    site = load_site(args.site)  # a ConfigError: seatwatch.cli prints its problems, exit 2
    if args.bridge is not None and args.bridge not in site.bridges:
        print(f"seatwatch simulate: {args.site}: no bridge {args.bridge!r}", file=sys.stderr)
        return EXIT_USAGE
    port_dir = args.port_dir or Path(tempfile.mkdtemp(prefix="seatwatch-sim-"))
    simulator = Simulator(site, args.bridge, port_dir=port_dir, seed=args.seed, biases=rehearsal.biases(args))
    if not simulator.sensors:
        print(f"seatwatch simulate: {args.site}: no reference or Modbus sensors to simulate", file=sys.stderr)
        return EXIT_USAGE
    done = threading.Event()  # handlers first: a supervisor may stop us as soon as the ports are listed
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        simulator.start()
    except (DriverConfigError, RuntimeError, OSError) as exc:
        simulator.stop()
        print(f"seatwatch simulate: {exc}", file=sys.stderr)
        return EXIT_USAGE
    rehearsing = rehearsal.start(args, simulator)
    if rehearsing is None:
        simulator.stop()
        return EXIT_USAGE
    for sensor_id in simulator.sensors:
        print(f"{sensor_id}\t{simulator.port_for(sensor_id)}", flush=True)
    if args.write_site is not None:
        try:
            write_site_copy(site, simulator, args.write_site)
        except OSError as exc:
            simulator.stop()
            print(f"seatwatch simulate: --write-site {args.write_site}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        bridges = sorted({s.bridge for s in simulator.sensors.values()})
        print(
            f"wrote {args.write_site}; while this runs: "
            + "; ".join(f"seatwatch bridge --site {args.write_site} --bridge {b}" for b in bridges),
            file=sys.stderr,
            flush=True,
        )
    done.wait()
    simulator.stop()
    rehearsing.stop()
    return EXIT_OK


def write_site_copy(site: Site, simulator: Simulator, target: Path) -> None:
    """Write ``site``'s file to ``target`` with each simulated sensor's port replaced by the simulator's."""
    assert site.path is not None  # loaded from a file
    ports = {s.connection["port"]: simulator.port_for(s.id) for s in simulator.sensors.values()}
    text = rewrite_ports(site.path.read_text(encoding="utf-8"), ports.get)
    header = (
        f"# Written by `seatwatch simulate --write-site` from {site.path.resolve()}: the ports are the\n"
        "# simulator's pseudo-terminals and exist only while it runs. Everything else is unchanged.\n"
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + text, encoding="utf-8")
