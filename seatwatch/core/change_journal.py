"""The change journal: which UTC hours of a site received readings, and when they were written.

InfluxDB keeps no arrival time: a reading's timestamp is its own interval start, so a reading that arrives
three days late looks exactly like one that arrived on time, and finding it again would mean scanning every
hour the database holds. So whoever writes readings also writes, in the same body, one ``seat_changes``
point per site and UTC hour the body touches: tag ``site``, time = the hour's start, integer field
``written`` = the writer's clock (ns) when it wrote the body. Same series and time every time, so there is
one point per site-hour ever (8,760 a year), and each later write into that hour moves its ``written``
forward. The hourly analysis asks for the points whose ``written`` is past its watermark
(:mod:`analysis.compliance.upkeep`): a cost that follows what changed, not what is stored.

Writing the journal in the same body as the readings, at the moment of the write (a body replayed from a
spool gets the replay's clock), means a journal point is never durable before its readings are — nor
later, so a crash cannot leave readings without their mark.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Protocol

from seatwatch.core.influxql import InfluxQLClient, quote_ident, quote_string
from seatwatch.core.line_protocol import line
from seatwatch.core.schema import Light, Noise, SeatChanges, Tag

READINGS = (f"{Noise.NAME},", f"{Light.NAME},")  # the measurements whose changes analysis follows
SITE_TAG = f",{Tag.SITE}="
HOUR_NS = 3600 * 10**9


def touched_hours(lines: Iterable[str]) -> dict[str, set[int]]:
    """Per site, the UTC hour starts (ns) that ``noise`` and ``light`` lines fall in.

    The ``site`` tag is the first ``,site=`` of a line (tags precede fields, and an escaped tag value
    cannot hold it); site ids never hold ``,``, ``=`` or spaces."""
    out: dict[str, set[int]] = {}
    for text in lines:
        if not text.startswith(READINGS):
            continue
        at = text.find(SITE_TAG) + len(SITE_TAG)
        ts = text[text.rfind(" ") + 1 :]
        if at < len(SITE_TAG) or not ts.isdigit():
            continue
        comma, space = text.find(",", at), text.find(" ", at)
        end = space if comma < 0 or space < comma else comma
        out.setdefault(text[at:end], set()).add(int(ts) // HOUR_NS * HOUR_NS)
    return out


def change_lines(lines: Iterable[str], written_ns: int) -> list[str]:
    """The journal points for a body of readings written at ``written_ns``: append them to the same body."""
    return [
        line(SeatChanges.NAME, {SeatChanges.SITE: site}, {SeatChanges.WRITTEN: written_ns}, hour)
        for site, hours in sorted(touched_hours(lines).items())
        for hour in sorted(hours)
    ]


class _Writer(Protocol):
    @property
    def user(self) -> str | None: ...

    def write(self, lines: list[str]) -> None: ...

    def create_database(self) -> None: ...

    def close(self) -> None: ...


class JournalWriter:
    """Any ingest writer (``ingest.writers.Writer``), its bodies carrying their journal points.

    Ingest wraps its writer in one of these, so fresh batches and spool replays alike are journaled at
    the moment they are written (``ingest/command.py``: ``JournalWriter(make_writer(services, api))``)."""

    def __init__(self, writer: _Writer) -> None:
        self.writer = writer

    def __repr__(self) -> str:
        return f"JournalWriter({self.writer!r})"

    @property
    def user(self) -> str | None:
        return self.writer.user

    def write(self, lines: list[str]) -> None:
        self.writer.write([*lines, *change_lines(lines, time.time_ns())])

    def create_database(self) -> None:
        self.writer.create_database()

    def close(self) -> None:
        self.writer.close()


def changed_hours(client: InfluxQLClient, site: str, since_ns: int) -> dict[int, int]:
    """Hour start (epoch ms) -> ``written`` (ns) of the site's hours written after ``since_ns``."""
    field = quote_ident(SeatChanges.WRITTEN)
    q = (
        f"SELECT {field} FROM {quote_ident(SeatChanges.NAME)} "
        f"WHERE {quote_ident(SeatChanges.SITE)} = {quote_string(site)} AND {field} > {int(since_ns)}"
    )
    out: dict[int, int] = {}
    for series in client.query(q):
        for t, written in series.values:
            if written is not None:
                out[int(t)] = int(written)
    return out
