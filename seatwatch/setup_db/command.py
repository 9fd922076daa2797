"""``seatwatch setup-db``: create (or bring up to date) the InfluxDB 1.x database a site writes to.

One idempotent command instead of statements copied from a page: the demo, the deploy guide and the
tests all run it, so what they use is what production gets. It creates the database and makes
``seatwatch`` its default retention policy with the duration asked for (``--keep``, forever unless told)
and a shard duration (``--shard-duration``, 7 days: a retention policy drops whole shards, and a week of
a large floor at one reading per sensor per second is a shard of a few GB). Run again, it alters only
what is asked and differs (so a timer or a script may run it without undoing an operator's choice);
with nothing to change, it changes nothing. It needs an InfluxDB user allowed to create databases. No
continuous queries: the rollups are written by the analysis itself (docs/compliance.md). InfluxDB 2.x and
3.x have no InfluxQL ``CREATE DATABASE``; there, create the bucket (and a DBRP mapping on 2.x) with their
own tools.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE, load_site_and_services
from seatwatch.core.influxql import InfluxQLClient, InfluxQLError, quote_ident

POLICY = "seatwatch"
_DURATION = re.compile(r"^(\d+)([hdw])$|^INF$")


@dataclass(frozen=True)
class Setup:
    """What :func:`setup_database` found and did."""

    created_policy: bool
    altered_policy: bool


def _hours(text: str) -> int:
    """'400d' -> 9600, '1w' -> 168, 'INF' -> 0 (InfluxDB shows an infinite duration as 0s)."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration like 24h, 7d, 2w or INF")
    if text == "INF":
        return 0
    return int(m.group(1)) * {"h": 1, "d": 24, "w": 168}[m.group(2)]


def _shown_hours(text: str) -> int:
    """InfluxDB's '9600h0m0s' -> 9600."""
    m = re.match(r"^(\d+)h", text)
    return int(m.group(1)) if m else 0


def setup_database(client: InfluxQLClient, keep: str | None = None, shard: str | None = None) -> Setup:
    """Create the database and its default policy (forever, 7-day shards unless ``keep``/``shard`` say
    otherwise), or alter an existing policy to the values given — and only to those."""
    db = quote_ident(client.database)
    client.command(f"CREATE DATABASE {db}")  # a no-op when it exists
    policies = {
        row["name"]: row for s in client.query(f"SHOW RETENTION POLICIES ON {db}") for row in s.rows()
    }
    current = policies.get(POLICY)
    if current is None:
        client.command(
            f"CREATE RETENTION POLICY {quote_ident(POLICY)} ON {db} DURATION {keep or 'INF'} REPLICATION 1 "
            f"SHARD DURATION {_hours(shard or '7d')}h DEFAULT"
        )
        return Setup(created_policy=True, altered_policy=False)
    changes = []
    if keep is not None and _shown_hours(current["duration"]) != _hours(keep):
        changes.append(f"DURATION {keep}")
    if shard is not None and _shown_hours(current["shardGroupDuration"]) != _hours(shard):
        changes.append(f"SHARD DURATION {_hours(shard)}h")
    if not current["default"]:
        changes.append("DEFAULT")
    if changes:
        client.command(f"ALTER RETENTION POLICY {quote_ident(POLICY)} ON {db} {' '.join(changes)}")
    return Setup(created_policy=False, altered_policy=bool(changes))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--site", required=True, metavar="SITE.toml", help="the site file (its [services])")
    parser.add_argument(
        "--keep",
        help="how long to keep data: 400d, 52w or INF (default: INF for a new policy; an existing one "
        "keeps its own)",
    )
    parser.add_argument(
        "--shard-duration",
        help="shard group duration, e.g. 1d (default: 7d for a new policy; an existing one keeps its own)",
    )
    parser.epilog = (
        "examples (InfluxDB 1.x, as a user that may create databases; idempotent):\n"
        "  seatwatch setup-db --site /etc/seatwatch/site.toml\n"
        "  seatwatch setup-db --site site.toml --keep 400d --shard-duration 7d"
    )


def run(args: argparse.Namespace) -> int:
    _site, services = load_site_and_services(args.site)  # a ConfigError: seatwatch.cli prints it, exit 2
    try:
        for duration in (args.keep, args.shard_duration):
            if duration is not None:
                _hours(duration)  # a bad duration is a usage error before anything is touched
    except ValueError as exc:
        print(f"seatwatch setup-db: {exc}", file=sys.stderr)
        return EXIT_USAGE
    client = InfluxQLClient(services.influx_url, services.influx_db, services.influx_token)
    try:
        done = setup_database(client, args.keep, args.shard_duration)
    except InfluxQLError as exc:
        print(
            f"seatwatch setup-db: {exc} (InfluxDB 1.x only; see docs/deploy.md for 2.x/3.x)", file=sys.stderr
        )
        return EXIT_USAGE
    what = "created" if done.created_policy else "altered" if done.altered_policy else "unchanged"
    print(
        f"database {services.influx_db!r} at {services.influx_url}: ready; retention policy {POLICY!r} {what}"
    )
    return EXIT_OK
