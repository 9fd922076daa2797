"""``seatwatch analyze``: judge a period and write ``compliance`` points; with ``--every``, on a schedule.

A run over a period first rewrites the hourly rollups of that period from the readings
(:mod:`analysis.compliance.rollups`, an hour at a time) and then judges it from them. With ``--every D`` the
command is a service: at each window's end (plus a short settle, :data:`analysis.compliance.upkeep.SETTLE`)
it rolls up only what is new or changed since its last run — the hours since then and the hours the
change journal says received readings, however late (:mod:`analysis.compliance.upkeep`) — then judges the
window [from + n·D, to + n·D) that just ended, and judges again every earlier window of this service that
a late reading changed. Windows already in the past when it starts are caught up at once. Points are
idempotent.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from analysis.compliance.engine import NoDataError, assess, hours_names
from analysis.compliance.inputs import (
    InputError,
    Inputs,
    add_common_arguments,
    load_inputs,
    report_input_error,
)
from analysis.compliance.result_points import compliance_lines
from analysis.compliance.upkeep import SETTLE, Span, roll_up, upkeep
from analysis.compliance.verdict import counts_text
from analysis.compliance.windows import PeriodError, windows
from seatwatch.core.command_startup import EXIT_OK, EXIT_USAGE
from seatwatch.core.influxql import InfluxQLError
from seatwatch.core.line_protocol import WriteError, write_v1
from seatwatch.core.wording import plural, site_period

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


def _writer(inputs: Inputs) -> Callable[[list[str]], None]:
    return lambda lines: write_v1(inputs.influx_url, inputs.influx_db, lines, token=inputs.influx_token)


def _judge(
    inputs: Inputs, start: datetime, end: datetime, min_coverage: float | None, rolled: int = 0
) -> None:
    """Judge [start, end) (from the rollups when they are complete) and write its compliance points."""
    a = assess(inputs.site, inputs.profile, inputs.client, start, end, min_coverage)
    lines = compliance_lines(a)
    _writer(inputs)(lines)
    s = a.summary()
    print(
        f"{inputs.site.id} {site_period(start, end, inputs.site.hours.timezone)} (site time) profile "
        f"{inputs.profile.id}: {plural(s['seats'], 'seat')}, {counts_text(s)} (from {a.source}); "
        f"{plural(len(lines), 'compliance point')}"
        + (f" and {plural(rolled, 'rollup point')}" if rolled else "")
        + " written",
        flush=True,
    )


def _run_once(inputs: Inputs, start: datetime, end: datetime, min_coverage: float | None) -> None:
    bucket, _ = windows(inputs.site, inputs.profile, hours_names(inputs.site, inputs.profile), start, end)
    rolled = roll_up(inputs.site, inputs.profile, inputs.client, _writer(inputs), (start, end), bucket)
    _judge(inputs, start, end, min_coverage, rolled)


def windows_touching(
    start: datetime, end: datetime, every: timedelta, done: int, spans: list[Span]
) -> set[int]:
    """Indexes below ``done`` of the windows [start + n·every, end + n·every) that overlap ``spans``."""
    out: set[int] = set()
    for a, b in spans:
        first = max(0, math.floor((a - end) / every) + 1)
        last = min(done - 1, math.ceil((b - start) / every) - 1)
        out.update(range(first, last + 1))
    return out


def service_run(
    inputs: Inputs, every: timedelta, done: int, min_coverage: float | None, now: datetime
) -> int:
    """One service run at ``now``: upkeep, then the windows that ended or changed; returns the new done."""
    due = [n for n, _, _ in windows_due(inputs.start, inputs.end, every, done, now - SETTLE)]
    kept = upkeep(inputs.site, inputs.profile, inputs.client, _writer(inputs), inputs.start, now)
    changed = windows_touching(inputs.start, inputs.end, every, done, kept.changed)
    spans = ", ".join(f"{a.isoformat()}..{b.isoformat()}" for a, b in kept.changed) or "none"
    new = f"{kept.new[0].isoformat()}..{kept.new[1].isoformat()}" if kept.new else "none"
    print(f"{inputs.site.id} upkeep: new {new}; changed {spans}; {kept.points} rollup points", flush=True)
    for n in sorted(changed | set(due)):
        try:
            _judge(inputs, inputs.start + n * every, inputs.end + n * every, min_coverage)
        except NoDataError as exc:
            print(f"seatwatch analyze: {exc}; nothing written for this window", file=sys.stderr)
    return due[-1] + 1 if due else done


def _serve(inputs: Inputs, every: timedelta, min_coverage: float | None) -> None:
    done = 0
    while True:
        try:
            done = service_run(inputs, every, done, min_coverage, datetime.now(UTC))
        except (InfluxQLError, WriteError) as exc:
            # A service outlives a database outage: try again in a minute.
            print(f"seatwatch analyze: {exc}; retrying in 60 s", file=sys.stderr)
            time.sleep(60)
            continue
        next_run = inputs.end + done * every + SETTLE
        time.sleep(max(1.0, (next_run - datetime.now(UTC)).total_seconds()))


def run(args: argparse.Namespace) -> int:
    try:
        inputs = load_inputs(args)
        every = parse_every(args.every) if args.every else None
    except InputError as exc:  # a ConfigError: seatwatch.cli prints its problems, exit 2
        return report_input_error("analyze", exc)
    try:
        if every is None:
            _run_once(inputs, inputs.start, inputs.end, args.min_coverage)
            return EXIT_OK
        _serve(inputs, every, args.min_coverage)
        return EXIT_OK
    except (NoDataError, PeriodError) as exc:
        return report_input_error("analyze", exc)
    except (InfluxQLError, WriteError) as exc:  # the database is down or refuses us: docs/contracts.md exit 2
        print(f"seatwatch analyze: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_OK
