"""What ``seatwatch analyze`` and ``seatwatch report`` both read: site, profile, period and database.

Bad input must end in a message that names what and where, and exit 2 — never a traceback (docs/design.md
principle 6). ``--from``/``--to`` take ISO dates or date-times; a value without a UTC offset is in the
site's time zone, because that is how a facilities team thinks of "March" or "last Tuesday".
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from seatwatch.core.command_startup import EXIT_USAGE, load_site_and_services
from seatwatch.core.influxql import InfluxQLClient
from seatwatch.core.rules.profile import RulesProfile, load_rules_profile
from seatwatch.core.site import Site


class InputError(ValueError):
    """Bad command-line input; the message says what and where."""


@dataclass(frozen=True)
class Inputs:
    site: Site
    profile: RulesProfile
    start: datetime
    end: datetime
    client: InfluxQLClient
    influx_url: str
    influx_db: str
    influx_token: str | None


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file")
    parser.add_argument(
        "--from",
        dest="start",
        required=True,
        metavar="T",
        help="period start: an ISO date (its midnight) or date-time, in the site's time zone "
        "(site.timezone) unless it carries an offset, e.g. 2026-11-01 or 2026-11-01T08:00+08:00",
    )
    parser.add_argument(
        "--to", dest="end", required=True, metavar="T", help="period end, exclusive; read like --from"
    )
    parser.add_argument(
        "--profile", metavar="NAME", help="rules profile name or path (default: the site file's site.profile)"
    )
    parser.add_argument(
        "--min-coverage",
        type=float,
        metavar="SHARE",
        help="share 0..1 of a check's hours that readings must cover, below which it is insufficient_data "
        "(default: the profile's min_coverage, 0.75 in the shipped profiles)",
    )


def parse_moment(text: str, tz: ZoneInfo, option: str) -> datetime:
    """An ISO date or date-time on a whole minute; naive values are in ``tz``. Returns aware UTC."""
    try:
        moment = datetime.fromisoformat(text)  # a bare date is its midnight
    except ValueError:
        raise InputError(
            f"{option} {text!r} is not an ISO date or date-time (e.g. 2026-03-01 or 2026-03-01T08:00)"
        ) from None
    if not 2000 <= moment.year < 2100:  # before converting: year 1 with +14:00 overflows astimezone
        raise InputError(f"{option} {text!r} is outside 2000–2100")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    utc = moment.astimezone(UTC)
    # Checked in UTC, where the buckets are: an offset with seconds (+05:30:30, or a zone's historical
    # local mean time) moves a local whole minute off the UTC minute.
    if utc.second or utc.microsecond:
        raise InputError(
            f"{option} {text!r} is {utc.isoformat()} in UTC, not on a whole minute (periods are judged in "
            "minute buckets)"
        )
    return utc


def load_inputs(args: argparse.Namespace) -> Inputs:
    """Site, profile, period and client from the parsed arguments; raises ConfigError or InputError."""
    site, services = load_site_and_services(args.site)
    base = Path(args.site).resolve().parent
    profile = load_rules_profile(args.profile or site.profile, base_dir=base)
    tz = site.hours.timezone
    start, end = parse_moment(args.start, tz, "--from"), parse_moment(args.end, tz, "--to")
    if start >= end:
        raise InputError(f"--from {args.start} is not before --to {args.end}")
    if args.min_coverage is not None and not 0 < args.min_coverage <= 1:
        raise InputError(f"--min-coverage {args.min_coverage} must be a share in (0, 1]")
    client = InfluxQLClient(services.influx_url, services.influx_db, services.influx_token)
    return Inputs(
        site, profile, start, end, client, services.influx_url, services.influx_db, services.influx_token
    )


def report_input_error(command: str, exc: Exception) -> int:
    """Print a bad-input error for ``command`` and return exit status 2."""
    print(f"seatwatch {command}: {exc}", file=sys.stderr)
    return EXIT_USAGE
