"""Durable batching: collect points, write them, and acknowledge their messages only once they are safe.

A batch is *durable* when InfluxDB accepted it or when it is fsynced in the :class:`Spool`; only then are
its MQTT messages acknowledged (in the order they arrived, as MQTT requires) and its bridge batches
confirmed end to end. The guarantees, each tested in tests/test_ingest_sink.py and the fault tests:

- a ``kill -9`` at any moment loses nothing: un-acknowledged messages come back from the broker's
  persistent session (and bridges resend unconfirmed batches), and their points overwrite themselves
  (same series, same timestamp);
- every answer of InfluxDB is classified (:attr:`seatwatch.core.line_protocol.WriteError.kind`):
  an outage (no answer, 5xx, 429) spools the batch and replays it later; a missing database is created,
  as Telegraf does (``influx_create_database = false`` turns that off), or else waited for; refused
  credentials (401/403) are waited for; a batch with invalid points (400) or too large a body (413) is
  split in halves until the bad points are alone, the good ones are stored, and only the points InfluxDB
  refused as invalid are set aside in ``refused/``, each file with InfluxDB's reason beside it
  (``seatwatch ingest replay`` re-submits them once the cause is fixed). Nothing else reaches ``refused/``;
- while the spool is not empty new batches queue behind it, so replay keeps time order;
- a full spool (its bound, or a full disk) holds acknowledgements: the batch stays in memory, the broker
  holds the rest (receive maximum, queue), the problem is logged once a minute and the service status says
  ``degraded``; every few seconds (backing off to ``Retry.max_s``) the sink tries InfluxDB and the spool
  again. A batch larger than the spool's bound is split by message so that its parts fit;
- nothing here busy-loops: every wait is on the stop event or the batch condition, with a timeout.

A batch is flushed when it reaches ``batch_size`` points, when ``linger_s`` has passed since its first
message, or when ``flush_messages`` messages wait for their acks — the broker sends no more than its
in-flight window, so waiting for the linger time with a full window would only stall (docs/dependencies.md).
While a write is under way the next batch fills; at twice ``batch_size`` points :meth:`Sink.add` waits, so
memory stays flat however fast the broker delivers (the MQTT thread only queues our acks meanwhile).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ingest.health import Metrics
from ingest.spool import Spool
from ingest.writers import Writer
from seatwatch.core.line_protocol import WriteError
from seatwatch.core.throttled_log import ThrottledLog

log = logging.getLogger("seatwatch.ingest")


@dataclass(frozen=True, slots=True)
class Message:
    """One MQTT message's share of a batch: its ack token, how many lines and readings it gave."""

    ack: Any  # opaque token handed back to ``acknowledge``
    lines: int
    readings: int


@dataclass
class Batch:
    lines: list[str] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    newest_ms: int = 0
    started: float = 0.0

    @property
    def acks(self) -> list[Any]:
        return [m.ack for m in self.messages]

    @property
    def readings(self) -> int:
        return sum(m.readings for m in self.messages)

    def size(self) -> int:
        """Bytes the batch takes in the spool."""
        return sum(len(x) + 1 for x in self.lines)

    def split(self, max_bytes: int) -> list[Batch]:
        """Consecutive parts of whole messages, each at most ``max_bytes`` (a single larger message alone)."""
        parts: list[Batch] = []
        current, current_bytes, start = Batch(newest_ms=self.newest_ms), 0, 0
        for message in self.messages:
            lines = self.lines[start : start + message.lines]
            start += message.lines
            size = sum(len(x) + 1 for x in lines)
            if current.messages and current_bytes + size > max_bytes:
                parts.append(current)
                current, current_bytes = Batch(newest_ms=self.newest_ms), 0
            current.lines.extend(lines)
            current.messages.append(message)
            current_bytes += size
        if current.messages:
            parts.append(current)
        return parts


@dataclass(frozen=True)
class Retry:
    """Backoff for the live path (before spooling), for replaying the spool and while holding."""

    attempts: int = 3
    first_s: float = 0.2
    max_s: float = 10.0


class Sink:
    def __init__(
        self,
        writer: Writer,
        spool: Spool,
        refused: Spool,
        metrics: Metrics,
        acknowledge: Callable[[list[Any]], None],
        batch_size: int = 5000,
        linger_s: float = 0.2,
        flush_messages: int = 500,
        retry: Retry = Retry(),
        create_database: bool = True,
        where: str = "",
    ) -> None:
        """``where`` names the database for messages (URL and database; never a password)."""
        self.writer = writer
        self.spool = spool
        self.refused = refused
        self.metrics = metrics
        self.acknowledge = acknowledge
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.flush_messages = flush_messages
        self.retry = retry
        self.create_database = create_database
        self.where = where or repr(writer)
        self._pending = Batch()
        self._in_hand: Batch | None = None  # taken from _pending, not yet durable
        self._ready = threading.Condition()
        self._closed = False
        self._next_replay = 0.0
        self._replay_delay = retry.first_s
        self._last_kind = ""  # WriteError.kind of the last failed write
        self._database = ThrottledLog(log)  # InfluxDB does not take our writes, and why
        self._holding = ThrottledLog(log)  # the spool cannot take a batch: acknowledgements wait
        self._refusals = ThrottledLog(log)
        self._update_spool_gauges()

    @property
    def problem(self) -> str:
        """Why nothing can be made durable right now ("" when all is well): the status's reason."""
        return self._holding.active

    # -- called from the MQTT thread -------------------------------------------------------------
    def add(self, lines: list[str], ack: Any, readings: int = 0, newest_ms: int = 0) -> None:
        with self._ready:
            while len(self._pending.lines) >= 2 * self.batch_size and not self._closed:
                self._ready.wait(0.5)
            batch = self._pending
            if not batch.messages:
                batch.started = time.monotonic()
            batch.lines.extend(lines)
            batch.messages.append(Message(ack, len(lines), readings))
            batch.newest_ms = max(batch.newest_ms, newest_ms)
            if len(batch.lines) >= self.batch_size or len(batch.messages) >= self.flush_messages:
                self._ready.notify()

    # -- the writer thread -----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Write until ``stop`` is set, then flush what is pending (its acks go out if durable in time).

        Run under a supervisor: should anything here raise, the batch in hand is kept (``_in_hand``) and
        stored first when the supervisor runs this again, so its messages are neither lost nor stuck
        unacknowledged inside the broker's in-flight window."""
        while not stop.is_set():
            batch = self._in_hand or self._take(stop)
            if batch is not None:
                self._in_hand = batch
                self._store(batch, stop)
                self._in_hand = None
            self._replay(stop)
        with self._ready:
            batch, self._pending = self._pending, Batch()
            self._closed = True  # from now on nothing is acknowledged: add() must not wait for room
            self._ready.notify_all()
        if self._in_hand is not None:
            self._store(self._in_hand, stop)
        if batch.messages:
            self._store(batch, stop)

    def _take(self, stop: threading.Event) -> Batch | None:
        with self._ready:
            while not stop.is_set():
                due = self._due_in(self._pending)
                if due <= 0:
                    batch, self._pending = self._pending, Batch()
                    self._ready.notify_all()
                    return batch
                if len(self.spool) and time.monotonic() >= self._next_replay:
                    return None
                self._ready.wait(min(due, 0.5))
                self.metrics.spool_age.set(self.spool.oldest_age_s())
        return None

    def _due_in(self, batch: Batch) -> float:
        """Seconds until ``batch`` must be written (<= 0: now); call with the lock held."""
        if not batch.messages:
            return self.linger_s
        if len(batch.lines) >= self.batch_size or len(batch.messages) >= self.flush_messages:
            return 0.0
        return batch.started + self.linger_s - time.monotonic()

    def _store(self, batch: Batch, stop: threading.Event) -> None:
        """Make ``batch`` durable part by part and acknowledge each part; stop leaves the rest unacked."""
        limit = max(1, self.spool.max_bytes // 2)
        parts = batch.split(limit) if batch.size() > limit else [batch]
        for part in parts:
            if not self._make_durable(part, stop):
                return
            self._holding.resolved("batches are durable again: acknowledging")
            self.acknowledge(part.acks)
            self.metrics.readings.inc(part.readings)
            if part.newest_ms:
                self.metrics.lag.set(max(0.0, time.time() - part.newest_ms / 1000))

    def _make_durable(self, batch: Batch, stop: threading.Event) -> bool:
        """Write or spool ``batch``; hold it (backpressure) while neither works. False only when stopped."""
        if not batch.lines:
            return True
        if not len(self.spool) and self._write_live(batch.lines):
            return True
        delay = self.retry.first_s
        while True:
            if self._push(batch.lines):
                return True
            if stop.is_set():
                log.warning(
                    "stopping while holding %d messages: they stay with the broker", len(batch.messages)
                )
                return False
            stop.wait(delay)
            delay = min(delay * 2, self.retry.max_s)
            self._replay(stop, force=True)
            if not len(self.spool) and self._write(batch.lines):
                return True

    def _write_live(self, lines: list[str]) -> bool:
        """A few quick attempts while the database may only be blinking; then the spool takes over."""
        delay = self.retry.first_s
        for attempt in range(1, self.retry.attempts + 1):
            if self._write(lines):
                return True
            if attempt < self.retry.attempts and self._last_kind == "unreachable":
                time.sleep(delay)
                delay = min(delay * 2, self.retry.max_s)
            else:
                return False
        return False

    def write_or_set_aside(self, lines: list[str]) -> bool:
        """Write ``lines`` now, classifying InfluxDB's answer as the live path does: True when every line
        is stored or set aside in ``refused`` as invalid, False when the write must wait (the reason is
        logged). ``seatwatch ingest replay`` uses this to re-submit refused batches."""
        return self._write(lines)

    def _write(self, lines: list[str], may_create: bool = True) -> bool:
        """True when every line is stored or set aside as invalid; False when the batch must wait."""
        try:
            self.writer.write(lines)
        except WriteError as exc:
            self.metrics.write_errors.inc()
            self._last_kind = kind = exc.kind
            if kind == "missing_database" and may_create and self._create_database(exc):
                return self._write(lines, may_create=False)
            if kind in ("bad_data", "too_large"):
                return self._isolate(lines, exc)
            self._database.problem(self._explain(exc), key=kind)
            return False
        self.metrics.points.inc(len(lines))
        self._database.resolved(f"InfluxDB {self.where} takes writes again")
        return True

    def _explain(self, exc: WriteError) -> str:
        """One clear line for a write that must wait: what InfluxDB said, what is done, what to check."""
        user = f" as user {self.writer.user!r}" if self.writer.user else ""
        kept = "readings are kept (spool, or held at the broker) and retried"
        if exc.kind == "unauthorized":
            return (
                f"InfluxDB {self.where} refused our credentials{user}: {exc}; {kept}; check "
                "SEATWATCH_INFLUX_TOKEN / influx_token_file (on InfluxDB 1.x: user:password)"
            )
        if exc.kind == "missing_database":
            how = "creating it was refused" if self.create_database else "influx_create_database is off"
            return f"{exc} ({how}); {kept} until the database exists ('CREATE DATABASE' as an admin)"
        return f"{exc}; {kept}"

    def _create_database(self, exc: WriteError) -> bool:
        if not self.create_database:
            return False
        try:
            self.writer.create_database()
        except WriteError as refusal:
            self._database.problem(
                f"{exc}; creating it failed: {refusal}; readings are kept and retried until it exists",
                key="missing_database",
            )
            return False
        log.warning("InfluxDB %s had no such database: created it", self.where)
        return True

    def _isolate(self, lines: list[str], exc: WriteError) -> bool:
        """Split a refused batch until each invalid point is alone; store the rest (idempotent rewrites)."""
        if len(lines) == 1:
            return self._keep_refused(lines, exc)
        middle = len(lines) // 2
        return self._write(lines[:middle]) and self._write(lines[middle:])

    def _push(self, lines: list[str]) -> bool:
        size = sum(len(x) + 1 for x in lines)
        if not self.spool.has_room(size):
            self._holding.problem(
                f"spool {self.spool.folder} is full "
                f"({self.spool.stored_bytes} of {self.spool.max_bytes} bytes): "
                "holding acknowledgements until InfluxDB takes the spooled batches",
                logging.WARNING,
                key="spool full",
            )
            return False
        try:
            self.spool.push(lines)
        except OSError as exc:
            self._holding.problem(
                f"cannot write the spool in {self.spool.folder}: {exc.strerror or exc}: holding "
                "acknowledgements (the broker keeps the readings) until there is room or InfluxDB is back",
                key="spool disk",
            )
            return False
        self._holding.resolved(f"spool {self.spool.folder} takes batches again")
        self._update_spool_gauges()
        return True

    def _replay(self, stop: threading.Event, force: bool = False) -> None:
        """Write spooled batches oldest first while InfluxDB takes them; back off when it does not."""
        while len(self.spool) and not stop.is_set() and (force or time.monotonic() >= self._next_replay):
            force = False
            try:
                lines = self.spool.peek()
            except (OSError, UnicodeDecodeError) as exc:
                self._database.problem(
                    f"cannot read the spool in {self.spool.folder}: {exc}", key="spool read"
                )
                self._next_replay = time.monotonic() + self.retry.max_s
                return
            if not self._write(lines):
                self._next_replay = time.monotonic() + self._replay_delay
                self._replay_delay = min(self._replay_delay * 2, self.retry.max_s)
                return
            self.spool.pop()
            self._replay_delay = self.retry.first_s
            self._update_spool_gauges()
            with self._ready:
                if self._due_in(self._pending) <= 0:
                    return  # let fresh messages be acknowledged between replayed batches

    def _keep_refused(self, lines: list[str], exc: WriteError) -> bool:
        """InfluxDB refused these points as invalid: keep them aside with its reason, loudly. False when
        even that is impossible (a full disk): the batch then waits like any other."""
        note = {
            "status": exc.status,
            "reason": exc.detail,
            "refused_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "influxdb": self.where,
        }
        try:
            self.refused.push(lines, note=json.dumps(note, sort_keys=True))
        except OSError as exc_disk:
            self._holding.problem(
                f"cannot keep refused points in {self.refused.folder}: {exc_disk.strerror or exc_disk}",
                key="refused disk",
            )
            return False
        self.metrics.refused_points.inc(len(lines))
        self.metrics.refused_batches.inc()
        self._update_spool_gauges()
        self._refusals.problem(
            f"InfluxDB refused {len(lines)} point(s) as invalid; kept in {self.refused.folder} "
            f"('seatwatch ingest replay' re-submits them): {exc.detail[:300]}",
            key=exc.detail[:60],
        )
        return True

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_batches.set(len(self.spool))
        self.metrics.spool_bytes.set(self.spool.stored_bytes)
        self.metrics.spool_age.set(self.spool.oldest_age_s())
        self.metrics.refused_files.set(len(self.refused))
