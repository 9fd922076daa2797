"""``seatwatch validate SITE.toml``: check a site file and list every problem in it."""

from __future__ import annotations

import argparse
import sys

from seatwatch.config_errors import ConfigError
from seatwatch.site_file import load_site


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("site", metavar="SITE.toml", help="the site file to check")


def run(args: argparse.Namespace) -> int:
    try:
        site = load_site(args.site)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        count = len(exc.problems)
        print(f"{args.site}: {count} problem{'s' if count != 1 else ''}", file=sys.stderr)
        return 2
    noise = sum("noise" in s.measures for s in site.sensors.values())
    light = sum("light" in s.measures for s in site.sensors.values())
    print(
        f"{args.site}: OK — site {site.id!r} ({site.timezone}), "
        f"{len(site.zones)} zones, {len(site.seats)} seats, "
        f"{len(site.sensors)} sensors ({noise} noise, {light} light) on {len(site.bridges)} bridges, "
        f"{len(site.installations)} installations, profile {site.profile!r}"
    )
    return 0
