"""``seatwatch simulate --site SITE.toml``: run virtual devices until Ctrl-C, for demos and installers."""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import threading
from pathlib import Path

from firmware_bridge.command_site import load_site_or_report
from firmware_bridge.driver_config import DriverConfigError
from firmware_bridge.simulate import rehearsal
from firmware_bridge.simulate.simulator import Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    rehearsal.add_arguments(parser)
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    parser.add_argument("--bridge", metavar="ID", help="simulate only this bridge's sensors")
    parser.add_argument(
        "--port-dir",
        type=Path,
        help="where to put ports the site file's paths cannot hold (default: a temp dir)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the office model (default 0)")


def run(args: argparse.Namespace) -> int:
    site = load_site_or_report(args.site)
    if site is None:
        return 2
    if args.bridge is not None and args.bridge not in site.bridges:
        print(f"seatwatch simulate: {args.site}: no bridge {args.bridge!r}", file=sys.stderr)
        return 2
    port_dir = args.port_dir or Path(tempfile.mkdtemp(prefix="seatwatch-sim-"))
    simulator = Simulator(site, args.bridge, port_dir=port_dir, seed=args.seed, biases=rehearsal.biases(args))
    if not simulator.sensors:
        print(f"seatwatch simulate: {args.site}: no reference or Modbus sensors to simulate", file=sys.stderr)
        return 2
    done = threading.Event()  # handlers first: a supervisor may stop us as soon as the ports are listed
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        simulator.start()
    except (DriverConfigError, RuntimeError, OSError) as exc:
        simulator.stop()
        print(f"seatwatch simulate: {exc}", file=sys.stderr)
        return 2
    rehearsing = rehearsal.start(args, simulator)
    if rehearsing is None:
        simulator.stop()
        return 2
    for sensor_id in simulator.sensors:
        print(f"{sensor_id}\t{simulator.port_for(sensor_id)}", flush=True)
    done.wait()
    simulator.stop()
    rehearsing.stop()
    return 0
