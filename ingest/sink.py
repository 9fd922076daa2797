"""Durable batching: collect points, write them, and acknowledge their messages only once they are safe.

A batch is *durable* when InfluxDB accepted it or when it is fsynced in the :class:`Spool`; only then are
its MQTT messages acknowledged (in the order they arrived, as MQTT requires). The consequences:

- a ``kill -9`` at any moment loses nothing: un-acknowledged messages come back from the broker's
  persistent session, and their points overwrite themselves (same series, same timestamp);
- a database outage fills the spool instead of dropping batches after the last retry; while the spool is
  not empty new batches queue behind it, so replay keeps time order;
- a full spool stops acknowledgements, and the broker (receive maximum, queue) holds the rest.

A batch is flushed when it reaches ``batch_size`` points, when ``linger_s`` has passed since its first
message, or when ``flush_messages`` messages wait for their acks — the broker sends no more than its
in-flight window, so waiting for the linger time with a full window would only stall (DEPENDENCIES.md).
While a write is under way the next batch fills; at twice ``batch_size`` points :meth:`Sink.add` waits, so
memory stays flat however fast the broker delivers (the MQTT thread only queues our acks meanwhile).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ingest.health import Metrics
from ingest.spool import Spool
from ingest.writers import Writer
from seatwatch.line_protocol import WriteError

log = logging.getLogger("seatwatch.ingest")


@dataclass
class Batch:
    lines: list[str] = field(default_factory=list)
    acks: list[Any] = field(default_factory=list)  # opaque tokens handed back to ``acknowledge``
    readings: int = 0
    newest_ms: int = 0
    started: float = 0.0


@dataclass(frozen=True)
class Retry:
    """Backoff for the live path (before spooling) and for replaying the spool."""

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
    ) -> None:
        self.writer = writer
        self.spool = spool
        self.refused = refused
        self.metrics = metrics
        self.acknowledge = acknowledge
        self.batch_size = batch_size
        self.linger_s = linger_s
        self.flush_messages = flush_messages
        self.retry = retry
        self._pending = Batch()
        self._ready = threading.Condition()
        self._closed = False
        self._next_replay = 0.0
        self._replay_delay = retry.first_s
        self._update_spool_gauges()

    # -- called from the MQTT thread -------------------------------------------------------------
    def add(self, lines: list[str], ack: Any, readings: int = 0, newest_ms: int = 0) -> None:
        with self._ready:
            while len(self._pending.lines) >= 2 * self.batch_size and not self._closed:
                self._ready.wait(0.5)
            batch = self._pending
            if not batch.acks:
                batch.started = time.monotonic()
            batch.lines.extend(lines)
            batch.acks.append(ack)
            batch.readings += readings
            batch.newest_ms = max(batch.newest_ms, newest_ms)
            if len(batch.lines) >= self.batch_size or len(batch.acks) >= self.flush_messages:
                self._ready.notify()

    # -- the writer thread -----------------------------------------------------------------------
    def run(self, stop: threading.Event) -> None:
        """Write until ``stop`` is set, then flush what is pending (its acks go out if durable in time)."""
        while not stop.is_set():
            batch = self._take(stop)
            if batch is not None:
                self._store(batch, stop)
            self._replay(stop)
        with self._ready:
            batch, self._pending = self._pending, Batch()
            self._closed = True  # from now on nothing is acknowledged: add() must not wait for room
            self._ready.notify_all()
        if batch.acks:
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
        if not batch.acks:
            return self.linger_s
        if len(batch.lines) >= self.batch_size or len(batch.acks) >= self.flush_messages:
            return 0.0
        return batch.started + self.linger_s - time.monotonic()

    def _store(self, batch: Batch, stop: threading.Event) -> None:
        durable = False
        if batch.lines and not len(self.spool):
            durable = self._write_with_retries(batch)
        elif not batch.lines:
            durable = True
        if not durable:
            durable = self._spool(batch, stop)
        if durable:
            self.acknowledge(batch.acks)
            self.metrics.readings.inc(batch.readings)
            if batch.newest_ms:
                self.metrics.lag.set(max(0.0, time.time() - batch.newest_ms / 1000))

    def _write_with_retries(self, batch: Batch) -> bool:
        delay = self.retry.first_s
        for attempt in range(1, self.retry.attempts + 1):
            try:
                self.writer.write(batch.lines)
            except WriteError as exc:
                self.metrics.write_errors.inc()
                if not exc.retryable:
                    self._keep_refused(batch.lines, exc)
                    return True
                log.warning("write attempt %d/%d failed: %s", attempt, self.retry.attempts, exc)
                if attempt < self.retry.attempts:
                    time.sleep(delay)
                    delay = min(delay * 2, self.retry.max_s)
                continue
            self.metrics.points.inc(len(batch.lines))
            return True
        return False

    def _spool(self, batch: Batch, stop: threading.Event) -> bool:
        """Put a batch in the spool, replaying first while it is full; False if stopped before it fit."""
        size = sum(len(x) + 1 for x in batch.lines)
        while not self.spool.has_room(size):
            if stop.is_set():
                log.warning("stopping with a full spool: %d messages stay with the broker", len(batch.acks))
                return False
            log.warning(
                "spool full (%d bytes): holding acknowledgements until InfluxDB is back", self.spool.bytes
            )
            self._next_replay = min(self._next_replay, time.monotonic() + self._replay_delay)
            time.sleep(max(0.0, self._next_replay - time.monotonic()))
            self._replay(stop)
        self.spool.push(batch.lines)
        self._update_spool_gauges()
        return True

    def _replay(self, stop: threading.Event) -> None:
        """Write spooled batches oldest first while InfluxDB takes them; back off when it does not."""
        while len(self.spool) and not stop.is_set() and time.monotonic() >= self._next_replay:
            lines = self.spool.peek()
            try:
                self.writer.write(lines)
            except WriteError as exc:
                self.metrics.write_errors.inc()
                if exc.retryable:
                    log.warning("spool replay waits %.1f s: %s", self._replay_delay, exc)
                    self._next_replay = time.monotonic() + self._replay_delay
                    self._replay_delay = min(self._replay_delay * 2, self.retry.max_s)
                    return
                self._keep_refused(lines, exc)
            else:
                self.metrics.points.inc(len(lines))
            self.spool.pop()
            self._replay_delay = self.retry.first_s
            self._update_spool_gauges()
            with self._ready:
                if self._due_in(self._pending) <= 0:
                    return  # let fresh messages be acknowledged between replayed batches

    def _keep_refused(self, lines: list[str], exc: WriteError) -> None:
        """InfluxDB refused the data itself (4xx): retrying cannot help, so keep it aside, loudly."""
        self.refused.push(lines)
        self.metrics.refused_batches.inc()
        log.error(
            "InfluxDB refused a batch of %d points; kept in %s: %s", len(lines), self.refused.folder, exc
        )

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_batches.set(len(self.spool))
        self.metrics.spool_bytes.set(self.spool.bytes)
        self.metrics.spool_age.set(self.spool.oldest_age_s())
