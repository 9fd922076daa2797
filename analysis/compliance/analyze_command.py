"""``seatwatch analyze``: judge a period and write ``compliance`` points; with ``--every``, on a schedule.

Each run also writes the hourly rollups of its window (:mod:`analysis.compliance.rollups`), from which
reports over analysed periods are computed in seconds. With ``--every D`` the command is a service: it
judges the window [from, to), then [from + D, to + D), and so on, each as soon as its end has passed
(catching up at once on windows already in the past), so a dashboard sees e.g. a rolling 24-hour verdict
every hour, and the rollups of the last 24 hours are rewritten every hour. Points are idempotent.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from analysis.compliance.engine import NoDataError, assess
from analysis.compliance.inputs import (
    InputError,
    Inputs,
    add_common_arguments,
    load_inputs,
    report_input_error,
)
from analysis.compliance.points import compliance_lines
from analysis.compliance.rollups import rollup_lines
from analysis.compliance.windows import PeriodError
from seatwatch.config_errors import ConfigError
from seatwatch.influxql import InfluxQLError
from seatwatch.line_protocol import WriteError, write_v1
from seatwatch.wording import plural, site_period

_EVERY = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_every(text: str) -> timedelta:
    """'1h', '15m', '1d' -> timedelta."""
    m = _EVERY.match(text)
    if not m or int(m.group(1)) == 0:
        raise InputError(f"--every {text!r} is not a duration like 15m, 1h or 1d")
    return timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


def windows_due(
    start: datetime, end: datetime, every: timedelta, done: int, now: datetime
) -> Iterator[tuple[int, datetime, datetime]]:
    """Windows after the first ``done`` whose end has passed at ``now``: (index, start, end)."""
    n = done
    while end + n * every <= now:
        yield n, start + n * every, end + n * every
        n += 1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_common_arguments(parser)
    parser.add_argument(
        "--every",
        metavar="D",
        help="run as a service: judge the window, then the next one D later, for ever (15m, 1h, 1d; "
        "default: judge once and exit)",
    )
    parser.epilog = (
        "examples (dates in the site's time zone):\n"
        "  seatwatch analyze --site /etc/seatwatch/site.toml --from 2026-11-01 --to 2026-12-01\n"
        "  seatwatch analyze --site site.toml --from 2026-12-01 --to 2026-12-02 --every 1d"
    )


def _run_once(inputs: Inputs, start: datetime, end: datetime, min_coverage: float | None) -> None:
    a = assess(inputs.site, inputs.profile, inputs.client, start, end, min_coverage, source="raw")
    lines = compliance_lines(a)
    rollups = rollup_lines(a.site, a.raw or {}, a.windows, start, end, a.bucket_minutes, a.calendar)
    for i in range(0, len(rollups), 5000):  # rollups first: a report may use them once the state is there
        write_v1(inputs.influx_url, inputs.influx_db, rollups[i : i + 5000], token=inputs.influx_token)
    write_v1(inputs.influx_url, inputs.influx_db, lines, token=inputs.influx_token)
    s = a.summary()
    print(
        f"{inputs.site.id} {site_period(start, end, inputs.site.hours.timezone)} (site time) profile "
        f"{inputs.profile.id}: {plural(s['seats'], 'seat')}, {s['pass']} pass, {s['marginal']} marginal, "
        f"{s['fail']} fail, {s['insufficient_data']} insufficient data; "
        f"{plural(len(lines), 'compliance point')} and {plural(len(rollups), 'rollup point')} written"
    )


def run(args: argparse.Namespace) -> int:
    try:
        inputs = load_inputs(args)
        every = parse_every(args.every) if args.every else None
    except (ConfigError, InputError) as exc:
        return report_input_error("analyze", exc)
    try:
        if every is None:
            _run_once(inputs, inputs.start, inputs.end, args.min_coverage)
            return 0
        done = 0
        while True:
            for n, a, b in windows_due(inputs.start, inputs.end, every, done, datetime.now(UTC)):
                try:
                    _run_once(inputs, a, b, args.min_coverage)
                except NoDataError as exc:
                    print(f"seatwatch analyze: {exc}; nothing written for this window", file=sys.stderr)
                except (InfluxQLError, WriteError) as exc:
                    # A service outlives a database outage: retry this window in a minute.
                    print(f"seatwatch analyze: {exc}; retrying in 60 s", file=sys.stderr)
                    time.sleep(60)
                    break
                done = n + 1
            next_end = inputs.end + done * every
            time.sleep(max(1.0, (next_end - datetime.now(UTC)).total_seconds()))
    except (NoDataError, PeriodError) as exc:
        return report_input_error("analyze", exc)
    except (InfluxQLError, WriteError) as exc:  # the database is down or refuses us: docs/contracts.md exit 2
        print(f"seatwatch analyze: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 0
