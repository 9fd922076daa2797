"""``seatwatch ingest replay DIR``: re-submit batches that were set aside, once their cause is fixed.

``refused/`` holds only points InfluxDB refused as invalid (each file with InfluxDB's reason beside it,
``.why``); after the cause is fixed — a field type conflict resolved by dropping a measurement, a schema
corrected — replay writes them again through the same classification as the live path
(:meth:`ingest.sink.Sink.write_or_set_aside`): what InfluxDB now takes is stored, what it still refuses is
set aside again (with the new reason) in the same folder, and every replayed file is removed. Writes are
idempotent (same series, same timestamp), so replaying twice stores nothing twice. The same works for a
spool folder carried over from another machine. Run it while the ingest that owns the folder is stopped
(or on a copy), so the two do not number files alike.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ingest.health import Metrics
from ingest.sink import Sink
from ingest.spool import Spool
from ingest.writers import Writer


@dataclass(frozen=True)
class ReplayResult:
    files: int  # files replayed and removed
    stored: int  # points InfluxDB took
    refused: int  # points refused again (kept, with the new reason)
    remaining: int  # files not replayed because InfluxDB could not be written (unreachable, credentials)


def replay(folder: Path, writer: Writer, create_database: bool, where: str) -> ReplayResult:
    """Replay every batch in ``folder``, oldest first; stop at the first batch that must wait."""
    source = Spool(folder, 1 << 62)
    metrics = Metrics()
    total, done = len(source), 0
    with tempfile.TemporaryDirectory(prefix="seatwatch-replay-") as unused:
        # Replay writes directly: the sink's own spool is never used, so it lives in a throw-away folder.
        sink = Sink(writer, Spool(Path(unused), 0), source, metrics, lambda _acks: None,
                    create_database=create_database, where=where)  # fmt: skip
        for _ in range(total):
            if not sink.write_or_set_aside(source.peek()):
                break
            source.pop()  # refused points were appended as new files: never replayed twice in one run
            done += 1
    snap = metrics.snapshot()
    return ReplayResult(done, snap["points_written"], snap["refused_points"], total - done)
