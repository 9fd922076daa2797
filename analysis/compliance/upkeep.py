"""Keeping the hourly rollups up to date at the cost of what changed, late readings included.

At one reading per sensor per second a 2,000-seat floor writes 345 million points a day, so the hourly
service must not re-read the last day every hour (that was ten minutes a run), and a reading that arrives
three days late (a bridge's outbox after an outage) must still reach the rollups and verdicts of its day.
Each run therefore rolls up two sets of hours from the readings, and nothing else:

- **New hours**: from where the last run stopped (``through``) to the last whole bucket that ended at
  least :data:`SETTLE` ago (bridges batch and ingest flushes, so the newest seconds are still arriving).
- **Changed hours**: the hours the change journal (:mod:`seatwatch.core.change_journal`) says were written
  since the last run's watermark, however old. The watermark is the newest ``written`` the run saw, and
  the next run asks for everything written after it minus :data:`MARGIN`, so a second ingest whose clock
  is a little behind is not missed; of those, an hour whose journal value is still the one its rollup
  state recorded (``seat_rollup_state.journal``) is not rolled up again. A journal point is durable in
  the same body as its readings, in the same shard (both fall in its hour), so a run that sees the point
  reads the readings it marks.

Both are recorded in one ``seat_rollup_watermark`` point per site and calendar key (fields ``written``,
ns of the writers' clocks, and ``through``, epoch ms). Rolling up re-reads whole hours and rewrites their
points, so doing an hour twice is harmless. Spans are read a :data:`SLICE` (an hour) at a time, so memory
follows seats × one hour and each query stays small, whatever the period.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from analysis.compliance.engine import hours_names
from analysis.compliance.reading_queries import load_seat_data
from analysis.compliance.rollups import calendar_key, rollup_lines
from analysis.compliance.windows import windows
from seatwatch.core.change_journal import changed_hours
from seatwatch.core.influxql import InfluxQLClient, quote_ident, quote_string
from seatwatch.core.line_protocol import line
from seatwatch.core.rules.profile import RulesProfile
from seatwatch.core.schema import SeatRollupState as State
from seatwatch.core.schema import SeatRollupWatermark as Mark
from seatwatch.core.site import Site

SETTLE = timedelta(minutes=2)  # the newest readings still in bridges' batches and ingest's buffer
MARGIN = timedelta(minutes=5)  # journal points written this long before the watermark are read again
SLICE = timedelta(hours=1)  # the span read from the readings at once: at 1 Hz, 7.2 M points for 1,000 seats
HOUR = timedelta(hours=1)
WRITE_LINES = 5000

Write = Callable[[list[str]], None]
Span = tuple[datetime, datetime]


@dataclass
class Upkept:
    """What one run rolled up: the new span, the journal's changed hours as spans, and the points."""

    new: Span | None = None
    changed: list[Span] = field(default_factory=list)
    points: int = 0


def day_bucket(site: Site, profile: RulesProfile, t: datetime) -> int:
    """The bucket size a report over whole local days around ``t`` uses (so the upkeep's rollups, written
    an hour at a time, carry the calendar key those reports look for)."""
    tz = site.hours.timezone
    day = t.astimezone(tz).date()
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = datetime.combine(day + timedelta(days=2), datetime.min.time(), tzinfo=tz)
    minutes, _ = windows(site, profile, hours_names(site, profile), start, end)
    return minutes


def roll_up(
    site: Site,
    profile: RulesProfile,
    client: InfluxQLClient,
    write: Write,
    span: Span,
    bucket: int,
    journal: dict[int, int] | None = None,
) -> int:
    """Rewrite the rollups of ``span`` from the readings, a :data:`SLICE` at a time; returns points.
    ``journal``: the change journal as read before (hour ms -> written), kept in the state points."""
    names = hours_names(site, profile)
    points = 0
    a, end = span
    while a < end:
        b = min(end, a + SLICE)
        _, wins = windows(site, profile, names, a, b, bucket)
        key = calendar_key(site, profile, wins, bucket)
        data = load_seat_data(client, site.id, a, b, bucket, len(site.seats))
        lines = rollup_lines(site, data, wins, a, b, bucket, key, journal)
        for i in range(0, len(lines), WRITE_LINES):
            write(lines[i : i + WRITE_LINES])
        points += len(lines)
        a = b
    return points


def _floor(t: datetime, minutes: int) -> datetime:
    step = minutes * 60
    return datetime.fromtimestamp(int(t.timestamp()) // step * step, UTC)


def hour_spans(hours_ms: list[int]) -> list[Span]:
    """Hour starts (epoch ms) -> sorted spans of consecutive hours."""
    out: list[Span] = []
    for ms in sorted(set(hours_ms)):
        t = datetime.fromtimestamp(ms / 1000, UTC)
        if out and out[-1][1] == t:
            out[-1] = (out[-1][0], t + HOUR)
        else:
            out.append((t, t + HOUR))
    return out


def _minus(spans: list[Span], cut: Span | None) -> list[Span]:
    """``spans`` without the part inside ``cut``."""
    if cut is None:
        return spans
    out = []
    for a, b in spans:
        if a < cut[0]:
            out.append((a, min(b, cut[0])))
        if b > cut[1]:
            out.append((max(a, cut[1]), b))
    return out


def read_watermark(client: InfluxQLClient, site: str, key: str) -> tuple[int, datetime] | None:
    """(written ns, through) of the last run for ``site`` and calendar ``key``, or None before the first."""
    q = (
        f"SELECT {quote_ident(Mark.WRITTEN)}, {quote_ident(Mark.THROUGH)} FROM {quote_ident(Mark.NAME)} "
        f"WHERE {quote_ident(Mark.SITE)} = {quote_string(site)} "
        f"AND {quote_ident(Mark.CALENDAR)} = {quote_string(key)}"
    )
    for series in client.query(q):
        _, written, through = series.values[-1]
        return int(written), datetime.fromtimestamp(int(through) / 1000, UTC)
    return None


def _rolled_at(client: InfluxQLClient, site: str, key: str, hours_ms: list[int]) -> dict[int, int]:
    """Hour start (ms) -> the journal value its rollup state recorded, for ``hours_ms``."""
    if not hours_ms:
        return {}
    a, b = min(hours_ms) * 1_000_000, (max(hours_ms) + 3_600_000) * 1_000_000
    q = (
        f"SELECT max({quote_ident(State.JOURNAL)}) FROM {quote_ident(State.NAME)} "
        f"WHERE {quote_ident(State.SITE)} = {quote_string(site)} AND {quote_ident(State.CALENDAR)} = "
        f"{quote_string(key)} AND time >= {a} AND time < {b} GROUP BY time(1h) fill(none)"
    )
    return {int(t): int(v) for s in client.query(q) for t, v in s.values if v is not None}


def upkeep(
    site: Site, profile: RulesProfile, client: InfluxQLClient, write: Write, since: datetime, now: datetime
) -> Upkept:
    """Roll up what is new or changed for ``site``; the first run rolls up everything from ``since``."""
    bucket = day_bucket(site, profile, now)
    hour = _floor(now, 60)  # any whole UTC hour gives the key: it depends on the calendar, not the span
    _, wins = windows(site, profile, hours_names(site, profile), hour, hour + HOUR, bucket)
    key = calendar_key(site, profile, wins, bucket)
    through = _floor(now - SETTLE, bucket)
    mark = read_watermark(client, site.id, key)
    written, previous = mark if mark else (0, since)
    journal = changed_hours(client, site.id, written - int(MARGIN.total_seconds() * 1e9) if mark else 0)
    done = Upkept(new=(previous, through) if previous < through else None)
    if mark:  # the first run rolls up the whole span anyway; older journal entries predate the service
        late = [ms for ms in journal if datetime.fromtimestamp(ms / 1000, UTC) < through]
        seen = _rolled_at(client, site.id, key, [ms for ms in late if journal[ms] <= written])
        late = [ms for ms in late if seen.get(ms) != journal[ms]]
        done.changed = _minus(hour_spans(late), done.new)
    for span in ([done.new] if done.new else []) + done.changed:
        done.points += roll_up(site, profile, client, write, span, bucket, journal)
    newest = max([written, *journal.values()])
    watermark = {Mark.WRITTEN: newest, Mark.THROUGH: int(max(through, previous).timestamp() * 1000)}
    write([line(Mark.NAME, {Mark.SITE: site.id, Mark.CALENDAR: key}, watermark, 0)])
    return done
