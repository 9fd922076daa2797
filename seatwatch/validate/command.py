"""``seatwatch validate SITE.toml``: check a site file and list every problem in it."""

from __future__ import annotations

import argparse
import sys

from firmware_bridge.wiring import wiring_problems
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, report_problems
from seatwatch.core.config_errors import ConfigError
from seatwatch.core.site_file import load_site
from seatwatch.core.vocabulary import Quantity
from seatwatch.core.wording import plural


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Check a site file (docs/site-file.md) and its wiring — Modbus profiles, bus addresses and baud "
        "rates, each driver's settings — and list every problem with file:line: key. "
        "Exit 0 if valid, 2 if not."
    )
    parser.epilog = "example:\n  seatwatch validate /etc/seatwatch/site.toml"
    parser.add_argument("site", metavar="SITE.toml", help="the site file to check")


def run(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
        problems = wiring_problems(site)  # what the bridge would refuse: profiles, buses, driver keys
        if problems:
            raise ConfigError(problems)
    except ConfigError as exc:
        report_problems(exc)
        print(f"{args.site}: {plural(len(exc.problems), 'problem')}", file=sys.stderr)
        return EXIT_USAGE
    noise = sum(Quantity.NOISE in s.measures for s in site.sensors.values())
    light = sum(Quantity.LIGHT in s.measures for s in site.sensors.values())
    print(
        f"{args.site}: OK — site {site.id!r} ({site.timezone}), "
        f"{plural(len(site.zones), 'zone')}, {plural(len(site.seats), 'seat')}, "
        f"{plural(len(site.sensors), 'sensor')} ({noise} noise, {light} light) on "
        f"{plural(len(site.bridges), 'bridge')}, {plural(len(site.installations), 'installation')}, "
        f"profile {site.profile!r}"
    )
    return EXIT_OK
